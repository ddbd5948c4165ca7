"""bench/profile_memory.py: the peak, the stage it fell in, and the plot, on a job that allocates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "profile_memory.py"

JOB = """
import time
print("[load] small", flush=False)
small = bytearray(50 * 2**20); small[::4096] = b"x" * len(small[::4096])
time.sleep(1.0)
print("[train] large", flush=False)
large = bytearray(400 * 2**20); large[::4096] = b"x" * len(large[::4096])
time.sleep(1.0)
del large
print("[eval] after")
time.sleep(0.6)
"""


def test_the_peak_is_found_in_the_stage_that_allocated_it(tmp_path):
    plot = tmp_path / "memory.png"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--interval",
            "0.05",
            "--output",
            str(plot),
            "--",
            sys.executable,
            "-c",
            JOB,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    peak_line = next(line for line in result.stdout.splitlines() if line.startswith("peak resident memory"))
    assert "in stage 'train'" in peak_line
    peak_gib = float(peak_line.split(":")[1].split("GiB")[0])
    assert 0.4 <= peak_gib < 1.5  # the 400 MiB buffer and the interpreter
    stages = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert stages[-3:] == ["load", "train", "eval"]  # in the order the job announced them
    assert plot.stat().st_size > 10_000


def test_a_missing_command_is_refused_with_an_example():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "after --" in result.stderr
