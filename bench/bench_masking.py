"""Search masker throughput on realistic teacher traces: a baseline revision beside the working tree.

    python bench/bench_masking.py                      # baseline: a610fe5, before issue 11
    python bench/bench_masking.py --baseline HEAD~3 --repeat 8

The traces are the hand-written realistic search set (``tests/data/realistic_traces/search.jsonl``,
realistic length: 1 to 4 searches, 3 passages each), repeated ``--repeat`` times and masked in one
batched :func:`~smepo_env.masking.mask_traces` call per measurement, with questions and without
gold answers, after one warm-up call (model loading, where a revision has one, is not counted). The
baseline revision's ``smepo_env`` is exported with ``git archive`` and run in a subprocess, so both
are timed by the same code on the same traces; the best of ``--rounds`` measurements is reported
for each, and the ratio new / baseline, beside the CPU time per trace (``time.process_time``, the
steadier figure on a shared machine: other processes' load moves wall time far more than CPU time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "tests" / "data" / "realistic_traces" / "search.jsonl"
BASELINE = "a610fe5"

_TIMER = """
import json, sys, time
from smepo_env.masking import mask_traces
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")] * int(sys.argv[2])
traces = [r["trace"] for r in records]
questions = [r["question"] for r in records]
mask_traces(traces[:2], domain="search", questions=questions[:2])
best = 0.0
cpu = float("inf")
for _ in range(int(sys.argv[3])):
    began, began_cpu = time.perf_counter(), time.process_time()
    mask_traces(traces, domain="search", questions=questions)
    best = max(best, len(traces) / (time.perf_counter() - began))
    cpu = min(cpu, (time.process_time() - began_cpu) / len(traces))
print(json.dumps({"traces": len(traces), "traces_per_second": best, "cpu_ms_per_trace": 1000 * cpu}))
"""


def _measure(source_root: Path, repeat: int, rounds: int) -> dict[str, float]:
    environment = dict(os.environ, PYTHONPATH=str(source_root))
    completed = subprocess.run(
        [sys.executable, "-c", _TIMER, str(TRACES), str(repeat), str(rounds)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=source_root,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _export(revision: str, directory: Path) -> Path:
    archive = directory / "baseline.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "archive", revision, "smepo_env"], cwd=ROOT, stdout=handle, check=True)
    with tarfile.open(archive) as bundle:
        bundle.extractall(directory, filter="data")
    return directory


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare against")
    parser.add_argument("--repeat", type=int, default=4, help="times the 30 traces are repeated")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per side; the best counts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-masking-") as scratch:
        baseline = _measure(_export(args.baseline, Path(scratch)), args.repeat, args.rounds)
    current = _measure(ROOT, args.repeat, args.rounds)
    ratio = current["traces_per_second"] / baseline["traces_per_second"]
    cpu_ratio = baseline["cpu_ms_per_trace"] / current["cpu_ms_per_trace"]
    print(f"search masker, {current['traces']} realistic traces, best of {args.rounds}")
    print(f"{'':<24} {'traces/s':>10} {'CPU ms/trace':>13}")
    for name, figures in ((f"baseline {args.baseline}", baseline), ("working tree", current)):
        print(f"{name:<24} {figures['traces_per_second']:10.1f} {figures['cpu_ms_per_trace']:13.2f}")
    print(f"{'ratio (speed-up)':<24} {ratio:9.2f}x {cpu_ratio:12.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
