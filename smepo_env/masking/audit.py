"""Auditing maskers on traces with known critical spans: leakage, recall, over-masking, throughput.

:func:`audit_traces` masks each record's trace with each method and measures, per method and
domain. The engine is run twice: **without answers** (``engine``: what it finds from the text
alone) and **with the gold answers** (``engine+answers``: the guarantee). The regex baseline takes
no answers (``regex``).

Definitions (``visible text`` = the original trace minus the hidden spans and the tag markup,
read as separate stretches: placeholders and tags are not read as text,
:func:`~smepo_env.masking.engine.readable_stretches`):

* **leakage**: share of traces with at least one non-empty gold answer in which some gold answer
  or alias can be read in a visible stretch by normalized, word-boundary exact match
  (:func:`~smepo_env.masking.normalize.contains_answer`: lower-case, punctuation and articles
  dropped, whitespace squeezed).
* **occurrences** of a ground-truth critical span: every place in the *whole* trace (tool outputs
  included, read between its tags) where its normalized text occurs on word boundaries, with
  punctuation read either as nothing (``U.S.A.`` for ``USA``) or as a word break
  (``Europe/Zagreb`` for ``Zagreb``), as :func:`~smepo_env.masking.normalize.find_answer_occurrences`
  finds them without derived words; a number is also found where notation touches it (``34`` in
  ``(18 + 34)/2``, not inside a longer number, an exponent or a subscript), and a code span that
  holds a name prose would read as an article (``a, b = b, a + b``) is also found as written.
* **recall**: share of critical-span occurrences, pooled over traces, whose letters and digits are
  all hidden. Traces without critical spans do not count.
* **critical tokens**: word tokens (runs of letters/digits outside tag markup) that overlap a
  critical-span occurrence, an occurrence of a gold answer, the ``<answer>`` body, a math trace's
  ``\\boxed{...}`` body (the final answer however it is written), or a passage
  (``Doc i`` title and text) of a tool output that holds one of those occurrences: such a
  passage is on the critical path, and hiding it whole is not over-masking.
* **over-masking**: share of the other tokens (not critical) that are hidden, wholly or in part.
  Traces without critical spans do not count.
* **kept**: for records that list ``keep_spans`` (the question's entities and their shortened
  forms, numbers the question states, test scaffolding: strings that must stay readable), the
  share of their occurrences off the critical path (found as critical-span occurrences are) whose
  letters and digits are all visible. An occurrence inside a critical region (a passage hidden
  because it holds a critical span, the answer) does not count: hiding it there is not an error.
* **distractors kept**: share of the passages of ``<information>`` outputs that hold no critical-span
  or answer occurrence (distractors, in traces with critical spans) of which no token is hidden.
* **throughput**: traces per second of the masking call alone, after one warm-up call (one-time
  set-up is not counted).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from smepo_env.masking.engine import DOMAINS, METHODS, mask_traces, readable_stretches
from smepo_env.masking.math_masker import boxed_bodies
from smepo_env.masking.mentions import TOKEN
from smepo_env.masking.normalize import contains_answer, find_answer_occurrences
from smepo_env.masking.segments import Passage, markup_regions, split_passages, split_segments
from smepo_env.masking.spans import MaskResult, visible_gaps

if TYPE_CHECKING:
    from rich.table import Table


@dataclass
class MethodAudit:
    """Raw counts for one method on one domain; the shares are properties.

    Attributes:
        method: ``"engine"``, ``"engine+answers"`` or ``"regex"``.
        domain: a domain, or ``"all"`` for the pooled row.
        traces: traces masked.
        seconds: time spent masking them.
        answered_traces: traces with a usable gold answer.
        leaking_traces: of those, traces where an answer can still be read.
        occurrences: critical-span occurrences found.
        hidden_occurrences: of those, occurrences wholly hidden.
        occurrences_by_kind: occurrences per critical-span kind, as ``[hidden, total]``.
        other_tokens: tokens not on the critical path (in traces with critical spans).
        hidden_other_tokens: of those, tokens hidden.
        keep_occurrences: occurrences of keep spans off the critical path.
        kept_occurrences: of those, occurrences wholly visible.
        distractor_passages: passages that hold no critical occurrence.
        kept_distractor_passages: of those, passages with no token hidden.
    """

    method: str
    domain: str
    traces: int = 0
    seconds: float = 0.0
    answered_traces: int = 0
    leaking_traces: int = 0
    occurrences: int = 0
    hidden_occurrences: int = 0
    occurrences_by_kind: dict[str, list[int]] = field(default_factory=dict)
    other_tokens: int = 0
    hidden_other_tokens: int = 0
    keep_occurrences: int = 0
    kept_occurrences: int = 0
    distractor_passages: int = 0
    kept_distractor_passages: int = 0

    @property
    def leakage(self) -> float | None:
        """Share of answered traces that leak an answer, or ``None`` without answered traces."""
        return self.leaking_traces / self.answered_traces if self.answered_traces else None

    @property
    def recall(self) -> float | None:
        """Share of critical-span occurrences hidden, or ``None`` without critical spans."""
        return self.hidden_occurrences / self.occurrences if self.occurrences else None

    @property
    def over_masking(self) -> float | None:
        """Share of off-path tokens hidden, or ``None`` without critical spans."""
        return self.hidden_other_tokens / self.other_tokens if self.other_tokens else None

    @property
    def kept(self) -> float | None:
        """Share of keep-span occurrences left readable, or ``None`` without keep spans."""
        return self.kept_occurrences / self.keep_occurrences if self.keep_occurrences else None

    @property
    def distractors_kept(self) -> float | None:
        """Share of distractor passages left whole, or ``None`` without distractors."""
        return self.kept_distractor_passages / self.distractor_passages if self.distractor_passages else None

    @property
    def traces_per_second(self) -> float | None:
        """Masking throughput."""
        return self.traces / self.seconds if self.seconds > 0 else None

    def add(self, other: MethodAudit) -> None:
        """Pool another row's counts into this one."""
        for name in ("traces", "seconds", "answered_traces", "leaking_traces", "occurrences"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in (
            "hidden_occurrences",
            "other_tokens",
            "hidden_other_tokens",
            "keep_occurrences",
            "kept_occurrences",
            "distractor_passages",
            "kept_distractor_passages",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, (hidden, total) in other.occurrences_by_kind.items():
            pooled = self.occurrences_by_kind.setdefault(kind, [0, 0])
            pooled[0] += hidden
            pooled[1] += total

    def to_dict(self) -> dict[str, object]:
        """Counts and shares, JSON-ready."""
        shares = {
            "leakage": self.leakage,
            "recall": self.recall,
            "over_masking": self.over_masking,
            "kept": self.kept,
            "distractors_kept": self.distractors_kept,
            "traces_per_second": self.traces_per_second,
        }
        return {**asdict(self), **shares}


def _align(cell: str, width: int, *, left: bool) -> str:
    return cell.ljust(width) if left else cell.rjust(width)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


_HEADER = (
    "method",
    "domain",
    "traces",
    "leaking",
    "recall",
    "kept",
    "over-masking",
    "distractors-kept",
    "traces/s",
)


@dataclass(frozen=True)
class AuditReport:
    """Audit rows per method and domain, plus pooled ``"all"`` rows when there are several domains."""

    rows: tuple[MethodAudit, ...]

    def row(self, method: str, domain: str) -> MethodAudit:
        """The row of one method (``"engine"``, ``"engine+answers"``, ``"regex"``) and domain."""
        for row in self.rows:
            if row.method == method and row.domain == domain:
                return row
        raise KeyError(f"No audit row for method {method!r} and domain {domain!r}")

    def to_dict(self) -> dict[str, object]:
        """The report as plain data."""
        return {"rows": [row.to_dict() for row in self.rows]}

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def render(self) -> str:
        """The report as a plain-text table (``leaking`` counts traces where an answer is readable)."""
        lines = [_HEADER]
        for row in self.rows:
            speed = row.traces_per_second
            leaking = f"{row.leaking_traces}/{row.answered_traces}" if row.answered_traces else "n/a"
            lines.append(
                (
                    row.method,
                    row.domain,
                    str(row.traces),
                    leaking,
                    _percent(row.recall),
                    _percent(row.kept),
                    _percent(row.over_masking),
                    _percent(row.distractors_kept),
                    "n/a" if speed is None else f"{speed:.1f}",
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(_HEADER))]
        return "\n".join(
            "  ".join(
                _align(cell, width, left=i < 2)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
            for line in lines
        )

    def to_rich_table(self) -> Table:
        """The report as a :class:`rich.table.Table`."""
        from rich.table import Table

        table = Table(title="Masking audit")
        for name in _HEADER:
            table.add_column(name, justify="left" if name in ("method", "domain") else "right")
        for line in self.render().splitlines()[1:]:
            table.add_row(*line.split())
        return table

    def __str__(self) -> str:
        return self.render()


def _checked(records: Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    checked = []
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise TypeError(f"records[{index}] must be a dict, got {type(record).__name__}")
        if not isinstance(record.get("trace"), str):
            raise ValueError(f"records[{index}]['trace'] must be a string, got {record.get('trace')!r:.80}")
        if record.get("domain") not in DOMAINS:
            raise ValueError(
                f"records[{index}]['domain'] is {record.get('domain')!r}: expected one of {DOMAINS}"
            )
        for field_name in ("critical_spans", "keep_spans"):
            for span in record.get(field_name) or []:
                if not isinstance(span, Mapping) or not isinstance(span.get("text"), str):
                    raise ValueError(
                        f"records[{index}][{field_name!r}] needs dicts with a 'text' string, got {span!r}"
                    )
        checked.append(record)
    return checked


_ARTICLE_WORD = re.compile(r"(?i)(?<![\w.])(?:a|an|the)(?!\w)")
_NUMBER_TEXT = re.compile(r"[-−]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)%?")


def _literal_occurrences(trace: str, start: int, end: int, text: str) -> list[tuple[int, int]]:
    """Where ``text`` is written as it is (case and spacing aside) on word boundaries: a number
    inside notation (``34`` in ``(18 + 34)/2``, ``5`` in ``3!\\,5!``), which normalized matching
    skips for numbers, and a code span with a word the normalization drops as an article (the
    variable ``a`` of ``a, b = 0, 1``). A number is not found inside a longer number, as an
    exponent or subscript, or as the group after a thousands comma."""
    core = text.strip()
    if not core:
        return []
    pattern = r"\s+".join(re.escape(part) for part in core.split())
    head = r"(?<![\w^_])" if core[0].isalnum() else ""
    tail = r"(?![\w])(?!\.\d)(?!,\d{3}(?!\d))" if core[-1].isalnum() else ""
    found = []
    for match in re.finditer(head + pattern + tail, trace[start:end], re.IGNORECASE):
        first, last = start + match.start(), start + match.end()
        before = trace[max(0, first - 2) : first]
        after_number = core[0].isdigit() and len(before) == 2 and before[0].isdigit()
        if after_number and (before[1] == "." or (before[1] == "," and re.match(r"\d{3}(?!\d)", core))):
            continue
        found.append((first, last))
    return found


def _occurrences(
    trace: str, stretches: list[tuple[int, int]], texts: list[str], *, code: bool = False
) -> list[tuple[int, int]]:
    """Occurrences of ``texts`` in the trace, read between its tags: exact normalized matches, and
    literal ones (:func:`_literal_occurrences`) for numbers and, in code, for spans with a word that
    prose would read as an article (``a``, ``the``: names in code); overlapping finds of one text
    are one occurrence."""
    found: list[tuple[int, int]] = []
    for text in texts:
        literal = _NUMBER_TEXT.fullmatch(text.strip()) is not None or (
            code and _ARTICLE_WORD.search(text) is not None
        )
        spans = sorted(
            {
                hit
                for start, end in stretches
                for hit in [
                    *find_answer_occurrences(trace, [text], start=start, end=end, derived_words=False),
                    *(_literal_occurrences(trace, start, end, text) if literal else []),
                ]
            }
        )
        merged: list[tuple[int, int]] = []
        for first, last in spans:
            if merged and first < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        found.extend(merged)
    return found


def _score(record: Mapping[str, object], result: MaskResult, row: MethodAudit) -> None:
    """Add one masked record's counts to ``row``."""
    trace = record["trace"]
    answers = [a for a in record.get("answers") or [] if isinstance(a, str)]
    hidden = bytearray(len(trace))
    for span in result.spans:
        hidden[span.start : span.end] = b"\x01" * (span.end - span.start)
    gaps = readable_stretches(trace, [(span.start, span.end) for span in result.spans])
    if any(contains_answer(a, [a]) for a in answers):
        row.answered_traces += 1
        row.leaking_traces += any(contains_answer(gap, answers) for gap in gaps)
    spans = [s for s in record.get("critical_spans") or [] if s["text"].strip()]
    if not spans:
        return
    code = record["domain"] == "code"
    critical = bytearray(len(trace))
    distractors: list[Passage] = []
    stretches = visible_gaps(len(trace), markup_regions(split_segments(trace)))
    for span in spans:
        kind = str(span.get("kind", "span"))
        tally = row.occurrences_by_kind.setdefault(kind, [0, 0])
        for start, end in _occurrences(trace, stretches, [span["text"]], code=code):
            critical[start:end] = b"\x01" * (end - start)
            whole = all(hidden[i] for i in range(start, end) if trace[i].isalnum())
            row.occurrences += 1
            row.hidden_occurrences += whole
            tally[0] += whole
            tally[1] += 1
    for start, end in _occurrences(trace, stretches, answers, code=code):
        critical[start:end] = b"\x01" * (end - start)
    if record["domain"] == "math":
        for start, end in boxed_bodies(trace):
            critical[start:end] = b"\x01" * (end - start)
    for segment in split_segments(trace):
        if segment.tag == "answer":
            critical[segment.body_start : segment.body_end] = b"\x01" * (
                segment.body_end - segment.body_start
            )
        if segment.is_tool_output:
            for passage in split_passages(trace, segment.body_start, segment.body_end):
                if any(critical[passage.title_start : passage.text_end]):
                    width = passage.text_end - passage.title_start
                    critical[passage.title_start : passage.text_end] = b"\x01" * width
                elif segment.tag == "information":
                    distractors.append(passage)
    for start, end in markup_regions(split_segments(trace)):
        critical[start:end] = b"\x01" * (end - start)
    keep_texts = [s["text"] for s in record.get("keep_spans") or [] if s["text"].strip()]
    for start, end in _occurrences(trace, stretches, keep_texts, code=code):
        if any(critical[start:end]):
            continue
        row.keep_occurrences += 1
        row.kept_occurrences += not any(hidden[i] for i in range(start, end) if trace[i].isalnum())
    for passage in distractors:
        row.distractor_passages += 1
        row.kept_distractor_passages += not any(hidden[passage.title_start : passage.text_end])
    for match in TOKEN.finditer(trace):
        start, end = match.start(), match.end()
        if any(critical[start:end]):
            continue
        row.other_tokens += 1
        row.hidden_other_tokens += any(hidden[start:end])


def audit_traces(
    records: Iterable[Mapping[str, object]], methods: Sequence[str] = ("engine", "regex")
) -> AuditReport:
    """Mask every record with every method and measure the result (definitions in the module docstring).

    Args:
        records: dicts with ``trace`` (str), ``domain`` (``"search"``, ``"math"``, ``"code"``),
            ``question`` (str or None), ``answers`` (list of str), ``critical_spans`` (list of
            ``{"text": str, "kind": str}``, possibly empty) and optionally ``keep_spans`` (same
            shape: strings that must stay readable).
        methods: any of ``"engine"`` (run without and with answers) and ``"regex"``.

    Returns:
        The report: one row per method and domain, and pooled ``"all"`` rows.

    Raises:
        ValueError: for an unknown method or a malformed record.
        TypeError: for a record that is not a dict.
    """
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"Unknown method {method!r}: expected some of {METHODS}")
    checked = _checked(records)
    domains = [d for d in DOMAINS if any(r["domain"] == d for r in checked)]
    runs = [(m, use) for m in methods for use in ((False, True) if m == "engine" else (False,))]
    rows: list[MethodAudit] = []
    for method, use_answers in runs:
        label = f"{method}+answers" if use_answers else method
        pooled = MethodAudit(label, "all")
        for domain in domains:
            group = [r for r in checked if r["domain"] == domain]
            questions = [r.get("question") for r in group]
            answers = [list(r.get("answers") or []) if use_answers else None for r in group]
            mask_traces([group[0]["trace"]], domain=domain, method=method)  # warm-up, not timed
            began = time.perf_counter()
            results = mask_traces(
                [r["trace"] for r in group],
                domain=domain,
                questions=questions,
                answers=answers,
                method=method,
            )
            row = MethodAudit(label, domain, traces=len(group), seconds=time.perf_counter() - began)
            for record, result in zip(group, results, strict=True):
                _score(record, result, row)
            rows.append(row)
            pooled.add(row)
        if len(domains) > 1:
            rows.append(pooled)
    return AuditReport(tuple(rows))
