"""Partial fine-tuning: train only the top decoder layers, to fit CPU budgets.

Backward passes stop at the lowest trainable layer, so training the top ``n`` of a model's
``L`` layers costs one forward pass plus about ``n/L`` of a backward pass. The embedding
matrix (tied to the output head in small models) and the lower layers stay frozen; the top
layers and the final norm train. ``0`` trains everything (the right choice on a GPU).

Under bf16 mixed precision (autocast, the CPU default where the CPU has bf16) every matmul
casts its float32 weight to bf16 on each forward pass, so a frozen layer gains nothing from its
float32 copy: :func:`store_frozen_layers_in` keeps frozen decoder layers in bf16 (half their
memory, and no cast per forward). The embedding stays as loaded: it carries the float32
residual stream and, tied, is the output head.
"""

from __future__ import annotations

from typing import Any


def decoder_layers(model: Any) -> Any:
    """The model's list of decoder layers (the ``ModuleList`` as long as ``num_hidden_layers``).

    Raises:
        ValueError: no such list found.
    """
    import torch

    wanted = getattr(model.config, "num_hidden_layers", None)
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == wanted:
            return module
    raise ValueError(f"cannot find the decoder layers of {type(model).__name__} (num_hidden_layers={wanted})")


def freeze_lower_layers(model: Any, trainable_layers: int) -> int:
    """Freeze all but the top ``trainable_layers`` decoder layers and the final norm.

    Args:
        model: a causal LM.
        trainable_layers: layers to train, counted from the top; 0 leaves everything trainable.

    Returns:
        The number of trainable parameters.
    """
    if trainable_layers < 0:
        raise ValueError(f"trainable_layers must be >= 0, got {trainable_layers!r}")
    if trainable_layers:
        layers = decoder_layers(model)
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        for layer in list(layers)[-trainable_layers:]:
            for parameter in layer.parameters():
                parameter.requires_grad_(True)
        norm = getattr(getattr(model, "model", None), "norm", None)
        if norm is not None:
            for parameter in norm.parameters():
                parameter.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def store_frozen_layers_in(model: Any, dtype: Any) -> int:
    """Cast every decoder layer without a trainable parameter to ``dtype``.

    For bf16 autocast only: the layers' matmuls see the same bf16 weights as before; their norm
    weights are rounded to ``dtype`` (exactly representable when the checkpoint was bf16, as
    SmolLM2's is), and the float32 residual stream is untouched (the embedding keeps its dtype).
    Outside autocast a float32 input would meet these bf16 weights and fail, so call it only
    when every forward pass of ``model`` runs under bf16 autocast.

    Args:
        model: a causal LM after :func:`freeze_lower_layers`.
        dtype: the storage dtype (``torch.bfloat16``).

    Returns:
        The bytes of parameters freed.
    """
    freed = 0
    for layer in decoder_layers(model):
        parameters = list(layer.parameters())
        if not parameters or any(p.requires_grad for p in parameters):
            continue
        before = sum(p.numel() * p.element_size() for p in parameters)
        layer.to(dtype)
        freed += before - sum(p.numel() * p.element_size() for p in layer.parameters())
    return freed
