"""``python agents/compare_guidance.py``: the guidance comparison (none / prefix / full / masked).

Runs every arm x seed from one shared warm start, resumably, and writes
``results.json``, ``table.md``, ``heldout.png`` and ``diagnostics.png`` to ``--output_dir``
(see :mod:`smepo_env.experiments.compare`). ``--quick`` is the two-step smoke version;
``--report_only`` rewrites those from the runs on disk without training;
``--starting_point`` instead measures each guidance mode's success before RL on ``dev``
questions (see :mod:`smepo_env.experiments.starting_point`) and writes ``starting_point.json``.
Every field of :class:`~smepo_env.experiments.setup.ComparisonSettings` is an option
(``--max_steps``, ``--num_generations``, ...), overriding the full or quick preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from smepo_env.experiments.arms import DEFAULT_ARMS
from smepo_env.experiments.setup import FULL_SETTINGS, QUICK_SETTINGS, ComparisonSettings

DEFAULT_OUTPUT_DIR = "results/guidance-comparison"


def make_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    from smepo_env.models import DEFAULT_MODEL

    parser = argparse.ArgumentParser(
        prog="compare_guidance.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output_dir", default=DEFAULT_OUTPUT_DIR, help="where runs and results go")
    parser.add_argument(
        "--arms",
        nargs="+",
        default=list(DEFAULT_ARMS),
        help="arms: a guidance mode, optionally -<schedule> (masked-on_failure, masked-anneal)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="base model: alias, directory or hub id")
    parser.add_argument(
        "--no_warm_start",
        action="store_true",
        help="start every run from --model itself instead of its shared default warm start",
    )
    parser.add_argument(
        "--quick", action="store_true", help="the two-step smoke version (one seed unless --seeds is given)"
    )
    parser.add_argument(
        "--starting_point",
        action="store_true",
        help="only measure each mode's success before RL on --start_split questions",
    )
    parser.add_argument(
        "--report_only",
        action="store_true",
        help="train nothing: rewrite the results, table and plots from the runs already on disk",
    )
    parser.add_argument("--start_split", default="dev", help="split of the starting-point questions")
    parser.add_argument("--start_questions", type=int, default=32, help="starting-point questions")
    parser.add_argument(
        "--start_group_size",
        type=int,
        default=8,
        help="sampled episodes per starting-point question (0: greedy)",
    )
    parser.add_argument(
        "--start_batch_size", type=int, default=16, help="starting-point episodes played together"
    )
    settings = parser.add_argument_group("settings (override the full or --quick preset)")
    for item in dataclasses.fields(ComparisonSettings):
        if item.name == "extra_args":
            continue
        kind = type(getattr(FULL_SETTINGS, item.name))
        settings.add_argument(
            f"--{item.name}", type=kind, default=None, help=f"default: {getattr(FULL_SETTINGS, item.name)!r}"
        )
    settings.add_argument(
        "--trainer_args",
        default="",
        help="further train_grpo.py options, one string: '--beta 0.01 --top_p 0.9'",
    )
    return parser


def settings_from(args: argparse.Namespace) -> ComparisonSettings:
    """The preset (full or quick) with every option given on the command line applied."""
    preset = QUICK_SETTINGS if args.quick else FULL_SETTINGS
    changes = {
        item.name: getattr(args, item.name)
        for item in dataclasses.fields(ComparisonSettings)
        if getattr(args, item.name, None) is not None
    }
    if args.trainer_args:
        changes["extra_args"] = tuple(args.trainer_args.split())
    return dataclasses.replace(preset, **changes)


def _starting_point(args: argparse.Namespace, settings: ComparisonSettings) -> int:
    from smepo_env.experiments.arms import parse_arm
    from smepo_env.experiments.setup import shared_warmstart
    from smepo_env.experiments.starting_point import measure_starting_point
    from smepo_env.files import atomic_file
    from smepo_env.models import resolve_model
    from smepo_env.training.data import make_env, select_tasks

    if args.start_split == settings.eval_split:
        print(
            f"compare_guidance.py: error: choose settings on another split than {settings.eval_split!r}",
            file=sys.stderr,
        )
        return 2
    model = resolve_model(args.model) if args.no_warm_start else str(shared_warmstart(args.model, settings))
    kwargs = {
        "benchmark": "fictional-world",
        "split": args.start_split,
        "max_turns": settings.max_turns,
        "top_k": settings.top_k,
    }
    env = make_env("smepo/SearchQA-v0", kwargs)
    types = [t for t in settings.question_types.split(",") if t]
    tasks = [t.id for t in select_tasks(env, types, args.start_questions, seed=0)]
    modes = list(dict.fromkeys(parse_arm(name).mode for name in args.arms))
    started = time.perf_counter()
    rows = measure_starting_point(
        model,
        "smepo/SearchQA-v0",
        kwargs,
        tasks,
        modes,
        group_size=args.start_group_size,
        batch_size=args.start_batch_size,
        max_completion_tokens=settings.max_completion_length,
        max_turn_tokens=settings.max_turn_tokens,
    )
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "model": args.model,
        "start_model": model,
        "split": args.start_split,
        "question_types": types,
        "settings": settings.as_dict(),
        "seconds": time.perf_counter() - started,
        "modes": rows,
    }
    with atomic_file(out / "starting_point.json") as handle:
        handle.write(json.dumps(record, indent=1) + "\n")
    print(json.dumps(rows, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the comparison (or the starting-point measurement)."""
    parser = make_parser()
    args = parser.parse_args(argv)
    from smepo_env.experiments.arms import parse_arm

    try:
        settings = settings_from(args)
        for name in args.arms:
            parse_arm(name)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    if args.starting_point:
        return _starting_point(args, settings)
    from smepo_env.experiments.compare import report_runs_on_disk, run_comparison

    seeds = args.seeds if not args.quick or "--seeds" in (argv or sys.argv) else [0]
    if args.report_only:
        try:
            results = report_runs_on_disk(args.output_dir, settings, args.arms, seeds, model=args.model)
        except ValueError as error:  # nothing on disk to report: say so, no traceback
            parser.exit(2, f"{parser.prog}: error: {error}\n")
    else:
        results = run_comparison(
            args.output_dir, settings, args.arms, seeds, model=args.model, warm_start=not args.no_warm_start
        )
    print(Path(args.output_dir) / "table.md")
    from smepo_env.experiments.report import render_table

    print(render_table(results["table"]))
    return 0
