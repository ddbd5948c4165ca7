"""The GRPO trainer: TRL's ``GRPOTrainer``, without the passes that cannot change the gradient.

An episode whose advantage is zero (every episode of its group earned the same reward, which is
most groups on the hard problems SMEPO is about) contributes exactly nothing to the policy
gradient when there is no KL term: its per-token loss is the advantage times a ratio, so zero,
and so is its gradient. TRL still runs the model over it twice per step, once without gradient
for the old log-probabilities (vLLM's importance-sampling correction) and once with gradient for
the loss. On a CPU those two passes are most of a step. :class:`ZeroAdvantageSkippingTrainer`
leaves such episodes out of both passes; the objective, the gradient and the optimizer step are
unchanged:

* **loss pass** (:meth:`_compute_loss`): the rows whose advantage is zero are dropped from the
  micro-batch (and the padding only they needed is trimmed) before TRL's own loss runs on the rest.
  The loss is normalised by the token count of the whole generation batch (``dapo``/``cispo``,
  TRL's default ``dapo``), which does not depend on which rows are present, so the loss and
  gradient are the same. A micro-batch with no signal returns a zero loss that still reaches every
  trainable parameter, so the optimizer steps with zero gradients exactly as it would have.
* **old log-probability pass**: the rollout knows each episode's reward before TRL scores it, so
  it marks the groups whose rewards are all equal (:meth:`note_zero_signal_rows`); their old
  log-probabilities are left as NaN instead of computed. TRL's logged sampling difference skips
  NaN tokens; its importance-sampling ratio reads them as 1, so
  ``sampling/importance_sampling_ratio/*`` averages over the trained episodes and ones. Those
  rows are then dropped from the loss pass, whatever their advantage.

Where a setting makes zero-advantage rows matter, every row is computed as TRL does: a KL term
(``beta != 0``), a loss normalised per micro-batch or per sequence (``grpo``, ``bnpo``,
``dr_grpo``, ...), an entropy mask (``top_entropy_quantile < 1``, a quantile over the batch), an
off-policy mask, a router auxiliary loss, or several processes (TRL's loss gathers metrics across
processes, and every process must reach those collectives). Metrics that TRL computes inside the
loss (``entropy``, ``clip_ratio/*``) then describe the trained rows only, and are absent for a
step where no row was trained.

Checked against TRL 1.16 (``_compute_loss``, ``_get_per_token_logps_and_entropies``, the
``num_items_in_batch`` normaliser); ``tests/training/test_trainer.py`` compares the gradient
with TRL's own on the same batch, so a TRL change that breaks the equivalence fails there.
"""

from __future__ import annotations

from typing import Any

import torch
from trl import GRPOTrainer

SKIPPABLE_LOSS_TYPES: tuple[str, ...] = ("dapo", "cispo")
"""Loss types whose normaliser is the generation batch's token count, independent of the rows present."""

PROMPT_KEYS: tuple[str, ...] = ("prompt_ids", "prompt_mask")
"""Inputs laid out along the prompt; other two-dimensional inputs run along the completion."""


PLAIN_KWARGS: tuple[str, ...] = ("batch_size", "compute_entropy")
"""A text-only log-probability pass's keyword arguments; with any other one set, TRL's pass runs."""


