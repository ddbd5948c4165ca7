"""GRPO on TRL with multi-turn episodes: rewards, env mask, weight updates, resume, the script."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "agents" / "train_grpo.py"


@pytest.fixture(scope="module")
def tiny_dir(tiny_model_dir):
    return tiny_model_dir


def _grpo_config(output_dir, **overrides):
    from trl import GRPOConfig

    values = {
        "output_dir": str(output_dir),
        "max_steps": 2,
        "num_generations": 4,
        "per_device_train_batch_size": 8,
        "max_completion_length": 160,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "use_cpu": True,
        "bf16": False,
        "gradient_checkpointing": False,
        "seed": 0,
    }
    values.update(overrides)
    return GRPOConfig(**values)


def test_two_grpo_steps_through_multi_turn_masked_episodes(tiny_dir, tmp_path):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    from smepo_env.training.data import PromptIndex, make_env, prompt_rows, select_tasks
    from smepo_env.training.rollout_func import EpisodeRolloutFunction, env_reward

    env_kwargs = {"split": "train", "max_turns": 3}
    env = make_env("smepo/SearchQA-v0", env_kwargs, "masked")
    rows = prompt_rows(env, select_tasks(env, ["single-hop"], limit=8))
    assert all("expert" in row["prompt"].lower() for row in rows)
    rollout = EpisodeRolloutFunction(
        "smepo/SearchQA-v0", env_kwargs, "masked", PromptIndex(rows), max_turn_tokens=16
    )
    rollouts = []

    def recording_rollout(prompts, trainer):
        output = rollout(prompts, trainer)
        rollouts.append(output)
        return output

    seen = []

    def brevity(completions, completion_ids, env_reward, num_turns, **_):
        # A shaping reward so that a random tiny model gets a learning signal; it also checks
        # that the rollout's per-episode extras reach reward functions as keyword arguments.
        seen.append((list(env_reward), list(num_turns)))
        return [-len(ids) / 100 for ids in completion_ids]

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[env_reward, brevity],
        args=_grpo_config(tmp_path / "run"),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        rollout_func=recording_rollout,
    )
    trainer.train()

    assert trainer.state.global_step == 2 and len(rollouts) == 2
    for output, (rewards, turns) in zip(rollouts, seen, strict=True):
        assert len(output["completion_ids"]) == 8
        assert rewards == output["env_reward"] and turns == output["num_turns"]
        assert any(0 in mask for mask in output["env_mask"])  # observations are in, masked
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    assert losses and all(math.isfinite(loss) for loss in losses)
    assert any("episodes/env_token_share" in r for r in trainer.state.log_history)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "no weight changed after two GRPO steps"


def test_config_errors_name_the_valid_choices():
    from smepo_env.training.config import AgentArguments, parse_arguments

    with pytest.raises(ValueError, match=r"one of \['none', 'full', 'prefix', 'masked'\].*'masked'"):
        AgentArguments(expert_guidance="maskd")
    with pytest.raises(ValueError, match="smepo/SearchQA-v0"):
        parse_arguments(["--env", "smepo/SearchQ-v0"])
    with pytest.raises(ValueError, match="JSON"):
        AgentArguments(env_kwargs="{top_k: 2").extra_env_kwargs()


def test_yaml_config_sets_values_and_the_command_line_wins(tmp_path):
    from smepo_env.training.config import parse_arguments

    config = tmp_path / "run.yaml"
    config.write_text("expert_guidance: full\nmax_steps: 7\nlearning_rate: 0.001\nnum_eval_tasks: 5\n")
    agent_args, grpo_config = parse_arguments(["--config", str(config), "--max_steps", "3"])
    assert agent_args.expert_guidance == "full" and agent_args.num_eval_tasks == 5
    assert grpo_config.max_steps == 3 and grpo_config.learning_rate == 0.001
    agent_args, grpo_config = parse_arguments([])
    assert agent_args.expert_guidance == "masked" and grpo_config.output_dir == "runs/smepo-grpo"


def test_embedded_defaults_equal_the_default_yaml():
    from smepo_env.training.config import parse_arguments

    embedded = parse_arguments([])
    written = parse_arguments(["--config", str(REPO / "configs" / "grpo_default.yaml")])
    assert vars(written[0]) == vars(embedded[0])
    assert written[1].to_dict() == embedded[1].to_dict()


@pytest.mark.parametrize(
    ("env_id", "benchmark_name", "question_types"),
    [
        ("smepo/SearchQA-v0", "fictional-world", ["single-hop"]),
        ("smepo/Math-v0", "math-word", []),
        ("smepo/PythonExec-v0", "code-functions", []),
    ],
)
def test_each_env_defaults_to_its_own_benchmark(env_id, benchmark_name, question_types):
    from smepo_env.training.config import parse_arguments

    agent_args, _ = parse_arguments(["--env_id", env_id])
    assert agent_args.env_kwargs_for("train")["benchmark"] == benchmark_name
    assert agent_args.question_type_list() == question_types
    agent_args, _ = parse_arguments(
        ["--env_id", env_id, "--benchmark", "world-facts", "--question_types", ""]
    )
    assert agent_args.env_kwargs_for("test")["benchmark"] == "world-facts"
    assert agent_args.question_type_list() == []
    own_tasks, _ = parse_arguments(["--env_id", env_id, "--env_kwargs", '{"tasks": "my_tasks.jsonl"}'])
    assert own_tasks.question_type_list() == []  # the curriculum default is the bundled benchmark's


def _train(tiny_dir, output_dir, *extra, log=lambda *_: None):
    from smepo_env.training.config import parse_arguments
    from smepo_env.training.grpo import train_agent

    argv = [
        "--model", str(tiny_dir), "--output_dir", str(output_dir), "--no_sft_warmstart",
        "--num_generations", "4", "--per_device_train_batch_size", "8", "--num_train_tasks", "8",
        "--gradient_accumulation_steps", "4",
        "--num_eval_tasks", "2", "--max_completion_length", "120", "--max_turn_tokens", "12",
        "--trainable_layers", "0", "--save_steps", "1", "--save_total_limit", "5", *extra,
    ]  # fmt: skip
    agent_args, grpo_config = parse_arguments(argv)
    return train_agent(agent_args, grpo_config, log=log)


def test_resume_continues_from_the_last_complete_checkpoint(tiny_dir, tmp_path):
    from smepo_env.training.callbacks import read_metrics
    from smepo_env.training.checkpoints import COMPLETE_MARKER, last_complete_checkpoint

    out = tmp_path / "run"
    first = _train(tiny_dir, out, "--max_steps", "2")
    assert first["steps"] == 2 and last_complete_checkpoint(out).name == "checkpoint-2"
    # Simulate a kill while checkpoint-2 was being written: it has no completion marker.
    (out / "checkpoint-2" / COMPLETE_MARKER).unlink()
    assert last_complete_checkpoint(out).name == "checkpoint-1"
    resumed = _train(tiny_dir, out, "--max_steps", "3", "--resume")
    assert resumed["steps"] == 3
    state = json.loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    train_steps = [r["step"] for r in read_metrics(out / "metrics.jsonl") if "loss" in r]
    assert train_steps == [1, 2, 3]  # steps 2-3 after the resume point, not a restart from 1
    assert (out / "training_curve.png").stat().st_size > 0
    assert json.loads((out / "summary.json").read_text())["heldout_n"] == 2


def test_help_lists_trl_and_agent_options():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for option in (
        "--expert_guidance",
        "--max_steps",
        "--num_generations",
        "--use_vllm",
        "--resume",
        "--config",
    ):
        assert option in result.stdout


def test_missing_model_path_fails_before_loading(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "not found" in result.stderr and "nope" in result.stderr


@pytest.mark.slow
def test_script_smoke_run_with_a_tiny_budget(tiny_dir, tmp_path):
    out = tmp_path / "smoke"
    command = [
        sys.executable, str(SCRIPT), "--model", str(tiny_dir), "--output_dir", str(out), "--max_steps", "1",
        "--no_sft_warmstart", "--num_generations", "4", "--per_device_train_batch_size", "4",
        "--gradient_accumulation_steps", "4",
        "--num_train_tasks", "4", "--num_eval_tasks", "2", "--max_completion_length", "100",
        "--max_turn_tokens", "12",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "held-out success" in result.stdout and "seed=0" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 1 and summary["expert_guidance"] == "masked"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env_id", "benchmark_name", "tool"),
    [
        ("smepo/SearchQA-v0", "fictional-world", "search"),
        ("smepo/Math-v0", "math-word", None),
        ("smepo/PythonExec-v0", "code-functions", "python"),
    ],
)
def test_one_grpo_step_on_every_env_with_its_own_benchmark(tiny_dir, tmp_path, env_id, benchmark_name, tool):
    from smepo_env.training.callbacks import read_metrics

    lines = []
    out = tmp_path / "run"
    summary = _train(
        tiny_dir, out, "--env_id", env_id, "--max_steps", "1", "--save_strategy", "no",
        "--num_train_tasks", "4", "--per_device_train_batch_size", "4", "--max_turns", "2",
        "--gradient_accumulation_steps", "4",
        log=lambda *parts: lines.append(" ".join(map(str, parts))),
    )  # fmt: skip
    assert summary["steps"] == 1 and summary["env_id"] == env_id
    assert any(f"on benchmark {benchmark_name}:" in line for line in lines), lines
    heldout = [r for r in read_metrics(out / "metrics.jsonl") if "heldout/success" in r]
    assert [r["step"] for r in heldout] == [0, 1]
    assert all(0.0 <= r["heldout/success"] <= 1.0 and r["heldout/n"] == 2 for r in heldout)
    assert summary["heldout_after"] == heldout[-1]["heldout/success"]
    train = next(r for r in read_metrics(out / "metrics.jsonl") if "loss" in r)
    assert "episodes/tool_calls/search" not in train or tool == "search"


def test_a_step_the_tasks_cannot_fill_is_refused_with_the_counts():
    from smepo_env.training.config import parse_arguments
    from smepo_env.training.grpo import check_step_fits

    _, grpo_config = parse_arguments(
        ["--num_generations", "2", "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "4"]
    )  # 16 episodes a step
    check_step_fits(8, grpo_config)
    with pytest.raises(ValueError, match=r"4 training task\(s\) cannot fill one step.*need 8 distinct"):
        check_step_fits(4, grpo_config)
    with pytest.raises(ValueError, match="need 16 distinct prompts"):
        check_step_fits(8, grpo_config, num_processes=2)


def test_runs_from_one_start_model_share_the_evaluation_before_training(tiny_dir, tmp_path):
    shared = tmp_path / "heldout-before.json"
    logs = {name: [] for name in ("first", "other_arm", "more_questions")}
    first = _train(tiny_dir, tmp_path / "a", "--max_steps", "1", "--heldout_before_file", str(shared),
                   log=logs["first"].append)  # fmt: skip
    assert shared.is_file() and not any("reused" in line for line in logs["first"])
    other = _train(tiny_dir, tmp_path / "b", "--max_steps", "1", "--seed", "1", "--expert_guidance", "none",
                   "--heldout_before_file", str(shared), log=logs["other_arm"].append)  # fmt: skip
    assert any("reused from" in line for line in logs["other_arm"])
    assert other["heldout_before"] == first["heldout_before"]
    more = _train(tiny_dir, tmp_path / "c", "--max_steps", "1", "--num_eval_tasks", "3",
                  "--heldout_before_file", str(shared), log=logs["more_questions"].append)  # fmt: skip
    assert not any("reused" in line for line in logs["more_questions"]) and more["heldout_n"] == 3
    assert len(json.loads(shared.read_text())["key"]["task_ids"]) == 3  # replaced by the new evaluation
