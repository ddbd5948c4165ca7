"""How a partly frozen policy holds its weights in memory on a CPU.

Two things make a loaded policy take more memory than its training needs:

* **Frozen linear weights in float32.** On a CPU with bf16, training runs in float32 under bf16
  autocast, which casts every linear layer's weight to bf16 at each call. A frozen weight is never
  updated, so holding it in bf16 from the start gives the same products (autocast would have
  rounded it the same way) at half the bytes. :func:`hold_frozen_linears_in` converts the linear
  layers whose parameters are all frozen, in place; :class:`LowPrecisionFrozenLinear` casts its
  input to the weight's dtype and its output back when it runs outside autocast (generation
  copies, a float32 evaluation), so the model works in either context. Norms and every
  trainable parameter stay float32. For the default run (SmolLM2-135M, top 8 of 30 layers
  trained) that is 78M weights, 0.30 GiB in float32 and 0.15 GiB in bf16.
* **A frozen embedding in float32.** :func:`hold_frozen_embeddings_in` holds it in bf16 too (the
  tied output head shares it: autocast computes the head in bf16 anyway) and casts the rows it
  returns back to float32, so the residual stream keeps its precision. This one is not exact:
  the input rows are their bf16 rounding, as in the vLLM engine that samples the rollouts.
  28M weights, 0.11 GiB in float32, 0.05 GiB in bf16.
* **Weights that still view the checkpoint file.** transformers memory-maps ``model.safetensors``
  and, when the dtypes match, the parameters are views of that mapping: every page read stays
  in the process's resident set for as long as any parameter points into the file (the whole
  513 MiB file once the first forward pass or weight sync has read it). :func:`own_weights`
  copies each parameter that is not converted, so the mapping is released with the last view.

Checkpoints saved afterwards hold the converted weights in bf16 (the values training used);
loading them with ``dtype=torch.float32`` casts them back. :func:`compact_frozen_weights` does
all three and is what the GRPO trainer and the warm start call when they train under bf16
autocast on a CPU.
"""

from __future__ import annotations

import torch


