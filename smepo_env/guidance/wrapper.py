"""The expert-guidance wrapper: SMEPO's conditioning of the policy on an expert trace.

Modes (the paper's three settings plus the partial-trace baseline):

* ``none``: the plain task (vanilla GRPO).
* ``full``: the expert's trace, unchanged.
* ``prefix``: the first ``prefix_ratio`` of the trace, cut back to a line boundary, unmasked
  (the coarse partial-trace baseline of earlier guided-RL work).
* ``masked``: the trace with the reward-relevant spans on the critical path hidden by
  :func:`smepo_env.masking.mask_trace` (SMEPO); ``prefix_ratio`` applies too (default 1.0).

The guidance is appended to the prompt once, at ``reset``: an intro line, the (cut or masked)
trace, a closing line, each configurable, with no model-specific special tokens. The reward,
the step logic and the episode are those of the wrapped environment, untouched. ``info
["guidance"]`` says which mode ran, whether a trace was shown, how much of it, and what was
hidden (counts by kind). A task without a trace runs unguided and counts in
``missing_traces``, as the reference code reports.

Prefix cuts are made on characters (the reference cuts tokens of the policy's tokenizer; a
wrapper knows no tokenizer): the first ``floor(len(trace) * prefix_ratio)`` characters,
cut back to the last newline (or the last space when the cut holds no newline). Masking
runs on the whole trace before the cut, so the data flow is followed end to end.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from smepo_env.errors import check_choice
from smepo_env.tasks import Task
from smepo_env.vocabulary import DOMAINS, GUIDANCE_MODES

DEFAULT_INTRO = "Here is an example solution from an expert:"
DEFAULT_TAIL = "Now solve the question yourself. Follow the expert's approach, but check every step."
DEFAULT_MASKED_TAIL = (
    "Parts of the expert's solution are hidden as bracketed placeholders such as [ENTITY_1]. "
    "Follow the same approach and find the hidden parts yourself."
)
GUIDANCE_KWARGS: frozenset[str] = frozenset(
    {"prefix_ratio", "guidance_intro", "guidance_tail", "mask_answers", "trace_source"}
)
"""Keywords of ``gym.make`` that go to the guidance wrapper rather than the environment."""
DEFAULT_PREFIX_RATIO = {"none": 1.0, "full": 1.0, "prefix": 0.5, "masked": 1.0}

TraceSource = Callable[[Task], str | None]


def cut_prefix(trace: str, ratio: float) -> str:
    """The first ``ratio`` of ``trace`` (by characters), cut back to a line boundary.

    Args:
        trace: the text to cut.
        ratio: the share to keep, in (0, 1]; 1.0 returns the trace unchanged.
    """
    if ratio >= 1.0:
        return trace
    head = trace[: math.floor(len(trace) * ratio)]
    boundary = head.rfind("\n")
    if boundary <= 0:
        boundary = head.rfind(" ")
    return head[:boundary].rstrip() if boundary > 0 else head.rstrip()


def load_trace_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read expert traces from a JSONL file (``id`` or ``question``, and ``expert_trace``) or a
    SMEPO parquet (``question``, ``teacher_ds``); returns a map from id and question to trace."""
    from smepo_env.loaders import read_rows

    traces: dict[str, str] = {}
    for row in read_rows(path):
        trace = row.get("expert_trace", row.get("teacher_ds"))
        if not isinstance(trace, str) or not trace:
            continue
        for key in ("id", "question"):
            if row.get(key) is not None:
                traces[str(row[key]).strip()] = trace
    return traces


def _task_trace(task: Task) -> str | None:
    return task.expert_trace


@dataclass(frozen=True)
class _TraceTable:
    """Traces looked up by task id, then by question, falling back to the task's own (picklable)."""

    table: Mapping[str, str]

    def __call__(self, task: Task) -> str | None:
        return self.table.get(task.id, self.table.get(task.question.strip(), task.expert_trace))


def _trace_source(spec: TraceSource | Mapping[str, str] | str | os.PathLike[str] | None) -> TraceSource:
    if spec is None:
        return _task_trace
    if callable(spec):
        return spec
    return _TraceTable(dict(spec) if isinstance(spec, Mapping) else load_trace_file(spec))


@functools.lru_cache(maxsize=4096)
def _masked(
    trace: str, domain: str, question: str, answers: tuple[str, ...] | None
) -> tuple[str, dict[str, int]]:
    from smepo_env.masking import mask_trace

    result = mask_trace(trace, domain=domain, question=question, answers=answers)
    return result.text, dict(result.counts)


class ExpertGuidanceWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Show the policy an expert trace in the prompt (none / full / prefix / masked).

    Args:
        env: any smepo environment (a :class:`~smepo_env.envs.base.TextAgentEnv`, possibly wrapped).
        mode: one of :data:`GUIDANCE_MODES`.
        domain: the masking domain, ``"search"``, ``"math"`` or ``"code"``.
        prefix_ratio: share of the trace to show; default 0.5 for ``prefix``, 1.0 otherwise.
        guidance_intro: the line before the trace.
        guidance_tail: the line after it (default depends on the mode).
        mask_answers: give the masker the gold answers, so they are hidden wherever they occur
            (a guarantee of zero answer leakage). With ``False`` the masker works from the
            trace alone, as it must on unlabeled teacher traces.
        trace_source: where traces come from: ``None`` (the task's own ``expert_trace``), a
            JSONL or SMEPO parquet path, a dict from task id or question to trace, or a
            callable ``task -> trace``.
    """

    def __init__(
        self,
        env: gym.Env,
        mode: str = "masked",
        *,
        domain: str = "search",
        prefix_ratio: float | None = None,
        guidance_intro: str = DEFAULT_INTRO,
        guidance_tail: str | None = None,
        mask_answers: bool = True,
        trace_source: TraceSource | Mapping[str, str] | str | os.PathLike[str] | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self,
            mode=mode,
            domain=domain,
            prefix_ratio=prefix_ratio,
            guidance_intro=guidance_intro,
            guidance_tail=guidance_tail,
            mask_answers=mask_answers,
        )
        gym.Wrapper.__init__(self, env)
        self.mode = check_choice("expert_guidance", mode, GUIDANCE_MODES)
        self.domain = check_choice("domain", domain, DOMAINS)
        ratio = DEFAULT_PREFIX_RATIO[self.mode] if prefix_ratio is None else prefix_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
            raise ValueError(f"prefix_ratio must be a number in (0, 1], got {prefix_ratio!r}")
        self.prefix_ratio = float(ratio)
        self.guidance_intro = guidance_intro
        self.guidance_tail = (
            guidance_tail
            if guidance_tail is not None
            else (DEFAULT_MASKED_TAIL if self.mode == "masked" else DEFAULT_TAIL)
        )
        self.mask_answers = mask_answers
        self._trace_for = _trace_source(trace_source)
        self.missing_traces = 0

    def guidance_text(self, task: Task) -> tuple[str | None, dict[str, Any]]:
        """The guidance block for ``task`` and the ``info["guidance"]`` record."""
        record: dict[str, Any] = {"mode": self.mode, "applied": False, "prefix_ratio": self.prefix_ratio}
        if self.mode == "none":
            return None, record
        trace = self._trace_for(task)
        if not trace:
            self.missing_traces += 1
            record["missing_traces"] = self.missing_traces
            return None, record
        hidden: dict[str, int] = {}
        shown = trace
        if self.mode == "masked":
            answers = tuple(task.answers) if self.mask_answers else None
            shown, hidden = _masked(trace, self.domain, task.question, answers)
        shown = cut_prefix(shown, self.prefix_ratio)
        record.update(
            applied=True,
            hidden=hidden,
            trace_chars=len(trace),
            shown_chars=len(shown),
            missing_traces=self.missing_traces,
        )
        parts = [part for part in (self.guidance_intro, shown, self.guidance_tail) if part]
        return "\n".join(parts), record

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        """Reset the wrapped env, then put the guidance into the prompt."""
        observation, info = self.env.reset(seed=seed, options=options)
        base = self.env.unwrapped
        block, record = self.guidance_text(base.current_task)
        if block is not None:
            observation = base.apply_guidance(block)
            info["messages"] = [{"role": "user", "content": observation}]
        info["guidance"] = record
        return observation, info


def wrap_with_guidance(
    env: gym.Env, expert_guidance: str = "none", domain: str = "search", **kwargs: Any
) -> gym.Env:
    """Apply :class:`ExpertGuidanceWrapper` (the ``expert_guidance`` keyword of ``gym.make``)."""
    return ExpertGuidanceWrapper(env, expert_guidance, domain=domain, **kwargs)


def make_guided_env(
    env_class: Callable[..., gym.Env], domain: str, expert_guidance: str = "none", **kwargs: Any
) -> gym.Env:
    """Build ``env_class(**env_kwargs)`` and wrap it; the guidance keywords are split off first.

    This is what every ``smepo/*`` entry point calls, so ``gym.make(id, expert_guidance=...,
    prefix_ratio=...)`` works on all of them.
    """
    guidance_kwargs = {key: kwargs.pop(key) for key in list(kwargs) if key in GUIDANCE_KWARGS}
    return wrap_with_guidance(env_class(**kwargs), expert_guidance, domain=domain, **guidance_kwargs)
