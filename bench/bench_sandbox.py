"""Benchmark: sandboxed executions per second of a trivial program, per isolation level.

Prints, side by side, plain ``subprocess.run([sys.executable, "-c", CODE])`` (the baseline),
the same with ``-I -S`` (bare interpreter start-up), and ``PythonSandbox.run(CODE)`` at every
isolation level available here, each with the ratio to the baseline. Runs are sequential
(``--threads 1``) or spread over threads, as environments running side by side would be.
Each level is shown with the warm fork server (the default) and without it.

    python bench/bench_sandbox.py --runs 60 --threads 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CODE = "print(6 * 7)"


@dataclass
class Args:
    runs: int = 60
    """Timed executions per row (after one warm-up execution)."""
    threads: int = 1
    """Executions in flight at once."""


def parse_args() -> Args:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=Args.runs, help="timed executions per row")
    parser.add_argument("--threads", type=int, default=Args.threads, help="executions in flight at once")
    namespace = parser.parse_args()
    if namespace.runs < 1 or namespace.threads < 1:
        parser.error(f"--runs and --threads must be >= 1, got {namespace.runs} and {namespace.threads}")
    return Args(runs=namespace.runs, threads=namespace.threads)


def executions_per_second(execute: Callable[[], str], args: Args) -> float:
    """Time ``args.runs`` calls of ``execute`` (each must print 42) over ``args.threads`` threads."""
    if execute().strip() != "42":
        raise RuntimeError("the benchmarked program did not print 42")
    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        outputs = list(pool.map(lambda _: execute(), range(args.runs)))
    elapsed = time.perf_counter() - started
    if any(output.strip() != "42" for output in outputs):
        raise RuntimeError("a benchmarked run did not print 42")
    return args.runs / elapsed


def main() -> None:
    from tools.python_sandbox import PythonSandbox, SandboxConfig, available_isolation_levels

    args = parse_args()

    def plain(*flags: str) -> Callable[[], str]:
        command = [sys.executable, *flags, "-c", CODE]
        return lambda: subprocess.run(command, capture_output=True, text=True, check=True).stdout

    rows = [
        ("subprocess.run python -c (baseline)", plain()),
        ("subprocess.run python -I -S -c", plain("-I", "-S")),
    ]
    for level in available_isolation_levels():
        for fork_server in (True, False):
            sandbox = PythonSandbox(SandboxConfig(isolation=level, fork_server=fork_server))
            name = f"PythonSandbox {level}" + ("" if fork_server else " (no fork server)")
            rows.append((name, lambda sandbox=sandbox: sandbox.run(CODE).stdout))
    print(f"trivial program {CODE!r}, {args.runs} runs, {args.threads} thread(s), {os.cpu_count()} CPUs")
    print(f"{'what':40s} {'exec/s':>8s} {'ms/exec':>8s} {'vs baseline':>12s}")
    baseline = 0.0
    for name, execute in rows:
        rate = executions_per_second(execute, args)
        baseline = baseline or rate
        print(f"{name:40s} {rate:8.1f} {1000 / rate:8.1f} {rate / baseline:11.2f}x", flush=True)


if __name__ == "__main__":
    main()
