"""Partial fine-tuning: train only the top decoder layers, to fit CPU budgets.

Backward passes stop at the lowest trainable layer, so training the top ``n`` of a model's
``L`` layers costs one forward pass plus about ``n/L`` of a backward pass. The embedding
matrix (tied to the output head in small models) and the lower layers stay frozen; the top
layers and the final norm train. ``0`` trains everything (the right choice on a GPU).
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
