"""Run the guidance comparison: every arm x seed from one shared warm start, resumable.

Each run is :func:`smepo_env.training.grpo.train_agent` with the comparison's settings
(:mod:`smepo_env.experiments.setup`), the arm's guidance mode and schedule
(:mod:`smepo_env.experiments.arms`) and its seed, in ``<output_dir>/runs/<arm>/seed-<seed>``.
Runs are played one after another, arm-major per seed (every arm's seed 0, then seed 1, ...),
so that a comparison stopped early has all arms at the same number of seeds. Resuming:

* a run whose ``summary.json`` says it reached ``max_steps`` is finished and skipped;
* a run with a complete checkpoint continues from it (the trainer's ``--resume``);
* anything else starts fresh (the trainer clears stale files).

Every run starts from the same model and is evaluated on the same held-out questions before its
first step (unguided, greedy), so the first run saves that evaluation to ``heldout-before.json``
and the others reuse it (:mod:`smepo_env.training.heldout_reuse`; the trainer checks that the
model and the evaluation settings are the same and evaluates afresh if not).

Each run trains in its own fresh process (:func:`train_run`; see
:mod:`smepo_env.training.fresh_process`): with the 15 runs in one process, that process reached
18.8 GB maximum resident, against 10.0 GB for one run alone.

After every run the results (``results.json``, ``table.md``, ``heldout.png``,
``diagnostics.png``; see :mod:`smepo_env.experiments.report`) are rewritten from every run's
``metrics.jsonl``, so they are current while the comparison is still going.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smepo_env.experiments.arms import Arm, parse_arm
from smepo_env.experiments.report import (
    plot_diagnostics,
    plot_heldout,
    render_table,
    run_curves,
    summary_table,
)
from smepo_env.experiments.setup import ComparisonSettings, shared_warmstart
from smepo_env.files import atomic_file

RESULTS_FILE = "results.json"
HELDOUT_BEFORE_FILE = "heldout-before.json"
"""The start model's held-out evaluation, played by the first run and reused by the others."""


def run_dir(output_dir: str | Path, arm: Arm, seed: int) -> Path:
    """Where the run of ``arm`` with ``seed`` writes its checkpoints and metrics."""
    return Path(output_dir) / "runs" / arm.name / f"seed-{seed}"


def run_state(directory: Path, max_steps: int) -> str:
    """``"finished"``, ``"resumable"`` (a complete checkpoint) or ``"fresh"``."""
    from smepo_env.training.checkpoints import last_complete_checkpoint

    summary = directory / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("steps") == max_steps:
        return "finished"
    return "resumable" if last_complete_checkpoint(directory) is not None else "fresh"


def trainer_argv(
    settings: ComparisonSettings,
    arm: Arm,
    seed: int,
    model: str,
    directory: Path,
    resume: bool,
    heldout_before_file: Path | None = None,
) -> list[str]:
    """The trainer's command line for one run (``heldout_before_file``: see the module docstring)."""
    argv = [
        "--model", model, "--output_dir", str(directory), "--seed", str(seed),
        *arm.trainer_options(), *settings.trainer_options(),
    ]  # fmt: skip
    if heldout_before_file is not None:
        argv += ["--heldout_before_file", str(heldout_before_file)]
    return [*argv, "--resume"] if resume else argv


def train_run(argv: Sequence[str]) -> None:
    """Train one run from its trainer command line, in a fresh process (the default runner)."""
    from smepo_env.training.fresh_process import call_in_fresh_process

    call_in_fresh_process(_train_from_argv, list(argv))


def _train_from_argv(argv: list[str]) -> None:
    from smepo_env.training.config import parse_arguments
    from smepo_env.training.grpo import train_agent

    train_agent(*parse_arguments(argv))


def collect_runs(
    output_dir: str | Path, arms: Sequence[Arm], seeds: Sequence[int], max_steps: int
) -> list[dict]:
    """Every run's entry for ``results.json`` (runs not started yet are left out)."""
    runs = []
    for arm in arms:
        for seed in seeds:
            directory = run_dir(output_dir, arm, seed)
            if not (directory / "metrics.jsonl").is_file():
                continue
            summary_path = directory / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
            runs.append(
                {
                    "arm": arm.name,
                    "mode": arm.mode,
                    "schedule": arm.schedule,
                    "seed": seed,
                    "finished": summary.get("steps") == max_steps,
                    "seconds": summary.get("seconds"),
                    "output_dir": str(directory),
                    **run_curves(directory / "metrics.jsonl"),
                }
            )
    return runs


