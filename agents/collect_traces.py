"""Collect expert traces for a task file by rejection sampling a teacher in the environment.

    python agents/collect_traces.py --env smepo/SearchQA-v0 --tasks musique/dev.jsonl \\
        --teacher gold --distractor_corpus musique-corpus.jsonl --out traces.jsonl
    python agents/collect_traces.py --tasks hotpotqa/dev.jsonl --teacher http://127.0.0.1:8000/v1 \\
        --teacher_model Qwen/Qwen2.5-7B-Instruct --samples 4 --env_kwargs '{"corpus": "wiki.jsonl"}' \\
        --out traces.jsonl --smepo_parquet traces.parquet
    python agents/collect_traces.py --tasks nq/test.jsonl --teacher runs/sft/final --out traces.jsonl

Teachers: ``gold`` (the gold decomposition of MuSiQue / 2Wiki / HotpotQA rows), an
OpenAI-compatible endpoint URL with ``--teacher_model`` (API key from ``$OPENAI_API_KEY`` or
``--api_key_env``), or a local model directory / bundled alias. Only traces that earn the env's
reward are kept, at most ``--samples`` tries a task. A rerun with the same ``--out`` resumes.
See :mod:`smepo_env.traces.collect`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def make_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--env", default="smepo/SearchQA-v0", help="a registered smepo env id")
    parser.add_argument("--tasks", default=None, help="a task file (task JSONL, FlashRAG, Search-R1, SMEPO)")
    parser.add_argument("--teacher", required=True, help="gold, an http(s)://.../v1 endpoint, or a model dir")
    parser.add_argument("--teacher_model", default=None, help="the model name sent to an endpoint")
    parser.add_argument("--samples", type=int, default=4, help="most tries per task (K)")
    parser.add_argument("--env_kwargs", default="", help='env kwargs as JSON, e.g. \'{"corpus": "c.jsonl"}\'')
    parser.add_argument("--out", type=Path, required=True, help="kept traces, JSONL (resumed if present)")
    parser.add_argument(
        "--distractor_corpus",
        type=Path,
        default=None,
        help="build (once) a corpus from the tasks' own paragraphs at this path and search it",
    )
    parser.add_argument("--smepo_parquet", type=Path, default=None, help="also write SMEPO's parquet here")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    parser.add_argument("--min_reward", type=float, default=1.0, help="the reward a kept trace earns")
    parser.add_argument("--batch_size", type=int, default=8, help="episodes played together")
    parser.add_argument("--max_turn_tokens", type=int, default=256, help="most ids per teacher turn")
    parser.add_argument("--max_completion_tokens", type=int, default=4096, help="ids per episode")
    parser.add_argument("--temperature", type=float, default=1.0, help="teacher sampling temperature")
    parser.add_argument("--top_p", type=float, default=1.0, help="teacher nucleus sampling")
    parser.add_argument("--max_concurrency", type=int, default=8, help="endpoint requests in flight")
    parser.add_argument("--timeout_s", type=float, default=120.0, help="per endpoint request")
    parser.add_argument("--max_retries", type=int, default=3, help="endpoint retries per request")
    parser.add_argument("--api_key_env", default="OPENAI_API_KEY", help="env var holding the API key")
    parser.add_argument("--device", default=None, help="local model device (default: cuda if available)")
    parser.add_argument("--seed", type=int, default=0, help="local model sampling seed")
    parser.add_argument("--retry_dropped", action="store_true", help="retry tasks a previous run dropped")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = make_parser().parse_args(argv)
    import smepo_env
    from smepo_env.errors import SmepoError, check_choice

    try:
        check_choice("--env", args.env, smepo_env.ENV_IDS)
        try:
            env_kwargs = json.loads(args.env_kwargs) if args.env_kwargs else {}
        except json.JSONDecodeError as error:
            raise ValueError(f"--env_kwargs is not JSON ({error.msg}): {args.env_kwargs!r}") from None
        if not isinstance(env_kwargs, dict):
            raise ValueError(f"--env_kwargs must be a JSON object, got {args.env_kwargs!r}")
        if args.tasks is not None:
            env_kwargs["tasks"] = args.tasks
        if args.distractor_corpus is not None:
            from smepo_env.loaders import build_distractor_corpus

            if "tasks" not in env_kwargs:
                raise ValueError("--distractor_corpus is built from --tasks; give --tasks FILE")
            if not args.distractor_corpus.is_file():
                stats = build_distractor_corpus(env_kwargs["tasks"], args.distractor_corpus)
                print(f"built {args.distractor_corpus}: {stats.passages} passages", file=sys.stderr)
            env_kwargs["corpus"] = str(args.distractor_corpus)
        from smepo_env.traces import collect_traces, make_teacher, write_smepo_parquet

        teacher = make_teacher(
            args.teacher,
            teacher_model=args.teacher_model,
            api_key_env=args.api_key_env,
            temperature=args.temperature,
            top_p=args.top_p,
            max_concurrency=args.max_concurrency,
            timeout_s=args.timeout_s,
            max_retries=args.max_retries,
            batch_size=args.batch_size,
            device=args.device,
            seed=args.seed,
        )
        try:
            summary = collect_traces(
                teacher,
                args.env,
                env_kwargs,
                args.out,
                samples=args.samples,
                min_reward=args.min_reward,
                batch_size=args.batch_size,
                max_completion_tokens=args.max_completion_tokens,
                max_turn_tokens=args.max_turn_tokens,
                limit=args.limit,
                retry_dropped=args.retry_dropped,
                show_progress=not args.no_progress,
            )
        finally:
            teacher.close()
        if args.smepo_parquet is not None:
            from smepo_env.loaders import read_rows

            domain = next(d for d, env_id in smepo_env.ENV_ID_BY_DOMAIN.items() if env_id == args.env)
            rows = write_smepo_parquet(read_rows(args.out), args.smepo_parquet, domain=domain)
            print(f"wrote {rows} rows to {args.smepo_parquet}", file=sys.stderr)
    except (ValueError, FileNotFoundError, SmepoError) as error:
        print(f"collect_traces.py: error: {error}", file=sys.stderr)
        return 2
    print(
        f"{summary.teacher}: {summary.tried} tasks tried ({summary.already_done} already done), "
        f"{summary.kept} kept, keep rate {summary.keep_rate:.1%}, {summary.episodes} episodes, "
        f"{summary.seconds:.1f} s, {summary.generated} {summary.token_unit} generated"
        + (
            f" ({usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens "
            f"by the endpoint's count, {usage['requests']} requests)"
            if "completion_tokens" in (usage := summary.teacher_usage)
            else ""
        )
        + (f", drops: {summary.drop_reasons}" if summary.drop_reasons else "")
    )
    print(json.dumps(summary.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