class LowPrecisionFrozenLinear(torch.nn.Linear):
    """A frozen ``nn.Linear`` whose weight is held in a lower precision than its inputs.

    Under autocast the weight is used as is (autocast would have cast it to this dtype anyway);
    outside autocast the input is cast to the weight's dtype and the output back to the input's.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dtype == self.weight.dtype or torch.is_autocast_enabled(input.device.type):
            return super().forward(input)
        return super().forward(input.to(self.weight.dtype)).to(input.dtype)

    @classmethod
    def from_linear(
        cls, linear: torch.nn.Linear, dtype: torch.dtype, weight: torch.nn.Parameter | None = None
    ) -> LowPrecisionFrozenLinear:
        """A copy of ``linear`` with its weight (and bias) in ``dtype``, not trainable.

        ``weight``: a parameter already in ``dtype`` to use instead of converting ``linear``'s own.
        """
        module = cls.__new__(cls)
        torch.nn.Module.__init__(module)
        module.in_features, module.out_features = linear.in_features, linear.out_features
        if weight is None:
            weight = torch.nn.Parameter(linear.weight.detach().to(dtype, copy=True), requires_grad=False)
        module.weight = weight
        bias = linear.bias
        if bias is None:
            module.bias = None
        else:
            module.bias = torch.nn.Parameter(bias.detach().to(dtype, copy=True), requires_grad=False)
        return module


class LowPrecisionFrozenEmbedding(torch.nn.Embedding):
    """A frozen ``nn.Embedding`` held in a lower precision; the rows it returns are cast to ``output_dtype``.

    The model's residual stream keeps its dtype (float32); each row is its bf16 rounding.
    """

    output_dtype: torch.dtype = torch.float32

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return super().forward(input).to(self.output_dtype)

    @classmethod
    def from_embedding(
        cls, embedding: torch.nn.Embedding, weight: torch.nn.Parameter
    ) -> LowPrecisionFrozenEmbedding:
        """``embedding`` with ``weight`` (already in the lower precision) in place of its own."""
        module = cls(
            embedding.num_embeddings, embedding.embedding_dim, padding_idx=embedding.padding_idx,
            max_norm=embedding.max_norm, norm_type=embedding.norm_type,
            scale_grad_by_freq=embedding.scale_grad_by_freq, sparse=embedding.sparse,
            _weight=weight, _freeze=True,
        )  # fmt: skip
        module.weight = weight  # the same object, not the copy-wrapper nn.Embedding makes, so ties hold
        module.output_dtype = embedding.weight.dtype
        return module


def hold_frozen_embeddings_in(model: torch.nn.Module, dtype: torch.dtype) -> int:
    """Hold a frozen input embedding in ``dtype``, and the output head with it when the two are tied.

    Unlike the linear layers this is not free under autocast: the input rows are rounded to
    ``dtype`` (autocast rounds the tied head's weight anyway), as the vLLM engine that samples
    the rollouts holds them. Returns the number of weights converted.
    """
    embedding = model.get_input_embeddings()
    if type(embedding) is not torch.nn.Embedding or embedding.weight.requires_grad:
        return 0
    head = model.get_output_embeddings()
    tied = head is not None and head.weight is embedding.weight
    if tied and (type(head) is not torch.nn.Linear or head.bias is not None):
        return 0
    weight = torch.nn.Parameter(embedding.weight.detach().to(dtype, copy=True), requires_grad=False)
    model.set_input_embeddings(LowPrecisionFrozenEmbedding.from_embedding(embedding, weight))
    if tied:
        model.set_output_embeddings(LowPrecisionFrozenLinear.from_linear(head, dtype, weight))  # still tied
    return weight.numel()


def _frozen_linears(model: torch.nn.Module) -> list[tuple[torch.nn.Module, str, torch.nn.Linear]]:
    """``(parent, attribute, linear)`` for every plain linear layer whose parameters are all frozen.

    Linear layers whose weight is shared with another module (a tied output head) are skipped.
    """
    shared = {}
    for module in model.modules():
        for parameter in module.parameters(recurse=False):
            shared[id(parameter)] = shared.get(id(parameter), 0) + 1
    found = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if type(child) is not torch.nn.Linear:
                continue
            parameters = list(child.parameters())
            if any(p.requires_grad for p in parameters) or any(shared[id(p)] > 1 for p in parameters):
                continue
            found.append((parent, name, child))
    return found


def hold_frozen_linears_in(model: torch.nn.Module, dtype: torch.dtype) -> int:
    """Replace each frozen, untied ``nn.Linear`` of ``model`` by a :class:`LowPrecisionFrozenLinear`.

    Parameter names (and so ``state_dict`` keys) do not change.

    Returns:
        The number of weights converted.
    """
    converted = 0
    for parent, name, linear in _frozen_linears(model):
        setattr(parent, name, LowPrecisionFrozenLinear.from_linear(linear, dtype))
        converted += sum(p.numel() for p in linear.parameters())
    return converted


def own_weights(model: torch.nn.Module) -> None:
    """Copy every parameter and buffer into memory of its own, so none still views a mapped file.

    Tied parameters stay tied (each ``Parameter`` object is updated once, in place of its data).
    """
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.data = parameter.data.clone()
        for module in model.modules():
            for name, buffer in module.named_buffers(recurse=False):
                if buffer is not None:
                    setattr(module, name, buffer.clone())


def compact_frozen_weights(model: torch.nn.Module, dtype: torch.dtype = torch.bfloat16) -> int:
    """:func:`hold_frozen_linears_in`, :func:`hold_frozen_embeddings_in`, then :func:`own_weights`.

    Returns the bytes no longer held.

    The figure counts the converted weights' saving only; the released file mapping comes on top.
    """
    before = sum(p.numel() * p.element_size() for p in model.parameters())  # shared ones once
    hold_frozen_linears_in(model, dtype)
    hold_frozen_embeddings_in(model, dtype)
    own_weights(model)
    return before - sum(p.numel() * p.element_size() for p in model.parameters())
