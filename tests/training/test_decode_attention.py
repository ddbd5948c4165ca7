"""The CPU decode attention: same results as transformers' sdpa, taken only for single-query steps."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from smepo_env.rollout import decode_attention
from smepo_env.rollout.decode_attention import ATTENTION_NAME, cpu_decode_attention, decode_attention_forward


def reference_attention(query, key, value, keep, scaling):
    """Textbook attention in float64 with the key/value heads repeated: what every path must equal."""
    group = query.shape[1] // key.shape[1]
    key = key.double().repeat_interleave(group, dim=1)
    value = value.double().repeat_interleave(group, dim=1)
    scores = query.double() @ key.transpose(2, 3) * scaling
    scores = scores.masked_fill(~keep, float("-inf"))
    return (scores.softmax(-1) @ value).transpose(1, 2)


class Layer(torch.nn.Module):
    num_key_value_groups = 3


def test_single_query_matches_reference_with_grouped_heads_and_padding():
    torch.manual_seed(0)
    batch, heads, kv_heads, length, dim = 3, 6, 2, 11, 8
    query = torch.randn(batch, heads, 1, dim)
    key, value = torch.randn(2, batch, kv_heads, length, dim)
    keep = torch.ones(batch, 1, 1, length, dtype=torch.bool)
    keep[0, ..., :4] = False  # left padding of the first sequence
    keep[2, ..., :1] = False
    layer = Layer().eval()
    out, weights = decode_attention_forward(layer, query, key, value, keep, scaling=0.3)
    assert weights is None
    assert out.shape == (batch, 1, heads, dim)
    torch.testing.assert_close(
        out.double(), reference_attention(query, key, value, keep, 0.3), rtol=1e-5, atol=1e-5
    )
    additive = torch.zeros(keep.shape).masked_fill(~keep, float("-inf"))
    out_additive, _ = decode_attention_forward(layer, query, key, value, additive, scaling=0.3)
    torch.testing.assert_close(out_additive, out)


def test_bf16_single_query_stays_close_to_reference():
    torch.manual_seed(1)
    query = torch.randn(2, 4, 1, 16).bfloat16()
    key, value = torch.randn(2, 2, 2, 30, 16).bfloat16()
    keep = torch.ones(2, 1, 1, 30, dtype=torch.bool)
    out, _ = decode_attention_forward(Layer().eval(), query, key, value, keep, scaling=0.25)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(
        out.double(), reference_attention(query, key, value, keep, 0.25), rtol=2e-2, atol=2e-2
    )


@pytest.mark.parametrize(
    ("query_len", "training", "extra"),
    [(5, False, {}), (1, True, {}), (1, False, {"softcap": 30.0}), (1, False, {"s_aux": torch.zeros(6)})],
)
def test_everything_but_a_plain_eval_decode_step_goes_to_sdpa(monkeypatch, query_len, training, extra):
    calls = []
    monkeypatch.setattr(
        decode_attention, "sdpa_attention_forward", lambda *a, **k: calls.append(k) or ("sdpa", None)
    )
    layer = Layer().train(training)
    query = torch.randn(1, 6, query_len, 8)
    key, value = torch.randn(2, 1, 2, 9, 8)
    out, _ = decode_attention_forward(layer, query, key, value, None, **extra)
    assert out == "sdpa" and len(calls) == 1


def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=97, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=128,
        attn_implementation="sdpa",
    )  # fmt: skip
    return LlamaForCausalLM(config).eval()


def left_padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(3, 97, (3, 12))
    attention = torch.ones_like(ids)
    attention[0, :5] = 0
    attention[1, :2] = 0
    return ids.masked_fill(attention == 0, 0), attention


def test_generate_inside_the_block_equals_sdpa_and_skips_it_for_decode_steps(monkeypatch):
    model = tiny_llama()
    ids, attention = left_padded_batch()
    options = {
        "max_new_tokens": 8,
        "do_sample": False,
        "pad_token_id": 0,
        "output_scores": True,
        "return_dict_in_generate": True,
    }
    with torch.no_grad():
        expected = model.generate(input_ids=ids, attention_mask=attention, **options)
    calls = []
    sdpa = decode_attention.sdpa_attention_forward
    monkeypatch.setattr(
        decode_attention, "sdpa_attention_forward", lambda *a, **k: calls.append(1) or sdpa(*a, **k)
    )
    with torch.no_grad(), cpu_decode_attention(model) as switched:
        assert switched and model.config._attn_implementation == ATTENTION_NAME
        got = model.generate(input_ids=ids, attention_mask=attention, **options)
    assert model.config._attn_implementation == "sdpa"
    assert len(calls) == model.config.num_hidden_layers  # the prefill only; 7 decode steps took the fast path
    assert torch.equal(got.sequences, expected.sequences)
    for ours, theirs in zip(got.scores, expected.scores, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_the_block_restores_sdpa_after_an_error_and_leaves_other_models_alone():
    model = tiny_llama()
    with pytest.raises(RuntimeError, match="boom"), cpu_decode_attention(model):
        raise RuntimeError("boom")
    assert model.config._attn_implementation == "sdpa"
    model.set_attn_implementation("eager")
    with cpu_decode_attention(model) as switched:
        assert not switched and model.config._attn_implementation == "eager"
    with cpu_decode_attention(object()) as switched:
        assert not switched
