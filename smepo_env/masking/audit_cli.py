"""``python agents/audit_masking.py``: the masking audit over bundled benchmarks or trace files.

For each benchmark (or a JSONL / SMEPO parquet of traces), the engine and the regex baseline
side by side: answer leakage, critical-span recall, kept question strings, over-masking,
distractor passages kept and throughput (definitions in :mod:`smepo_env.masking.audit`). Prints
the table and writes ``audit-<source>.json`` per source.

``--realistic DIR`` adds the hand-written realistic trace sets: every ``*.jsonl`` of audit records
in ``DIR`` (source ``realistic``) and in ``DIR/heldout`` (source ``realistic-heldout``). The
repository's script passes its own ``tests/data/realistic_traces`` by default.
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


def audit_record_file(path: Path) -> list[dict[str, Any]]:
    """Audit records from a JSONL file of them (``trace``, ``domain``, ``question``, ``answers``,
    ``critical_spans``, ``keep_spans``), as the realistic trace sets are stored.

    Raises:
        ValueError: for a line that is not a JSON object with a ``trace``, naming the file and line.
    """
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not JSON ({error})") from error
        if not isinstance(record, dict) or "trace" not in record:
            raise ValueError(f"{path}:{number}: expected an audit record with a 'trace', got {line[:80]!r}")
        records.append(record)
    return records


def realistic_sources(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """The realistic trace sets under ``directory``: tuning set and held-out set, as audit sources."""
    sources = {}
    for name, folder in (("realistic", directory), ("realistic-heldout", directory / "heldout")):
        records = [r for path in sorted(folder.glob("*.jsonl")) for r in audit_record_file(path)]
        if records:
            sources[name] = records
    return sources


def main(argv: list[str] | None = None, *, default_realistic: Path | None = None) -> int:
    """Entry point; ``default_realistic`` is the realistic-set folder used when none is given."""
    from smepo_env.benchmarks import BENCHMARKS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--benchmark",
        default="all",
        help=f"one of {sorted(BENCHMARKS)}, a comma list, 'all' or 'none'",
    )
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--traces", type=Path, default=None, help="a JSONL of tasks or a SMEPO parquet instead"
    )
    parser.add_argument("--domain", default="search", choices=list(DOMAINS), help="domain of --traces")
    parser.add_argument(
        "--limit", type=int, default=None, help="audit only the first N traces of each source"
    )
    parser.add_argument(
        "--realistic",
        type=Path,
        default=default_realistic,
        help="folder of realistic trace sets (audit-record JSONL, held-out set in heldout/)",
    )
    parser.add_argument("--no_realistic", action="store_true", help="skip the realistic trace sets")
    parser.add_argument("--output_dir", type=Path, default=Path("runs/audit"))
    args = parser.parse_args(argv)
    if args.traces is not None:
        sources = {args.traces.stem: file_records(args.traces, args.domain, args.limit)}
    else:
        names = {"all": list(BENCHMARKS), "none": []}.get(args.benchmark, args.benchmark.split(","))
        sources = {name: benchmark_records(name, args.split, args.limit) for name in names}
        if args.realistic is not None and not args.no_realistic:
            if not args.realistic.is_dir():
                parser.error(f"--realistic {args.realistic}: not a folder")
            sources.update(realistic_sources(args.realistic))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for source, records in sources.items():
        if not records:
            print(f"{source}: no traces to audit")
            continue
        report = audit_traces(records)
        print(f"\n{source} ({len(records)} traces)\n{report.render()}")
        (args.output_dir / f"audit-{source}.json").write_text(json.dumps(report.to_dict(), indent=2))
    return 0