def write_results(
    output_dir: str | Path,
    arms: Sequence[Arm],
    seeds: Sequence[int],
    settings: ComparisonSettings,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Rewrite ``results.json``, ``table.md`` and both plots from the runs on disk."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [arm.name for arm in arms]
    runs = collect_runs(out, arms, seeds, settings.max_steps)
    table = summary_table(runs, names, questions=settings.num_eval_tasks)
    results = {
        "settings": settings.as_dict(),
        "arms": names,
        "seeds": list(seeds),
        **(extra or {}),
        "runs": runs,
        "table": table,
    }
    with atomic_file(out / RESULTS_FILE) as handle:
        handle.write(json.dumps(results, indent=1) + "\n")
    with atomic_file(out / "table.md") as handle:
        handle.write(render_table(table))
    if runs:
        plot_heldout(runs, names, out / "heldout.png")
        plot_diagnostics(runs, names, out / "diagnostics.png")
    return results


def run_comparison(
    output_dir: str | Path,
    settings: ComparisonSettings,
    arm_names: Sequence[str],
    seeds: Sequence[int],
    *,
    model: str,
    warm_start: bool = True,
    log: Any = print,
    run_trainer: Callable[[list[str]], None] = train_run,
) -> dict[str, Any]:
    """Run (or resume) every arm x seed and write the results; see the module docstring.

    Args:
        output_dir: where the runs and the results go.
        settings: the shared trainer settings.
        arm_names: arm names (``none``, ``masked-on_failure``, ...).
        seeds: training seeds (the held-out questions are the same for every seed).
        model: the base model (alias, directory or hub id).
        warm_start: start every run from the shared default warm start of ``model``
            (:func:`~smepo_env.experiments.setup.shared_warmstart`); ``False``: from ``model``.
        log: where progress lines go (the runs' own lines go to stdout, from their processes).
        run_trainer: trains one run from its trainer command line (:func:`trainer_argv`);
            the default, :func:`train_run`, in a fresh process.

    Returns:
        The contents of ``results.json``.

    Raises:
        ValueError: an unknown arm (naming the valid modes and schedules), no arm or seed, or a
            repeated one.
    """
    from smepo_env.training.config import parse_arguments

    arms = [parse_arm(name) for name in arm_names]
    if not arms or not seeds:
        raise ValueError(
            f"need at least one arm and one seed, got arms={list(arm_names)}, seeds={list(seeds)}"
        )
    for kind, values in (("arm", [a.name for a in arms]), ("seed", list(seeds))):
        if len(set(values)) != len(values):
            raise ValueError(f"each {kind} once, got {values}")
    start_model = str(shared_warmstart(model, settings, log=log)) if warm_start else model
    extra = {"model": model, "start_model": start_model}
    # Parse every run's options before the first one trains: a bad setting fails in seconds.
    for arm in arms:
        parse_arguments(
            trainer_argv(settings, arm, seeds[0], start_model, run_dir(output_dir, arm, 0), False)
        )
    shared_before = Path(output_dir) / HELDOUT_BEFORE_FILE
    started = time.perf_counter()
    for seed in seeds:
        for arm in arms:
            directory = run_dir(output_dir, arm, seed)
            state = run_state(directory, settings.max_steps)
            if state == "finished":
                log(f"[compare] {arm.name} seed {seed}: finished, skipped")
                continue
            log(f"[compare] {arm.name} seed {seed}: {'resuming' if state == 'resumable' else 'starting'}")
            resume = state == "resumable"
            argv = trainer_argv(settings, arm, seed, start_model, directory, resume, shared_before)
            run_trainer(argv)
            write_results(output_dir, arms, seeds, settings, extra)
            log(f"[compare] {arm.name} seed {seed} done; {time.perf_counter() - started:.0f} s so far")
    return write_results(output_dir, arms, seeds, settings, extra)


def report_runs_on_disk(
    output_dir: str | Path,
    settings: ComparisonSettings,
    arm_names: Sequence[str],
    seeds: Sequence[int],
    *,
    model: str,
) -> dict[str, Any]:
    """Rewrite the results from the runs already in ``output_dir``, training nothing.

    Runs not started are left out, as while the comparison is going; the start model is taken
    from the previous ``results.json`` when there is one.

    Raises:
        ValueError: an unknown arm, or no run of these arms and seeds on disk.
    """
    arms = [parse_arm(name) for name in arm_names]
    previous = Path(output_dir) / RESULTS_FILE
    extra: dict[str, Any] = {"model": model}
    if previous.is_file():
        extra["start_model"] = json.loads(previous.read_text()).get("start_model")
    if not collect_runs(output_dir, arms, seeds, settings.max_steps):
        names, where = [a.name for a in arms], Path(output_dir) / "runs"
        raise ValueError(f"no runs of arms {names} with seeds {list(seeds)} under {where}")
    return write_results(output_dir, arms, seeds, settings, extra)
