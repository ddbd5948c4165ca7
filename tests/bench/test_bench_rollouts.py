"""bench/bench_rollouts.py: real GRPO steps per engine and size, the ratio lines, the figures file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_rollouts.py"


def test_two_engines_at_two_sizes_print_a_ratio_line_each_and_write_their_figures(tmp_path, tiny_model_dir):
    out = tmp_path / "bench"
    result = subprocess.run(
        [
            sys.executable, str(SCRIPT), "--model", str(tiny_model_dir), "--engines", "hf-fp32", "hf-bf16",
            "--sizes", "4", "8", "--steps", "1", "--micro_batch", "4", "--max_turn_tokens", "8",
            "--max_completion_length", "48", "--trainable_layers", "0", "--cpu_threads", "1",
            "--output_dir", str(out),
        ],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for size in (4, 8):
        line = f"hf-bf16 vs hf-fp32 at {size} episodes"
        assert re.search(rf"^{line}: \d+\.\dx$", result.stdout, re.M), result.stdout
        assert re.search(rf"^{line} \(s/step\): \d+\.\dx$", result.stdout, re.M)
    assert "vllm vs" not in result.stdout  # an engine not asked for is not reported
    figures = json.loads((out / "results.json").read_text())["results"]
    assert sorted((r["engine"], r["episodes"]) for r in figures) == [
        ("hf-bf16", 4), ("hf-bf16", 8), ("hf-fp32", 4), ("hf-fp32", 8)
    ]  # fmt: skip
    for row in figures:
        assert row["tokens_per_second"] > 0 and row["step_seconds"] >= row["rollout_seconds"] > 0
