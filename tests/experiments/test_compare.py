"""The comparison runner: arms, settings, resumable orchestration, and the --quick smoke run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smepo_env.errors import ChoiceError
from smepo_env.experiments import compare
from smepo_env.experiments.arms import DEFAULT_ARMS, Arm, parse_arm
from smepo_env.experiments.cli import make_parser, settings_from
from smepo_env.experiments.setup import FULL_SETTINGS, QUICK_SETTINGS

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "agents" / "compare_guidance.py"


def test_arm_names():
    assert parse_arm("masked") == Arm("masked", "masked", "always")
    assert parse_arm("masked-on_failure") == Arm("masked-on_failure", "masked", "on_failure")
    assert parse_arm("full-always") == Arm("full", "full", "always")
    assert parse_arm("prefix").trainer_options() == [
        "--expert_guidance",
        "prefix",
        "--guidance_schedule",
        "always",
    ]
    assert [parse_arm(a).name for a in DEFAULT_ARMS] == list(DEFAULT_ARMS)
    with pytest.raises(ChoiceError, match="Did you mean 'masked'"):
        parse_arm("maskd")
    with pytest.raises(ChoiceError, match="Did you mean 'anneal'"):
        parse_arm("masked-aneal")
    with pytest.raises(ValueError, match="'none' arm has no guidance"):
        parse_arm("none-on_failure")


def test_every_setting_is_an_option_and_every_run_parses_as_trainer_options(tmp_path):
    from smepo_env.training.config import parse_arguments

    args = make_parser().parse_args(
        ["--quick", "--max_steps", "5", "--learning_rate", "1e-6", "--trainer_args", "--beta 0.1"]
    )
    settings = settings_from(args)
    assert (
        settings.max_steps == 5
        and settings.learning_rate == 1e-6
        and settings.extra_args == ("--beta", "0.1")
    )
    assert settings.num_eval_tasks == QUICK_SETTINGS.num_eval_tasks
    assert settings_from(make_parser().parse_args([])) == FULL_SETTINGS
    shared = tmp_path / "heldout-before.json"
    argv = compare.trainer_argv(settings, parse_arm("masked-anneal"), 3, "m", tmp_path / "r", True, shared)
    agent_args, grpo = parse_arguments(argv)
    assert agent_args.heldout_before_file == str(shared)
    assert (agent_args.expert_guidance, agent_args.guidance_schedule) == ("masked", "anneal")
    assert agent_args.question_type_list() == ["two-hop", "three-hop"] and agent_args.eval_split == "test"
    assert (
        agent_args.resume and not agent_args.sft_warmstart and agent_args.extra_env_kwargs() == {"top_k": 3}
    )
    assert (grpo.seed, grpo.max_steps, grpo.learning_rate, grpo.beta) == (3, 5, 1e-6, 0.1)
    assert grpo.per_device_train_batch_size == 1  # one episode per pass, the step's accumulated
    assert grpo.gradient_accumulation_steps == settings.prompts_per_step * settings.num_generations


def _fake_trainer(calls):
    """Stands in for a run's trainer: records its options, writes what a finished run writes."""
    from smepo_env.training.config import parse_arguments

    def run_trainer(argv):
        agent_args, grpo_config = parse_arguments(argv)
        out = Path(grpo_config.output_dir)
        calls.append((out.parent.name, out.name, agent_args.resume))
        out.mkdir(parents=True, exist_ok=True)
        seed = grpo_config.seed
        lines = [{"step": 0, "heldout/success": 0.1}]
        lines += [{"step": s, "loss": 0.0, "reward": 0.5, "guidance/guided_share": 1.0} for s in (1, 2)]
        lines += [{"step": 2, "heldout/success": 0.2 + 0.1 * seed}]
        (out / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
        (out / "summary.json").write_text(json.dumps({"steps": grpo_config.max_steps, "seconds": 1.0}))

    return run_trainer


def _complete_checkpoint(folder: Path) -> None:
    from smepo_env.training.checkpoints import COMPLETE_MARKER, REQUIRED_FILES

    folder.mkdir(parents=True)
    for name in (*REQUIRED_FILES, COMPLETE_MARKER, "model.safetensors", "rng_state.pth"):
        (folder / name).write_text("{}")


def test_finished_runs_are_skipped_and_killed_runs_resume(tmp_path):
    calls: list[tuple[str, str, bool]] = []
    arms, seeds = ["none", "masked-on_failure"], [0, 1]
    quiet = {"model": "m", "warm_start": False, "log": lambda *_: None, "run_trainer": _fake_trainer(calls)}
    compare.run_comparison(tmp_path, QUICK_SETTINGS, arms, seeds, **quiet)
    assert calls == [("none", "seed-0", False), ("masked-on_failure", "seed-0", False),
                     ("none", "seed-1", False), ("masked-on_failure", "seed-1", False)]  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())
    assert [(r["arm"], r["seed"]) for r in results["runs"]] == [
        ("none", 0), ("none", 1), ("masked-on_failure", 0), ("masked-on_failure", 1)
    ]  # fmt: skip
    assert results["runs"][1]["heldout"] == [
        {"step": 0, "success": 0.1},
        {"step": 2, "success": pytest.approx(0.3)},
    ]
    assert {r["arm"]: r["final_mean"] for r in results["table"]} == pytest.approx(
        {"none": 0.25, "masked-on_failure": 0.25}
    )
    for name in ("table.md", "heldout.png", "diagnostics.png"):
        assert (tmp_path / name).stat().st_size > 0

    # A run killed after its first checkpoint: no summary, a complete checkpoint-1.
    killed = compare.run_dir(tmp_path, parse_arm("masked-on_failure"), 1)
    (killed / "summary.json").unlink()
    _complete_checkpoint(killed / "checkpoint-1")
    # A run killed before any checkpoint: starts again.
    fresh = compare.run_dir(tmp_path, parse_arm("none"), 1)
    (fresh / "summary.json").unlink()
    calls.clear()
    compare.run_comparison(tmp_path, QUICK_SETTINGS, arms, seeds, **quiet)
    assert calls == [("none", "seed-1", False), ("masked-on_failure", "seed-1", True)]


