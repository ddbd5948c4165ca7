"""The supervised warm start: episode layout, loss only on the expert's turns, caching."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from smepo_env.training.data import expert_example, make_env
from smepo_env.training.sft import WarmstartSettings, build_warmstart_examples, run_warmstart

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_dir(tiny_model_dir):
    return tiny_model_dir


@pytest.fixture(scope="module")
def tokenizer(tiny_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_dir)


def _settings(tiny_dir, **overrides):
    values = {
        "model": str(tiny_dir),
        "env_id": "smepo/SearchQA-v0",
        "env_kwargs": {"split": "train", "max_turns": 4},
        "question_types": ("single-hop", "two-hop"),
        "num_examples": 8,
        "batch_size": 4,
        "learning_rate": 1e-3,
    }
    values.update(overrides)
    return WarmstartSettings(**values)


def test_expert_example_trains_on_expert_turns_only(tokenizer, fictional_benchmark):
    task = next(t for t in fictional_benchmark.tasks("train") if t.question_type == "two-hop")
    env = make_env("smepo/SearchQA-v0", {"split": "train", "max_turns": 4})
    example = expert_example(env, tokenizer, task)
    ids, mask = example["input_ids"], example["assistant_masks"]
    assert len(ids) == len(mask)
    trained = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
    assert trained == "".join(task.metadata["expert_actions"])
    masked_out = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if not m])
    assert "<information>" in masked_out and task.question in masked_out
    assert "<information>" not in trained


def test_examples_follow_the_question_types(tiny_dir, tokenizer):
    examples = build_warmstart_examples(_settings(tiny_dir, question_types=("single-hop",)), tokenizer)
    assert len(examples) == 8
    # single-hop expert episodes: one search, one answer -> two trained spans
    for example in examples:
        mask = example["assistant_masks"]
        starts = sum(1 for i, m in enumerate(mask) if m and (i == 0 or not mask[i - 1]))
        assert starts == 2


def test_warmstart_trains_saves_and_is_cached(tiny_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    target = tmp_path / "sft"
    logs = []
    result = run_warmstart(_settings(tiny_dir), output_dir=target, log=logs.append, fresh_process=False)
    assert (
        result == target
        and (target / "config.json").is_file()
        and (target / "tokenizer_config.json").is_file()
    )
    start = AutoModelForCausalLM.from_pretrained(tiny_dir).state_dict()
    tuned = AutoModelForCausalLM.from_pretrained(target).state_dict()
    assert any(not torch.equal(start[k], tuned[k]) for k in start)
    assert any("trained on (expert turns only)" in line for line in logs)
    logs.clear()
    assert run_warmstart(_settings(tiny_dir), output_dir=target, log=logs.append) == target
    assert any("cached" in line for line in logs)


def test_warmstart_trains_in_a_fresh_process_by_default(tiny_dir, tmp_path, capfd):
    import torch
    from transformers import AutoModelForCausalLM

    target = tmp_path / "sft"
    logs = []
    assert run_warmstart(_settings(tiny_dir), output_dir=target, log=logs.append) == target
    assert logs == ["[sft] training the warm start in a fresh process (its memory is freed when it ends)"]
    assert "trained on (expert turns only)" in capfd.readouterr().out  # the child's own lines
    start = AutoModelForCausalLM.from_pretrained(tiny_dir).state_dict()
    tuned = AutoModelForCausalLM.from_pretrained(target).state_dict()
    assert any(not torch.equal(start[k], tuned[k]) for k in start)


def test_cache_key_changes_with_the_settings(tiny_dir):
    assert _settings(tiny_dir).cache_key() == _settings(tiny_dir).cache_key()
    assert _settings(tiny_dir).cache_key() != _settings(tiny_dir, num_examples=9).cache_key()


def test_script_help():
    result = subprocess.run(
        [sys.executable, str(REPO / "agents" / "sft_warmstart.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "--sft_num_examples" in result.stdout


def test_guided_share_mixes_guided_and_plain_prompts(tiny_dir, tokenizer):
    settings = _settings(
        tiny_dir, expert_guidance="masked", guided_share=0.25, question_types=("single-hop",)
    )
    examples = build_warmstart_examples(settings, tokenizer)
    prompts = [
        tokenizer.decode([t for t, m in zip(e["input_ids"], e["assistant_masks"], strict=True) if not m])
        for e in examples
    ]
    guided = [p for p in prompts if "example solution from an expert" in p]
    assert len(examples) == 8 and len(guided) == 2
    assert all("[ANSWER]" in p or "[" in p for p in guided)  # masked, not the full trace
    plain_only = build_warmstart_examples(_settings(tiny_dir, guided_share=1.0), tokenizer)
    assert not any("expert" in tokenizer.decode(e["input_ids"]) for e in plain_only)  # mode none: all plain