class ZeroAdvantageSkippingTrainer(GRPOTrainer):
    """``GRPOTrainer`` that runs the model only over episodes with a learning signal (module docstring)."""

    _zero_signal_rows: torch.Tensor | None = None

    def skips_zero_advantage(self) -> bool:
        """Whether this run's settings make zero-advantage episodes exactly gradient-free."""
        return (
            self.beta == 0.0
            and self.loss_type in SKIPPABLE_LOSS_TYPES
            and self.top_entropy_quantile >= 1.0
            and getattr(self, "off_policy_mask_threshold", None) is None
            and not getattr(self, "aux_loss_enabled", False)
            and self.accelerator.num_processes == 1
        )

    def note_zero_signal_rows(self, rows: torch.Tensor | list[bool]) -> None:
        """Mark the episodes of the generation batch being scored whose group rewards are all equal.

        Called by the rollout, which knows the rewards first; the next old log-probability pass over
        a batch of that many rows leaves them out. Ignored where skipping is off.
        """
        mask = torch.as_tensor(rows, dtype=torch.bool)
        self._zero_signal_rows = mask if self.skips_zero_advantage() and bool(mask.any()) else None

    def _get_per_token_logps_and_entropies(
        self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, logits_to_keep: int,
        *args: Any, **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:  # fmt: skip
        skip, self._zero_signal_rows = self._zero_signal_rows, None
        if (
            skip is None
            or torch.is_grad_enabled()
            or args
            or kwargs.get("compute_entropy")
            or len(skip) != input_ids.size(0)
            or any(value is not None for key, value in kwargs.items() if key not in PLAIN_KWARGS)
        ):
            return super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, *args, **kwargs
            )
        skip = skip.to(input_ids.device)
        logps = torch.full(
            (input_ids.size(0), logits_to_keep), float("nan"), device=input_ids.device, dtype=torch.float32
        )
        keep = ~skip
        if keep.any():
            kept, _, _ = super()._get_per_token_logps_and_entropies(
                model, input_ids[keep], attention_mask[keep], logits_to_keep, **kwargs
            )
            logps = logps.to(kept.dtype)
            logps[keep] = kept
        return logps, None, None

    def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor:
        if not self.skips_zero_advantage():
            return super()._compute_loss(model, inputs)
        keep = rows_with_signal(inputs)
        if bool(keep.all()):
            return super()._compute_loss(model, inputs)
        if not bool(keep.any()):
            # Zero, with a (zero) gradient for every trainable parameter, as the full pass would give.
            return sum((p.sum() * 0.0 for p in model.parameters() if p.requires_grad), torch.zeros(()))
        return super()._compute_loss(model, select_rows(inputs, keep))


def rows_with_signal(inputs: dict[str, Any]) -> torch.Tensor:
    """The rows of a micro-batch that can change the gradient.

    A row is dropped when its advantage is zero at every token, or when its old log-probabilities
    were not computed (all NaN: the rollout marked its group as signal-free).
    """
    advantages = inputs["advantages"]
    keep = advantages.reshape(advantages.size(0), -1).ne(0).any(dim=1)
    old = inputs.get("old_per_token_logps")
    if old is not None:
        keep &= ~torch.isnan(old).all(dim=1)
    return keep


def select_rows(inputs: dict[str, Any], keep: torch.Tensor) -> dict[str, Any]:
    """``inputs`` restricted to the ``keep`` rows, without the padding columns only dropped rows used.

    Tensors whose first dimension is the batch are sliced; the prompt (left-padded) loses leading
    columns that are padding in every kept row, the completion (right-padded) trailing ones.
    Everything else (``num_items_in_batch``, the generation batch's token count) is kept as is.
    """
    batch = keep.size(0)
    selected = {key: value[keep] if _is_per_row(value, batch) else value for key, value in inputs.items()}
    prompt_used = selected["prompt_mask"].bool().any(dim=0).nonzero()
    start = int(prompt_used[0]) if len(prompt_used) else 0
    completion_used = selected["completion_mask"].bool().any(dim=0).nonzero()
    width = selected["completion_ids"].size(1)
    end = int(completion_used[-1]) + 1 if len(completion_used) else width
    for key, value in selected.items():
        if not isinstance(value, torch.Tensor) or value.dim() != 2:
            continue
        if key in PROMPT_KEYS:
            selected[key] = value[:, start:]
        elif value.size(1) == width:
            selected[key] = value[:, :end]
    return selected


def _is_per_row(value: Any, batch: int) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() >= 1 and value.size(0) == batch