def test_report_only_rewrites_the_results_from_the_runs_on_disk_without_training(tmp_path):
    calls: list[tuple[str, str, bool]] = []
    quiet = {"model": "m", "warm_start": False, "log": lambda *_: None, "run_trainer": _fake_trainer(calls)}
    compare.run_comparison(tmp_path, QUICK_SETTINGS, ["none"], [0], **quiet)
    (tmp_path / "table.md").unlink()
    calls.clear()
    results = compare.report_runs_on_disk(tmp_path, QUICK_SETTINGS, ["none", "masked"], [0, 1], model="m")
    assert calls == []  # nothing trained, the masked arm and seed 1 are simply absent
    assert [(r["arm"], r["seed"]) for r in results["runs"]] == [("none", 0)]
    assert results["start_model"] == "m" and (tmp_path / "table.md").is_file()
    with pytest.raises(ValueError, match=r"no runs of arms \['full'\] with seeds \[0\]"):
        compare.report_runs_on_disk(tmp_path, QUICK_SETTINGS, ["full"], [0], model="m")
    command = [sys.executable, str(SCRIPT), "--report_only", "--output_dir", str(tmp_path), "--arms", "full"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "compare_guidance.py: error: no runs of arms ['full']" in result.stderr


def test_the_default_runner_trains_each_run_in_a_fresh_process(tmp_path, monkeypatch):
    import smepo_env.training.fresh_process as fresh_process

    spawned = []
    monkeypatch.setattr(
        fresh_process, "call_in_fresh_process", lambda function, *args: spawned.append((function, args))
    )
    argv = compare.trainer_argv(QUICK_SETTINGS, parse_arm("masked"), 0, "m", tmp_path / "r", False)
    compare.train_run(argv)
    assert spawned == [(compare._train_from_argv, (argv,))]
    # what the child calls: the trainer on the parsed command line
    import smepo_env.training.grpo as grpo

    seen = []
    monkeypatch.setattr(grpo, "train_agent", lambda agent, config: seen.append(config.output_dir))
    compare._train_from_argv(argv)
    assert seen == [str(tmp_path / "r")]


def test_bad_arms_and_seeds_fail_before_any_training(tmp_path):
    with pytest.raises(ChoiceError, match="Did you mean 'full'"):
        compare.run_comparison(tmp_path, QUICK_SETTINGS, ["none", "ful"], [0], model="m", warm_start=False)
    with pytest.raises(ValueError, match=r"each seed once, got \[0, 0\]"):
        compare.run_comparison(tmp_path, QUICK_SETTINGS, ["none"], [0, 0], model="m", warm_start=False)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--arms", "none", "maskd"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "Did you mean 'masked'" in result.stderr


@pytest.mark.slow
def test_quick_comparison_runs_end_to_end_and_resumes(tiny_model_dir, tmp_path):
    out = tmp_path / "cmp"
    command = [
        sys.executable, str(SCRIPT), "--quick", "--model", str(tiny_model_dir), "--no_warm_start",
        "--output_dir", str(out), "--arms", "none", "masked", "masked-on_failure",
    ]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert [(r["arm"], r["seed"], r["finished"]) for r in results["runs"]] == [
        ("none", 0, True), ("masked", 0, True), ("masked-on_failure", 0, True)
    ]  # fmt: skip
    for run in results["runs"]:
        assert [p["step"] for p in run["heldout"]] == [0, 1, 2]  # before, every step, after
        assert [d["step"] for d in run["diagnostics"]] == [1, 2]
    by_arm = {r["arm"]: r for r in results["runs"]}
    assert all(d["guided_share"] == 1.0 for d in by_arm["masked"]["diagnostics"])
    assert all(d["guided_share"] == 0.0 for d in by_arm["none"]["diagnostics"])
    assert "| masked-on_failure | 1 |" in (out / "table.md").read_text()
    # the first run evaluates the shared start model before training; the other two reuse it
    assert (out / "heldout-before.json").is_file() and first.stdout.count("reused from") == 2
    assert len({run["heldout"][0]["success"] for run in results["runs"]}) == 1
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and second.stdout.count("finished, skipped") == 3
