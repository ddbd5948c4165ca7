"""The multi-process path, run for real: ``accelerate launch --num_processes 2`` on the CPU (gloo).

What the GPU recipes rely on is exercised here with a tiny model: every process plays its share
of the step's episodes with the same number of generation calls (the collective stop), only
the main process writes the metrics, summary and plot, checkpoints are written once and a
second launch resumes from the last complete one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _launch(
    model_dir: Path, output_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    accelerate = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    command = [
        accelerate, "launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", str(REPO / "agents" / "train_grpo.py"),
        "--model", str(model_dir), "--output_dir", str(output_dir), "--no_sft_warmstart",
        "--use_vllm", "false",
        "--num_generations", "4", "--per_device_train_batch_size", "4", "--num_train_tasks", "8",
        "--gradient_accumulation_steps", "4",
        "--num_eval_tasks", "2", "--max_completion_length", "100", "--max_turn_tokens", "12",
        "--trainable_layers", "0", "--save_steps", "1", "--learning_rate", "1e-3", *extra,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, cwd=REPO)


@pytest.mark.slow
def test_two_cpu_processes_run_grpo_steps_write_once_and_resume(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    first = _launch(tiny_model_dir, out, "--max_steps", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count("held-out success before GRPO") == 1  # printed by the main process only
    assert (out / "checkpoint-1").is_dir()

    second = _launch(tiny_model_dir, out, "--max_steps", "2", "--resume")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "continuing from" in second.stdout and "checkpoint-1" in second.stdout
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in records if "loss" in r]
    assert train_steps == [1, 2]  # one line per step: only the main process writes
    # Both processes played episodes: TRL gathers the rewards of 2 x 4 completions per step.
    assert all(r.get("episodes/turns", 0) >= 1 for r in records if "loss" in r)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 2 and (out / "training_curve.png").stat().st_size > 0


@pytest.mark.slow
def test_the_main_process_trains_the_warm_start_in_a_child_that_is_not_a_rank(tiny_model_dir, tmp_path):
    """The main process trains the warm start in a child process (the other waits), both then train."""
    out = tmp_path / "run"
    warm_start = ("--sft_warmstart", "true", "--sft_num_examples", "8", "--sft_batch_size", "4")
    result = _launch(
        tiny_model_dir, out, "--max_steps", "1", *warm_start, env={"SMEPO_CACHE_DIR": str(tmp_path / "cache")}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("training the warm start in a fresh process") == 1  # the main process only
    assert len(list((tmp_path / "cache" / "sft").glob("*/config.json"))) == 1
    assert (out / "checkpoint-1").is_dir()
