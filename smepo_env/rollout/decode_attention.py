"""Single-query attention for generation on a CPU, registered with transformers' ``AttentionInterface``.

In ``model.generate`` on a CPU, every decode step asks the attention for one new query per
sequence. With the default ``sdpa`` implementation that step goes to PyTorch's CPU flash
kernel, built for long queries, and, because the padding of a batch of episodes is a mask,
transformers first copies the grouped key/value heads out to one per query head
(``repeat_kv``). Measured on the project's 2-core machine (SmolLM2-135M, 16 sequences of 400
tokens, 64 new tokens): the flash kernel took half of every decode step and the copies a fifth,
in float32 and bfloat16 alike, so bf16 generation was only 1.3x float32 (52 against 41 model
tokens/s). Computed as two small matrix products over the grouped heads instead, the same
generate ran at 91 tokens/s in bf16 (52 in float32).

:func:`cpu_decode_attention` switches a model to :data:`ATTENTION_NAME` for the duration of a
``with`` block: single-query steps of a model in eval mode take the matrix-product path, every
other call (prefill, training, a paged cache, attention sinks, soft-capping, position biases)
goes to transformers' own ``sdpa`` function unchanged. Masks are built exactly as for ``sdpa``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import sdpa_mask

ATTENTION_NAME = "smepo_cpu_decode"
"""The name this attention is registered under."""

_SDPA_ONLY_OPTIONS = ("position_bias", "cache", "s_aux", "sinks", "softcap")
"""Keyword arguments whose presence (not ``None``) sends a call to plain ``sdpa``."""


def decode_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention of one query position over the cache; anything else goes to ``sdpa``.

    Args:
        module: the attention layer (its ``training`` flag is read).
        query: ``(batch, heads, query_len, head_dim)``.
        key: ``(batch, kv_heads, kv_len, head_dim)``; ``heads`` a multiple of ``kv_heads``.
        value: ``(batch, kv_heads, kv_len, value_dim)``.
        attention_mask: ``sdpa``'s mask: boolean (``True`` attends) or additive, broadcast to
            ``(batch, 1, query_len, >= kv_len)``; ``None`` attends to every cached position.
        dropout: dropout probability (only ever non-zero in training, which goes to ``sdpa``).
        scaling: the softmax scale; ``None`` means ``head_dim ** -0.5``.
        is_causal: passed on to ``sdpa``; a single query attends to the whole cache anyway.

    Returns:
        ``(batch, query_len, heads, value_dim)`` and ``None`` (no attention weights), as
        transformers' ``sdpa`` returns them.
    """
    batch, heads, query_len, head_dim = query.shape
    kv_heads = key.shape[1]
    plain = (
        query_len != 1
        or module.training
        or dropout > 0
        or heads % kv_heads
        or any(kwargs.get(option) is not None for option in _SDPA_ONLY_OPTIONS)
    )
    if plain:
        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            is_causal=is_causal,
            **kwargs,
        )
    # The query heads that share a key/value head become rows of one matrix product with it.
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, head_dim)
    scores = torch.matmul(grouped, key.transpose(2, 3)) * (scaling if scaling is not None else head_dim**-0.5)
    if attention_mask is not None:
        mask = attention_mask[..., : key.shape[2]]  # (batch or 1, 1, 1, kv_len) broadcasts over the groups
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    output = torch.matmul(weights, value)  # (batch, kv_heads, group, value_dim)
    return output.reshape(batch, heads, 1, value.shape[-1]).transpose(1, 2).contiguous(), None


AttentionInterface.register(ATTENTION_NAME, decode_attention_forward)
AttentionMaskInterface.register(ATTENTION_NAME, sdpa_mask)


@contextlib.contextmanager
def cpu_decode_attention(model: Any) -> Iterator[bool]:
    """Use :func:`decode_attention_forward` in ``model`` inside the block, then restore its attention.

    Only a CPU model that uses ``sdpa`` and supports switching (the ``AttentionInterface``
    models: Llama, Qwen2/3, SmolLM2, Mistral, ...) is switched; any other model is left alone.

    Yields:
        Whether the model was switched.
    """
    config = getattr(model, "config", None)
    parameter = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    switch = (
        config is not None
        and getattr(config, "_attn_implementation", None) == "sdpa"
        and parameter is not None
        and parameter.device.type == "cpu"
        and getattr(model, "_can_set_attn_implementation", lambda: False)()
    )
    if not switch:
        yield False
        return
    model.set_attn_implementation(ATTENTION_NAME)
    try:
        yield True
    finally:
        model.set_attn_implementation("sdpa")
