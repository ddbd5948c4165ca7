"""``--protocol tools`` in agents/train_grpo.py and agents/evaluate.py (the tags default is tested in
tests/training and tests/evaluation)."""

from __future__ import annotations

import json

import pytest

from smepo_env.errors import ChoiceError


def test_protocol_option_is_checked_before_anything_loads():
    from smepo_env.training.config import parse_arguments

    assert parse_arguments([])[0].protocol == "tags"
    assert parse_arguments(["--protocol", "tools"])[0].protocol == "tools"
    with pytest.raises(ChoiceError, match="Did you mean 'tools'"):
        parse_arguments(["--protocol", "tool"])
    with pytest.raises(ValueError, match="needs --protocol tags"):
        parse_arguments(["--protocol", "tools", "--guidance_schedule", "on_failure"])


@pytest.mark.slow
def test_one_grpo_step_and_evaluation_through_native_tool_calls(tiny_model_dir, tmp_path):
    from smepo_env.training.callbacks import read_metrics
    from smepo_env.training.config import parse_arguments
    from smepo_env.training.grpo import train_agent

    out = tmp_path / "run"
    argv = [
        "--model", str(tiny_model_dir), "--output_dir", str(out), "--protocol", "tools", "--max_steps", "1",
        "--num_generations", "4", "--per_device_train_batch_size", "4", "--num_train_tasks", "4",
        "--gradient_accumulation_steps", "4",
        "--num_eval_tasks", "2", "--max_completion_length", "48", "--max_turn_tokens", "24",
        "--trainable_layers", "0", "--save_strategy", "no",
    ]  # fmt: skip
    lines: list[str] = []
    result = train_agent(*parse_arguments(argv), log=lambda line: lines.append(str(line)))
    assert result["steps"] == 1 and result["heldout_n"] == 2
    assert any("skipped with --protocol tools" in line for line in lines)  # the tag warm start
    logged = [r for r in read_metrics(out / "metrics.jsonl") if "rewards/SearchQAToolEnv/mean" in r]
    assert logged and logged[0]["rewards/SearchQAToolEnv/mean"] == 0.0  # the env's reward column

    from smepo_env.evaluation.cli import main

    eval_dir = tmp_path / "eval"
    argv = ["--policy", str(out / "final"), "--protocol", "tools", "--limit", "2", "--max_new_tokens", "16"]
    assert main([*argv, "--output_dir", str(eval_dir)]) == 0
    summary = json.loads((eval_dir / "summary.json").read_text())
    assert summary["benchmarks"]["fictional-world"]["final"]["all"]["n"] == 2
