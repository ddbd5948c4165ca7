"""Hidden spans, the masked text built from them, and the placeholders that stand in for them.

Every masker in this package works the same way: it proposes :class:`SpanDraft` objects (a region
of the *original* trace, a kind such as ``"ENTITY"`` and a key that says which hidden thing it is),
and :func:`assemble` turns the drafts into a :class:`MaskResult`:

* Overlapping or nested drafts are merged into one hidden region. The merged region takes the kind
  and key of the draft with the higher priority (``PASSAGE``/``CODE``/``OUTPUT`` over ``ANSWER``
  over everything else; the longer draft on a tie), so a bridge entity inside a hidden passage
  disappears into the passage placeholder.
* Placeholders are numbered per kind in order of first appearance, and the same key always gets
  the same placeholder: the second mention of a hidden bridge entity is ``[ENTITY_1]`` again.
  Kinds in :data:`UNNUMBERED_KINDS` (``ANSWER``, ``PASSAGE``, ``CODE``, ``OUTPUT``) are never
  numbered: ``[ANSWER]``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

UNNUMBERED_KINDS: frozenset[str] = frozenset({"ANSWER", "PASSAGE", "CODE", "OUTPUT"})
"""Kinds whose placeholder carries no number: there is one answer, and code or passages are not
referred to again by the trace."""

_PRIORITY: dict[str, int] = {"PASSAGE": 3, "CODE": 3, "OUTPUT": 3, "ANSWER": 2}


@dataclass(frozen=True)
class HiddenSpan:
    """One hidden region of a trace.

    Attributes:
        start: offset of the region in the original trace.
        end: offset one past the region's last character in the original trace.
        kind: what was hidden: ``ANSWER``, ``ENTITY``, ``DATE``, ``NUMBER``, ``VALUE``, ``PASSAGE``,
            ``CODE`` or ``OUTPUT`` (the regex baseline uses ``NUMBER`` and ``CODE`` only).
        text: the original text of the region (``trace[start:end]``).
        placeholder: what replaces it in the masked text, e.g. ``"[ENTITY_1]"``.
    """

    start: int
    end: int
    kind: str
    text: str
    placeholder: str


@dataclass(frozen=True)
class MaskResult:
    """A masked trace and what was hidden in it.

    Attributes:
        text: the masked trace.
        spans: the hidden regions, sorted by position, in original-trace offsets; they never overlap.
        domain: ``"search"``, ``"math"`` or ``"code"``.
        method: ``"engine"`` or ``"regex"``.
    """

    text: str
    spans: tuple[HiddenSpan, ...]
    domain: str
    method: str

    @property
    def counts(self) -> dict[str, int]:
        """Number of hidden spans per kind, e.g. ``{"ANSWER": 3, "ENTITY": 4}``."""
        return dict(sorted(Counter(span.kind for span in self.spans).items()))

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view: the masked text, the spans and the counts."""
        return {
            "text": self.text,
            "domain": self.domain,
            "method": self.method,
            "counts": self.counts,
            "spans": [asdict(span) for span in self.spans],
        }


@dataclass(frozen=True)
class SpanDraft:
    """A region a masker proposes to hide, before overlaps are merged and placeholders numbered.

    Attributes:
        start: offset in the original trace.
        end: offset one past the end in the original trace.
        kind: the span kind (see :class:`HiddenSpan`).
        key: identity of the hidden thing; drafts of one kind with equal keys share a placeholder.
            ``None`` makes the draft its own thing.
        placeholder: a fixed placeholder that overrides numbering (used by the regex baseline).
    """

    start: int
    end: int
    kind: str
    key: str | None = None
    placeholder: str | None = None


def _priority(draft: SpanDraft) -> int:
    return _PRIORITY.get(draft.kind, 1)


def resolve_overlaps(drafts: list[SpanDraft]) -> list[SpanDraft]:
    """Merge overlapping drafts into disjoint ones, sorted by start.

    Empty drafts are dropped. When two drafts overlap, the union is hidden under the kind and key
    of the draft with the higher priority; on equal priority the one that started first (the
    longer one at equal starts) wins.
    """
    ordered = sorted((d for d in drafts if d.end > d.start), key=lambda d: (d.start, -d.end, -_priority(d)))
    merged: list[SpanDraft] = []
    for draft in ordered:
        if merged and draft.start < merged[-1].end:
            last = merged[-1]
            winner = draft if _priority(draft) > _priority(last) else last
            merged[-1] = SpanDraft(
                last.start, max(last.end, draft.end), winner.kind, winner.key, winner.placeholder
            )
        else:
            merged.append(draft)
    return merged


def visible_gaps(length: int, hidden: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The regions of a text of ``length`` characters outside the ``(start, end)`` regions given."""
    gaps: list[tuple[int, int]] = []
    cursor = 0
    for start, end in sorted(hidden):
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < length:
        gaps.append((cursor, length))
    return gaps


def assemble(trace: str, drafts: list[SpanDraft], *, domain: str, method: str) -> MaskResult:
    """Merge the drafts, number their placeholders and build the masked text.

    Args:
        trace: the original trace.
        drafts: regions to hide, in any order, possibly overlapping.
        domain: recorded in the result.
        method: recorded in the result.

    Returns:
        The masked trace with its hidden spans.
    """
    resolved = resolve_overlaps(drafts)
    numbers: dict[tuple[str, str], str] = {}
    per_kind: Counter[str] = Counter()
    pieces: list[str] = []
    spans: list[HiddenSpan] = []
    cursor = 0
    for draft in resolved:
        if draft.placeholder is not None:
            placeholder = draft.placeholder
        elif draft.kind in UNNUMBERED_KINDS:
            placeholder = f"[{draft.kind}]"
        else:
            identity = (draft.kind, draft.key if draft.key is not None else f"@{draft.start}")
            if identity not in numbers:
                per_kind[draft.kind] += 1
                numbers[identity] = f"[{draft.kind}_{per_kind[draft.kind]}]"
            placeholder = numbers[identity]
        pieces.append(trace[cursor : draft.start])
        pieces.append(placeholder)
        spans.append(
            HiddenSpan(draft.start, draft.end, draft.kind, trace[draft.start : draft.end], placeholder)
        )
        cursor = draft.end
    pieces.append(trace[cursor:])
    return MaskResult("".join(pieces), tuple(spans), domain, method)
