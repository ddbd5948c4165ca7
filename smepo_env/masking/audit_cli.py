"""``python agents/audit_masking.py``: the masking audit over bundled benchmarks or trace files.

For each benchmark (or a JSONL / SMEPO parquet of traces), the engine and the regex baseline
side by side: answer leakage, critical-span recall, over-masking and throughput (definitions
in :mod:`smepo_env.masking.audit`). Prints the table and writes ``audit.json`` per source.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from smepo_env.masking.audit import audit_traces
from smepo_env.vocabulary import DOMAINS


def benchmark_records(name: str, split: str, limit: int | None) -> list[dict[str, Any]]:
    """Audit records from a bundled benchmark split (traces with their ground-truth spans)."""
    from smepo_env.benchmarks import load_benchmark

    benchmark = load_benchmark(name)
    return [
        {
            "trace": task.expert_trace,
            "domain": benchmark.domain,
            "question": task.question,
            "answers": list(task.answers),
            "critical_spans": [dict(s) for s in task.critical_spans],
        }
        for task in benchmark.tasks(split)[:limit]
        if task.expert_trace
    ]


def file_records(path: Path, domain: str, limit: int | None) -> list[dict[str, Any]]:
    """Audit records from a JSONL of tasks or a SMEPO parquet (no ground-truth spans)."""
    if path.suffix == ".parquet":
        from smepo_env.loaders import load_smepo_parquet

        tasks = load_smepo_parquet(path, domain=domain, limit=limit)
    else:
        from smepo_env.tasks import load_tasks_jsonl

        tasks = load_tasks_jsonl(path)[:limit]
    return [
        {
            "trace": t.expert_trace,
            "domain": domain,
            "question": t.question,
            "answers": list(t.answers),
            "critical_spans": [dict(s) for s in t.critical_spans],
        }
        for t in tasks
        if t.expert_trace
    ]


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    from smepo_env.benchmarks import BENCHMARKS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--benchmark", default="all", help=f"one of {sorted(BENCHMARKS)}, a comma list, or 'all'"
    )
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--traces", type=Path, default=None, help="a JSONL of tasks or a SMEPO parquet instead"
    )
    parser.add_argument("--domain", default="search", choices=list(DOMAINS), help="domain of --traces")
    parser.add_argument(
        "--limit", type=int, default=None, help="audit only the first N traces of each source"
    )
    parser.add_argument("--output_dir", type=Path, default=Path("runs/audit"))
    args = parser.parse_args(argv)
    if args.traces is not None:
        sources = {args.traces.stem: file_records(args.traces, args.domain, args.limit)}
    else:
        names = list(BENCHMARKS) if args.benchmark == "all" else args.benchmark.split(",")
        sources = {name: benchmark_records(name, args.split, args.limit) for name in names}
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for source, records in sources.items():
        if not records:
            print(f"{source}: no traces to audit")
            continue
        report = audit_traces(records)
        print(f"\n{source} ({len(records)} traces)\n{report.render()}")
        (args.output_dir / f"audit-{source}.json").write_text(json.dumps(report.to_dict(), indent=2))
    return 0
