"""The GRPO trainer: TRL's ``GRPOTrainer``, without the passes that cannot change the gradient.

TRL runs the policy over a generation batch twice per step: once without gradient for the old
log-probabilities (with vLLM, for its importance-sampling correction), once with gradient for the
loss. On a CPU those two passes are most of a step. :class:`LeanGRPOTrainer` drops what cannot
change the result; the objective, the gradient and the optimizer step are TRL's.

**One pass where the step is on-policy.** With vLLM's importance-sampling correction, one policy
iteration per generation batch (``num_iterations=1``) and one optimizer step per generation batch
(``gradient_accumulation_steps`` a multiple of ``steps_per_generation``), the weights at the loss
pass are the weights the rollout sampled from, so the old log-probabilities are the loss pass's own,
detached. The old pass is then skipped; the loss pass computes the importance-sampling ratio
(``exp(policy - sampler)`` per token or per sequence, truncated or masked as TRL's
``vllm_importance_sampling_mode`` says) from its detached log-probabilities before TRL's loss reads
it, and TRL's PPO ratio is exactly one, as TRL itself sets it when it skips the pass (no vLLM). The
``sampling/sampling_logp_difference/*`` and ``sampling/importance_sampling_ratio/*`` metrics are
computed there too, over the trained rows, and replace the placeholders TRL logs for the skipped
pass. Off for several policy iterations, misaligned steps, an off-policy mask, or several processes.

**Zero-advantage episodes are not run.** An episode whose advantage is zero (every episode of its
group earned the same reward, which is most groups on the hard problems SMEPO is about) contributes
exactly nothing to the policy gradient when there is no KL term: its per-token loss is the
advantage times a ratio, so zero, and so is its gradient. They are left out of both passes:

* **loss pass** (:meth:`_compute_loss`): the rows whose advantage is zero are dropped from the
  micro-batch (and the padding only they needed is trimmed) before TRL's own loss runs on the rest.
  The loss is normalised by the token count of the whole generation batch (``dapo``/``cispo``,
  TRL's default ``dapo``), which does not depend on which rows are present, so the loss and
  gradient are the same. A micro-batch with no signal returns a zero loss that still reaches every
  trainable parameter, so the optimizer steps with zero gradients exactly as it would have.
* **old log-probability pass** (where it still runs): the rollout knows each episode's reward
  before TRL scores it, so it marks the groups whose rewards are all equal
  (:meth:`note_zero_signal_rows`); their old log-probabilities are left as NaN instead of computed.
  TRL's logged sampling difference skips NaN tokens; its importance-sampling ratio reads them as 1,
  so ``sampling/importance_sampling_ratio/*`` averages over the trained episodes and ones. Those
  rows are then dropped from the loss pass, whatever their advantage.

Where a setting makes zero-advantage rows matter, every row is computed as TRL does: a KL term
(``beta != 0``), a loss normalised per micro-batch or per sequence (``grpo``, ``bnpo``,
``dr_grpo``, ...), an entropy mask (``top_entropy_quantile < 1``, a quantile over the batch), an
off-policy mask, a router auxiliary loss, or several processes (TRL's loss gathers metrics across
processes, and every process must reach those collectives). Metrics that TRL computes inside the
loss (``entropy``, ``clip_ratio/*``) then describe the trained rows only, and are absent for a
step where no row was trained.

Checked against TRL 1.16 (``_generate_and_score_completions``' importance-sampling block,
``_compute_loss``, ``_get_per_token_logps_and_entropies``, the ``num_items_in_batch`` normaliser);
``tests/training/test_trainer.py`` compares loss and gradient with TRL's own two-pass step on the
same rollout, so a TRL change that breaks the equivalence fails there.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from trl import GRPOTrainer

SKIPPABLE_LOSS_TYPES: tuple[str, ...] = ("dapo", "cispo")
"""Loss types whose normaliser is the generation batch's token count, independent of the rows present."""

PROMPT_KEYS: tuple[str, ...] = ("prompt_ids", "prompt_mask")
"""Inputs laid out along the prompt; other two-dimensional inputs run along the completion."""


PLAIN_KWARGS: tuple[str, ...] = ("batch_size", "compute_entropy")
"""A text-only log-probability pass's keyword arguments; with any other one set, TRL's pass runs."""


class LeanGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` that runs the model only where the result can change (module docstring)."""

    _zero_signal_rows: torch.Tensor | None = None
    _skip_old_pass: bool = False
    _loss_inputs: dict[str, Any] | None = None
    _sampling_stats: dict[str, dict[str, list[torch.Tensor]]] | None = None

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

    def merges_old_logprob_pass(self) -> bool:
        """Whether the old log-probs are the loss pass's own: an on-policy step with vLLM's correction."""
        return (
            self.use_vllm
            and self.vllm_importance_sampling_correction
            and self.num_iterations == 1
            and self.args.gradient_accumulation_steps % self.args.steps_per_generation == 0
            and getattr(self, "off_policy_mask_threshold", None) is None
            and self.accelerator.num_processes == 1
        )

    def note_zero_signal_rows(self, rows: torch.Tensor | list[bool]) -> None:
        """Mark the episodes of the generation batch being scored whose group rewards are all equal.

        Called by the rollout, which knows the rewards first; the next old log-probability pass over
        a batch of that many rows leaves them out. Ignored where skipping is off.
        """
        mask = torch.as_tensor(rows, dtype=torch.bool)
        self._zero_signal_rows = mask if self.skips_zero_advantage() and bool(mask.any()) else None

    def _generate_and_score_completions(self, inputs: Any) -> dict[str, Any]:
        self._skip_old_pass = self.merges_old_logprob_pass()
        if self._skip_old_pass:  # its sampling metrics come from the loss pass (see log)
            self._sampling_bucket()
        try:
            return super()._generate_and_score_completions(inputs)
        finally:
            self._skip_old_pass = False

    def _get_per_token_logps_and_entropies(
        self, model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, logits_to_keep: int,
        *args: Any, **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:  # fmt: skip
        loss_inputs, self._loss_inputs = self._loss_inputs, None
        if loss_inputs is not None:  # the loss pass of a merged step: its log-probs are also the old ones
            result = super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, *args, **kwargs
            )
            loss_inputs["importance_sampling_ratio"] = self._importance_sampling_ratio(
                result[0].detach(), loss_inputs
            )
            return result
        skip, self._zero_signal_rows = self._zero_signal_rows, None
        if self._skip_old_pass and not torch.is_grad_enabled():  # the old pass of a merged step
            self._skip_old_pass = False
            return _not_computed(input_ids, logits_to_keep), None, None
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
        logps = _not_computed(input_ids, logits_to_keep)
        keep = ~skip
        if keep.any():
            kept, _, _ = super()._get_per_token_logps_and_entropies(
                model, input_ids[keep], attention_mask[keep], logits_to_keep, **kwargs
            )
            logps = logps.to(kept.dtype)
            logps[keep] = kept
        return logps, None, None

    def _importance_sampling_ratio(self, logps: torch.Tensor, inputs: dict[str, Any]) -> torch.Tensor:
        """vLLM's importance-sampling ratio of a micro-batch from the policy's log-probs ``logps``.

        ``exp(policy - sampler)`` per completion token (per sequence, summed, in the ``sequence_*``
        modes), tokens the sampler could not score counting as 1; then clamped into TRL's
        ``[clip_min, clip_max]`` (``*_truncate``) or zeroed outside it (``*_mask``). Records the
        step's sampling metrics on the way.
        """
        mask = inputs["completion_mask"]
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        difference = (logps - inputs["sampling_per_token_logps"]) * mask
        per_token = torch.nan_to_num(difference, nan=0.0)
        mode = self.vllm_importance_sampling_mode
        sequence_level = mode.startswith("sequence")
        ratio = torch.exp(per_token.sum(dim=-1, keepdim=True) if sequence_level else per_token)
        low, high = self.vllm_importance_sampling_clip_min, self.vllm_importance_sampling_clip_max
        if mode.endswith("_truncate"):
            ratio = torch.clamp(ratio, min=low, max=high)
        elif mode.endswith("_mask"):
            low = -math.inf if low is None else low
            high = math.inf if high is None else high
            ratio = ratio.masked_fill((ratio < low) | (ratio > high), 0.0)
        else:
            raise ValueError(
                f"vllm_importance_sampling_mode={mode!r}: expected token_truncate, token_mask, "
                "sequence_truncate or sequence_mask"
            )
        scored = mask.bool() & ~torch.isnan(difference)
        shown = ratio.flatten() if sequence_level else ratio[mask.bool()]
        bucket = self._sampling_bucket()
        bucket["delta"].append(difference.abs()[scored].detach().float())
        bucket["ratio"].append(shown.detach().float())
        return ratio

    def _sampling_bucket(self) -> dict[str, list[torch.Tensor]]:
        """This mode's merged-step sampling figures since the last log (created empty)."""
        stats = self._sampling_stats = self._sampling_stats or {}
        return stats.setdefault("train" if self.model.training else "eval", {"delta": [], "ratio": []})

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        """TRL's log; a merged step's sampling metrics replace the placeholders of its skipped pass.

        They describe the rows the loss pass trained; a step that trained none logs none of them.
        """
        mode = "train" if self.model.training else "eval"
        collected = (self._sampling_stats or {}).pop(mode, None)
        if collected is not None:
            delta = torch.cat(collected["delta"]) if collected["delta"] else torch.zeros(0)
            ratio = torch.cat(collected["ratio"]) if collected["ratio"] else torch.zeros(0)
            figures = {
                "sampling/sampling_logp_difference/mean": delta.mean() if delta.numel() else None,
                "sampling/sampling_logp_difference/max": delta.max() if delta.numel() else None,
                "sampling/importance_sampling_ratio/min": ratio.min() if ratio.numel() else None,
                "sampling/importance_sampling_ratio/mean": ratio.mean() if ratio.numel() else None,
                "sampling/importance_sampling_ratio/max": ratio.max() if ratio.numel() else None,
            }
            for name, value in figures.items():
                if value is None:
                    self._metrics[mode].pop(name, None)
                else:
                    self._metrics[mode][name] = [float(value)]
        super().log(logs, *args, **kwargs)

    def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor:
        merged = self.merges_old_logprob_pass() and "sampling_per_token_logps" in inputs
        if merged:  # TRL then takes the loss pass's detached log-probs as the old ones
            inputs = {key: value for key, value in inputs.items() if key != "old_per_token_logps"}
        if self.skips_zero_advantage():
            keep = rows_with_signal(inputs)
            if not bool(keep.any()):
                # Zero, with a (zero) gradient for every trainable parameter, as the full pass would give.
                return sum((p.sum() * 0.0 for p in model.parameters() if p.requires_grad), torch.zeros(()))
            if not bool(keep.all()):
                inputs = select_rows(inputs, keep)
        if merged:
            self._loss_inputs = inputs = dict(inputs)
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._loss_inputs = None


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


def _not_computed(input_ids: torch.Tensor, width: int) -> torch.Tensor:
    """Log-probabilities left uncomputed: NaN, one row per sequence, ``width`` completion tokens."""
    return torch.full((input_ids.size(0), width), float("nan"), device=input_ids.device, dtype=torch.float32)


def _is_per_row(value: Any, batch: int) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() >= 1 and value.size(0) == batch
