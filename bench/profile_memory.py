"""Where a job's memory goes: resident memory over time, by the stage the job's log says it is in.

Runs a command, samples the resident memory (RSS) of its process and every child every
``--interval`` seconds, and tags each sample with the stage the job last announced: the last
line of its output that starts with a ``[tag]`` (``[sft]``, ``[grpo]``, ``[rollout]``,
``[eval]``, ...) or, inside training, the progress bar's step. It prints the peak, the stage it
was reached in, the largest RSS per stage in the order the stages came, and writes a PNG of
memory over time with the stages marked::

    python bench/profile_memory.py -- python agents/train_grpo.py
    python bench/profile_memory.py --output runs/memory.png -- python agents/train_grpo.py --no_use_vllm

The peak here is the sum over the job's processes (``/usr/bin/time -v`` reports the largest
single process instead); with the in-process vLLM engine the job is one process.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

STAGE_LINE = re.compile(r"^\[(\w[\w-]*)\]")
TRAIN_STEP = re.compile(r"(\d+)/(\d+) \[")


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of ``process`` and all its descendants (0 once it has gone)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def stage_of(line: str, current: str) -> str:
    """The stage a log line announces, or ``current`` when it announces none."""
    tagged = STAGE_LINE.match(line)
    if tagged:
        return tagged.group(1)
    step = TRAIN_STEP.findall(line)
    if step and current.startswith(("grpo", "rollout", "eval", "train")):
        done, total = step[-1]
        return f"train {done}/{total}"
    return current


def profile(command: list[str], interval: float) -> tuple[list[tuple[float, int, str]], int]:
    """Run ``command``; return its samples ``(seconds, rss bytes, stage)`` and its exit code."""
    started = time.perf_counter()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # stage lines must arrive when printed
    job = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=environment
    )
    handle = psutil.Process(job.pid)
    stage = ["start"]
    samples: list[tuple[float, int, str]] = []

    def sample() -> None:
        while job.poll() is None:
            samples.append((time.perf_counter() - started, tree_rss(handle), stage[0]))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert job.stdout is not None
    for raw in job.stdout:
        sys.stdout.write(raw)
        for line in raw.replace("\r", "\n").splitlines():
            stage[0] = stage_of(line.strip(), stage[0])
    code = job.wait()
    sampler.join()
    return samples, code


def report(samples: list[tuple[float, int, str]]) -> list[str]:
    """The peak and the largest RSS per stage, as printable lines."""
    if not samples:
        return ["no samples (the job ended before the first one)"]
    peak_time, peak, peak_stage = max(samples, key=lambda s: s[1])
    lines = [f"peak resident memory: {peak / 2**30:.2f} GiB at {peak_time:.0f} s, in stage '{peak_stage}'"]
    per_stage: dict[str, int] = {}
    for _, rss, stage in samples:
        per_stage[stage] = max(per_stage.get(stage, 0), rss)
    lines += [f"  {stage:<24} {rss / 2**30:6.2f} GiB" for stage, rss in per_stage.items()]
    return lines


def plot(samples: list[tuple[float, int, str]], output: Path) -> None:
    """Memory over time, a dotted line where each stage begins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(10, 4))
    axes.plot([s[0] for s in samples], [s[1] / 2**30 for s in samples], color="tab:blue")
    previous = None
    for seconds, _, stage in samples:
        if stage != previous and not stage.startswith("train "):
            axes.axvline(seconds, color="grey", linestyle=":", linewidth=0.8)
            axes.annotate(stage, (seconds, 0), rotation=90, fontsize=7, va="bottom")
        previous = stage
    axes.set_xlabel("seconds")
    axes.set_ylabel("resident memory (GiB)")
    axes.set_title("resident memory of the job (all its processes)")
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=120)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--output", type=Path, default=Path("runs/memory-profile.png"), help="the plot")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the job, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the job to profile after --, e.g. -- python agents/train_grpo.py")
    if args.interval <= 0:
        parser.error(f"--interval must be > 0 seconds, got {args.interval}")
    samples, code = profile(command, args.interval)
    print("\n".join(report(samples)))
    if samples:
        plot(samples, args.output)
        print(f"plot: {args.output}")
    return code


if __name__ == "__main__":
    sys.exit(main())
