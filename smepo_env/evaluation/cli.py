"""``python agents/evaluate.py``: score policies on the bundled benchmarks, offline.

Prints exact match and F1 per benchmark and question type, and writes ``results.json`` and
every trajectory (``trajectories-<policy>.jsonl``) to ``--output_dir``. Evaluation is always
unguided. Policies: the scripted ones of :mod:`smepo_env.evaluation.policies` and any local
transformers model directory (greedy decoding, the trainer's own episode loop).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from smepo_env import ENV_ID_BY_DOMAIN
from smepo_env.evaluation.policies import SCRIPTED_POLICIES, make_scripted_policy
from smepo_env.evaluation.report import render_table, save_results, summarize
from smepo_env.evaluation.runner import run_scripted
from smepo_env.vocabulary import PROTOCOLS


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    from smepo_env.benchmarks import BENCHMARKS

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--policy",
        action="append",
        default=None,
        help=f"a scripted policy {list(SCRIPTED_POLICIES)} or a local model directory; repeat for several "
        "(default: oracle)",
    )
    parser.add_argument(
        "--benchmark",
        default=next(iter(BENCHMARKS)),
        help=f"one of {sorted(BENCHMARKS)}, a comma-separated list, or 'all'",
    )
    parser.add_argument("--split", default="test", help="train, dev or test")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions")
    parser.add_argument("--top_k", type=int, default=3, help="passages per search (search benchmarks)")
    parser.add_argument("--max_turns", type=int, default=None, help="turns per episode (default: the env's)")
    parser.add_argument(
        "--batch_size", type=int, default=8, help="episodes generated together (model policies)"
    )
    parser.add_argument(
        "--max_new_tokens", type=int, default=160, help="tokens per model turn (model policies)"
    )
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="tags",
        help="how a model policy acts: tags (the tag protocol) or tools (its chat template's native tool "
        "calling, TRL's tool loop); scripted policies always use tags",
    )
    parser.add_argument("--output_dir", default="runs/eval", help="where results and trajectories go")
    return parser


def _benchmarks(spec: str) -> list[str]:
    from smepo_env.benchmarks import BENCHMARKS, benchmark_module

    names = list(BENCHMARKS) if spec == "all" else [name.strip() for name in spec.split(",") if name.strip()]
    for name in names:
        benchmark_module(name)  # raises with the valid names
    return names


def _env_kwargs(args: argparse.Namespace, name: str, domain: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"benchmark": name, "split": args.split}
    if domain == "search":
        kwargs["top_k"] = args.top_k
    if args.max_turns is not None:
        kwargs["max_turns"] = args.max_turns
    return kwargs


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Run every requested policy on every requested benchmark; returns the summary."""
    import gymnasium as gym

    import smepo_env  # noqa: F401  (registers the ids)
    from smepo_env.benchmarks import load_benchmark

    policies = args.policy or ["oracle"]
    for policy in policies:
        if policy not in SCRIPTED_POLICIES and not Path(policy).is_dir():
            raise SystemExit(
                f"error: unknown policy {policy!r}; expected one of {list(SCRIPTED_POLICIES)} "
                "or a local model directory"
            )
    if args.limit is not None and args.limit < 1:
        raise SystemExit(f"error: --limit must be a positive integer, got {args.limit}")
    summary: dict[str, Any] = {"split": args.split, "benchmarks": {}}
    out_root = Path(args.output_dir)
    for name in _benchmarks(args.benchmark):
        benchmark = load_benchmark(name)
        tasks = benchmark.tasks(args.split)[: args.limit]
        env_id = ENV_ID_BY_DOMAIN[benchmark.domain]
        env_kwargs = _env_kwargs(args, name, benchmark.domain)
        results, records_by_policy = {}, {}
        for policy_name in policies:
            if policy_name.endswith("-entity") and benchmark.domain != "search":
                print(f"skipping {policy_name} on {name}: entity heuristics need a search tool")
                continue
            started = time.perf_counter()
            if Path(policy_name).is_dir() and policy_name not in SCRIPTED_POLICIES:
                from smepo_env.evaluation.model_policy import evaluate_model_policy
                from smepo_env.evaluation.tool_policy import evaluate_tool_model_policy

                evaluate_model = (
                    evaluate_tool_model_policy if args.protocol == "tools" else evaluate_model_policy
                )
                records = evaluate_model(
                    policy_name,
                    env_id,
                    env_kwargs,
                    [{"task_id": t.id} for t in tasks],
                    batch_size=args.batch_size,
                    max_turn_tokens=args.max_new_tokens,
                )
                label = Path(policy_name).name or policy_name
            else:
                env = gym.make(env_id, expert_guidance="none", **env_kwargs)
                policy = make_scripted_policy(policy_name, benchmark.tasks("train"))
                records = run_scripted(env, tasks, policy)
                label = policy.name
            results[label] = summarize(records)
            results[label]["all"]["seconds"] = round(time.perf_counter() - started, 2)
            records_by_policy[label] = records
        print(render_table(f"\n{name} / {args.split} ({len(tasks)} questions)", results))
        paths = save_results(
            out_root / f"{name}-{args.split}",
            {"benchmark": name, "split": args.split, "results": results},
            records_by_policy,
        )
        print(f"wrote {', '.join(str(p) for p in paths)}")
        summary["benchmarks"][name] = results
    with (out_root / "summary.json").open("w") as handle:
        json.dump(summary, handle, indent=2)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``agents/evaluate.py`` and ``smepo-evaluate``."""
    args = build_parser().parse_args(argv)
    evaluate(args)
    return 0
