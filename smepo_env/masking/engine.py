"""The public entry points: :func:`mask_trace` and its batched form :func:`mask_traces`.

The engine dispatches to the domain masker (:mod:`~smepo_env.masking.search_masker`,
:mod:`~smepo_env.masking.math_masker`, :mod:`~smepo_env.masking.code_masker`), then runs the
**answer sweep** when gold answers are given: every occurrence of an answer or alias still
visible, by the rules of :mod:`~smepo_env.masking.normalize` (normalized, word-boundary, derived
words such as ``Parisian`` for ``Paris``), is hidden as ``[ANSWER]``. The sweep runs last and wins
over every keep rule (a question entity, a step label ``Step 2`` when the answer is ``2``), so with
answers given no normalized answer can be read in the masked text. Each visible stretch is then
checked with :func:`~smepo_env.masking.normalize.contains_answer`; a stretch where an answer could
still be read (only possible through exotic Unicode case mappings) is hidden whole.

For the search domain the ``<answer>`` body of the trace itself is swept the same way even without
gold answers. Every input text has a defined result: an empty trace gives an empty result, a trace
without tags is read as one stretch of prose, an unclosed tag runs to the end.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from smepo_env.errors import check_choice
from smepo_env.masking.code_masker import code_drafts
from smepo_env.masking.math_masker import math_drafts
from smepo_env.masking.normalize import contains_answer, find_answer_occurrences
from smepo_env.masking.regex_baseline import regex_baseline_mask
from smepo_env.masking.search_masker import MAX_ANSWER_WORDS, search_drafts
from smepo_env.masking.segments import markup_regions, split_segments
from smepo_env.masking.spans import MaskResult, SpanDraft, assemble, resolve_overlaps, visible_gaps
from smepo_env.vocabulary import DOMAINS

METHODS: tuple[str, ...] = ("engine", "regex")
_SWEEP_ROUNDS = 3


def _answer_list(answers: object, index: int) -> tuple[str, ...]:
    if answers is None:
        return ()
    if isinstance(answers, str):
        return (answers,)
    if not isinstance(answers, Sequence) or not all(isinstance(a, str) for a in answers):
        raise TypeError(
            f"answers[{index}] must be a sequence of strings (or None), "
            f"got {type(answers).__name__}: {answers!r}"
        )
    return tuple(answers)


def _answer_bodies(trace: str) -> list[str]:
    """The trace's own ``<answer>`` bodies short enough to be an answer rather than prose (a runaway
    generation is hidden where it stands but not searched for); gold answers have no such limit."""
    bodies = [trace[s.body_start : s.body_end].strip() for s in split_segments(trace) if s.tag == "answer"]
    return [body for body in bodies if body and len(body.split()) <= MAX_ANSWER_WORDS]


def readable_stretches(trace: str, hidden: list[tuple[int, int]]) -> list[str]:
    """What a reader can read of a masked trace: the text outside the hidden regions, cut at
    every hidden region and every tag (placeholders and tag markup are not read as text)."""
    regions = hidden + markup_regions(split_segments(trace))
    return [trace[start:end] for start, end in visible_gaps(len(trace), regions)]


def _outside_markup(drafts: list[SpanDraft], markup: list[tuple[int, int]]) -> list[SpanDraft]:
    """The drafts with every tag cut out of them: tags are structure and are never hidden."""
    if not markup:
        return drafts
    starts = [start for start, _ in markup]
    kept: list[SpanDraft] = []
    for draft in drafts:
        pieces = [(draft.start, draft.end)]
        first = max(bisect.bisect_right(starts, draft.start) - 1, 0)
        for tag_start, tag_end in markup[first:]:
            if tag_start >= draft.end:
                break
            last_start, last_end = pieces[-1]
            if tag_end <= last_start or tag_start >= last_end:
                continue
            pieces[-1:] = [(last_start, tag_start), (tag_end, last_end)]
        kept.extend(replace(draft, start=a, end=b) for a, b in pieces if b > a)
    return kept


def _sweep(trace: str, drafts: list[SpanDraft], answers: Sequence[str]) -> list[SpanDraft]:
    """Hide every readable occurrence of the answers; return the disjoint drafts, tags left out."""
    markup = markup_regions(split_segments(trace))
    resolved = resolve_overlaps(_outside_markup(drafts, markup))
    if not answers:
        return resolved
    for _ in range(_SWEEP_ROUNDS):
        gaps = visible_gaps(len(trace), [(d.start, d.end) for d in resolved] + markup)
        found = [
            SpanDraft(start, end, "ANSWER")
            for gap_start, gap_end in gaps
            for start, end in find_answer_occurrences(trace, answers, start=gap_start, end=gap_end)
        ]
        if not found:
            break
        resolved = resolve_overlaps(resolved + found)
    gaps = visible_gaps(len(trace), [(d.start, d.end) for d in resolved] + markup)
    leaking = [SpanDraft(s, e, "ANSWER") for s, e in gaps if contains_answer(trace[s:e], answers)]
    return resolve_overlaps(resolved + leaking) if leaking else resolved


def mask_traces(
    traces: Sequence[str],
    *,
    domain: str,
    questions: Sequence[str | None] | None = None,
    answers: Sequence[Sequence[str] | None] | None = None,
    method: str = "engine",
) -> list[MaskResult]:
    """Mask many traces of one domain; faster than one :func:`mask_trace` call per trace.

    Args:
        traces: the expert traces, as text.
        domain: ``"search"``, ``"math"`` or ``"code"``.
        questions: the question of each trace (``None`` entries allowed), or ``None`` for none.
        answers: gold answers and aliases of each trace (``None`` entries allowed), or ``None``.
        method: ``"engine"`` (this package's semantic masker) or ``"regex"`` (the reference's
            baseline, which ignores questions and answers).

    Returns:
        One :class:`MaskResult` per trace, in order.

    Raises:
        ValueError: for an unknown domain or method, or when the lists differ in length.
        TypeError: for a trace or question that is not a string, or malformed answers.
    """
    domain = check_choice("domain", domain, DOMAINS)
    method = check_choice("method", method, METHODS)
    if isinstance(traces, str):
        raise TypeError("traces must be a sequence of strings; use mask_trace for a single trace")
    traces = list(traces)
    question_list = [None] * len(traces) if questions is None else list(questions)
    answer_input = [None] * len(traces) if answers is None else list(answers)
    if not len(traces) == len(question_list) == len(answer_input):
        raise ValueError(
            f"traces, questions and answers differ in length: {len(traces)}, {len(question_list)}, "
            f"{len(answer_input)}"
        )
    for index, (trace, question) in enumerate(zip(traces, question_list, strict=True)):
        if not isinstance(trace, str):
            raise TypeError(f"traces[{index}] must be a string, got {type(trace).__name__}")
        if question is not None and not isinstance(question, str):
            raise TypeError(f"questions[{index}] must be a string or None, got {type(question).__name__}")
    answer_lists = [_answer_list(a, i) for i, a in enumerate(answer_input)]
    if method == "regex":
        return [regex_baseline_mask(trace, domain=domain) for trace in traces]
    if domain == "search":
        all_drafts = search_drafts(traces, question_list, answer_lists)
    elif domain == "math":
        all_drafts = [
            math_drafts(t, q, a) for t, q, a in zip(traces, question_list, answer_lists, strict=True)
        ]
    else:
        all_drafts = [code_drafts(t) for t in traces]
    results = []
    for trace, drafts, gold in zip(traces, all_drafts, answer_lists, strict=True):
        sweep_answers = [*gold, *_answer_bodies(trace)] if domain == "search" else list(gold)
        final = _sweep(trace, drafts, sweep_answers)
        results.append(assemble(trace, final, domain=domain, method=method))
    return results


def mask_trace(
    trace: str,
    *,
    domain: str,
    question: str | None = None,
    answers: Sequence[str] | None = None,
    method: str = "engine",
) -> MaskResult:
    """Mask one expert trace: hide the spans on its critical path, keep its plan readable.

    Args:
        trace: the expert trace, as text (tags of :mod:`smepo_env.protocol`, or none).
        domain: ``"search"``, ``"math"`` or ``"code"``.
        question: the task's question; its entities (search) and numbers (math) stay visible.
        answers: gold answers and aliases, hidden wherever they occur (a bare string counts as
            one answer). The engine finds the critical path without them too.
        method: ``"engine"``, or ``"regex"`` for the public reference's baseline (comparison only).

    Returns:
        The masked text, the hidden spans (offsets in ``trace``) and counts per kind.

    Raises:
        ValueError: for an unknown domain or method.
        TypeError: for a trace or question that is not a string, or malformed answers.
    """
    if not isinstance(trace, str):
        raise TypeError(f"trace must be a string, got {type(trace).__name__}")
    return mask_traces([trace], domain=domain, questions=[question], answers=[answers], method=method)[0]
