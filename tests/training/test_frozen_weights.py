"""Frozen linear weights held in bf16: the same autocast products, half the bytes, no file mapping kept."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from smepo_env.training.freezing import freeze_lower_layers
from smepo_env.training.frozen_weights import (
    LowPrecisionFrozenEmbedding,
    LowPrecisionFrozenLinear,
    compact_frozen_weights,
    hold_frozen_linears_in,
)


def _save_tiny_llama(directory: Path) -> Path:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=101, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(directory, safe_serialization=True)
    return directory


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return _save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


def _load(directory: Path, trainable_layers: int = 1) -> torch.nn.Module:
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    freeze_lower_layers(model, trainable_layers)
    return model


def _step(model: torch.nn.Module, ids: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits and the trainable parameters' gradients of one bf16-autocast pass."""
    model.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(input_ids=ids).logits
    logits.float().log_softmax(-1)[..., 7].sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
    return logits.detach(), grads


def test_frozen_linears_in_bf16_leave_autocast_logits_and_gradients_unchanged(tiny_dir):
    model = _load(tiny_dir)
    ids = torch.randint(0, 101, (2, 40))
    keys = list(model.state_dict())
    logits, grads = _step(model, ids)
    frozen = [p for layer in model.model.layers[:3] for name, p in layer.named_parameters() if "proj" in name]

    assert hold_frozen_linears_in(model, torch.bfloat16) == sum(p.numel() for p in frozen)

    assert list(model.state_dict()) == keys  # checkpoints keep their names
    for layer in model.model.layers[:3]:  # the frozen layers' projections, and nothing else, are bf16
        assert isinstance(layer.self_attn.q_proj, LowPrecisionFrozenLinear)
        assert layer.mlp.down_proj.weight.dtype == torch.bfloat16
        assert layer.input_layernorm.weight.dtype == torch.float32
    top = model.model.layers[3]
    assert type(top.self_attn.q_proj) is torch.nn.Linear
    assert top.self_attn.q_proj.weight.dtype == torch.float32
    assert model.lm_head.weight is model.model.embed_tokens.weight  # the tied head is left to the embedding
    after_logits, after_grads = _step(model, ids)
    assert torch.equal(after_logits, logits)  # autocast rounded those weights to bf16 anyway
    assert after_grads.keys() == grads.keys()
    for name, grad in grads.items():
        assert torch.equal(after_grads[name], grad), name


def test_compaction_halves_the_frozen_bytes_keeps_the_tie_and_moves_logits_by_rounding_only(tiny_dir):
    model = _load(tiny_dir)
    ids = torch.randint(0, 101, (2, 40))
    logits, grads = _step(model, ids)
    frozen_bytes = sum(p.numel() * 4 for p in model.parameters() if not p.requires_grad and p.dim() == 2)

    assert compact_frozen_weights(model, torch.bfloat16) == frozen_bytes // 2

    embedding = model.model.embed_tokens
    assert isinstance(embedding, LowPrecisionFrozenEmbedding) and embedding.weight.dtype == torch.bfloat16
    assert model.lm_head.weight is embedding.weight  # one matrix, as before
    assert len(list(model.parameters())) == len(dict(model.named_parameters(remove_duplicate=False))) - 1
    assert embedding(ids).dtype == torch.float32  # the residual stream stays float32
    after_logits, after_grads = _step(model, ids)
    assert after_logits.dtype == logits.dtype
    assert torch.allclose(after_logits.float(), logits.float(), atol=0.05)  # the input rows' bf16 rounding
    for name, grad in grads.items():
        assert (after_grads[name] - grad).norm() <= 0.02 * grad.norm(), name


def test_outside_autocast_the_model_still_runs_in_float32(tiny_dir):
    model = _load(tiny_dir)
    ids = torch.randint(0, 101, (1, 30))
    with torch.no_grad():
        expected = model(input_ids=ids).logits
    compact_frozen_weights(model, torch.bfloat16)
    with torch.no_grad():
        got = model(input_ids=ids).logits
    assert got.dtype == torch.float32
    assert torch.allclose(got, expected, atol=0.05), (got - expected).abs().max()


def test_a_saved_compacted_model_loads_back_in_float32(tiny_dir, tmp_path):
    model = _load(tiny_dir)
    compact_frozen_weights(model, torch.bfloat16)
    model.save_pretrained(tmp_path / "saved", safe_serialization=True)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "saved", dtype=torch.float32)
    assert {p.dtype for p in reloaded.parameters()} == {torch.float32}
    ids = torch.randint(0, 101, (1, 20))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(reloaded(input_ids=ids).logits, model(input_ids=ids).logits)


def test_nothing_is_converted_when_every_layer_trains(tiny_dir):
    model = _load(tiny_dir, trainable_layers=0)
    assert hold_frozen_linears_in(model, torch.bfloat16) == 0
    assert compact_frozen_weights(model, torch.bfloat16) == 0
    assert {p.dtype for p in model.parameters()} == {torch.float32}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc/self/maps")
def test_the_checkpoint_file_is_no_longer_mapped(tiny_dir):
    def mapped() -> bool:
        return str(tiny_dir / "model.safetensors") in Path("/proc/self/maps").read_text()

    model = _load(tiny_dir)
    gc.collect()
    assert mapped()  # transformers memory-maps the file and the float32 parameters view it
    compact_frozen_weights(model, torch.bfloat16)
    gc.collect()
    assert not mapped()
