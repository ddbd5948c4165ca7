"""The search masker: follow the data through a Search-R1 trace and hide its critical path.

Rules, applied to the text alone (no annotations needed):

1. **Expert text** is what the expert wrote: ``<think>``, ``<search>``, ``<answer>`` and
   ``<python>`` bodies and untagged text. **Tool outputs** are ``<information>`` and ``<output>``
   bodies, split into passages (``Doc i(Title: ...) text``, or lines).
2. **Candidates** are mentions in the expert text: spaCy entities (``tok2vec`` + ``ner`` only,
   run on the prose written after the first tool output, where carried spans appear: ``<think>``
   bodies and untagged text; queries are keyword strings where NER is unreliable, and the
   patterns below cover them and the earlier prose), capitalized runs (``Tessaly Studios``),
   numbers, years and dates, and names that a tool output writes capitalized but the expert wrote
   in lower case (``marin okafor birthplace``).
3. A candidate is **on the critical path** when its key (lower-cased letter/digit runs) also occurs
   in some tool output, as title or passage text, and not in the question. Such a span came from a
   tool and was carried along the route (into a later query, the reasoning or the answer), or was
   named by the expert and confirmed by a tool; either way the policy must find it itself. Spans
   in the question stay visible: the policy has them anyway. Without a question, the expert text
   before the first tool output stands in for it. Nationalities, ordinals and numbers that point
   at a passage (``Doc 2``) are not candidates.
4. **The answer** is always hidden: the ``<answer>`` body becomes ``[ANSWER]``, and its key (and
   the key of every given gold answer or alias) is hidden wherever it occurs, as ``[ANSWER]``; so
   is an abbreviation in parentheses right after it in the expert text (``the Euro (EUR)``).
5. Every occurrence of a critical key is hidden everywhere, with one placeholder per key:
   ``[ENTITY_1]``, ``[DATE_1]``, ``[NUMBER_1]``, so the route stays readable
   (``<search>[ENTITY_1] birthplace</search>``). The last word of a multiword entity
   (``Okafor`` for ``Marin Okafor``) is hidden as the same placeholder where the expert writes it
   alone and capitalized.
6. **Passages** whose text holds a critical key are hidden as ``[PASSAGE]``; their ``Doc i(Title:
   ...)`` header stays, with critical titles replaced, so the policy sees that the search returned
   documents and which distractors came with them. An answer made only of stop words or yes/no
   (``"no"``) is hidden where it occurs but does not hide passages.

Throughput comes from batching: :func:`search_drafts` runs NER over the expert text of all traces
in one ``nlp.pipe`` call; tool outputs, usually most of a trace, never go through spaCy.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from smepo_env.masking.mentions import (
    Token,
    capitalized_runs,
    key_of,
    named_entities,
    numbers_and_dates,
    stop_words,
    token_runs,
)
from smepo_env.masking.segments import Passage, Segment, split_passages, split_segments
from smepo_env.masking.spans import SpanDraft

_PASSAGE_REFERENCE = frozenset({"doc", "docs", "document", "documents", "passage", "passages", "result"})
_NON_TRIGGERING = frozenset({"yes", "no", "true", "false"})
_ARTICLES = frozenset({"a", "an", "the"})
_SEPARATOR = "\n\n"
_PROSE_TAGS = frozenset({"think", None})
_ABBREVIATION = re.compile(r"\s*\(([A-Z][A-Z0-9.]{1,7})\)")
_MAX_ALIAS_KEY = 3
MAX_ANSWER_WORDS = 16
"""Longest ``<answer>`` body (in words) searched for elsewhere; a longer one is hidden only in place."""


def _content_key(text: str) -> tuple[str, ...]:
    """A mention's key without possessive ``'s``, leading articles and trailing stop words."""
    key = key_of(re.sub(r"['’]s\b", "", text))
    start, end = 0, len(key)
    while start < end and key[start] in _ARTICLES:
        start += 1
    stops = stop_words()
    while end > start and key[end - 1] in stops:
        end -= 1
    return key[start:end]


def _padded(keys: Sequence[tuple[str, ...]]) -> str:
    """Token tuples as one searchable string; ``|`` keeps separate runs from running together."""
    return " " + " | ".join(" ".join(key) for key in keys) + " "


def _keys(runs: list[list[Token]]) -> list[tuple[str, ...]]:
    return [tuple(token[2] for token in run) for run in runs]


@dataclass
class _CriticalKeys:
    """What is hidden: key -> kind; surname aliases of full names (hidden in expert text only, and
    only where capitalized);
    answers that do not hide passages; and ``identity``, which gives a critical surname found on
    its own the placeholder of its one full name."""

    kinds: dict[tuple[str, ...], str] = field(default_factory=dict)
    aliases: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    non_triggering: set[tuple[str, ...]] = field(default_factory=set)
    identity: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def draft(self, start: int, end: int, key: tuple[str, ...]) -> SpanDraft:
        """The draft hiding one occurrence of ``key`` (a surname shares its full name's placeholder)."""
        owner = self.identity.get(key, key)
        return SpanDraft(start, end, self.kinds[owner], " ".join(owner))

    def index(self, *, with_aliases: bool) -> tuple[dict[str, list[tuple[str, ...]]], int]:
        """Keys (and aliases) grouped by first token, longest first, and the longest key length."""
        keys = list(self.kinds) + (list(self.aliases) if with_aliases else [])
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for key in sorted(keys, key=len, reverse=True):
            by_first.setdefault(key[0], []).append(key)
        return by_first, max((len(key) for key in keys), default=0)


class _SearchTrace:
    """One trace, parsed: expert regions, passages, the question stand-in and the grounding text."""

    def __init__(self, trace: str, question: str | None, answers: Sequence[str]) -> None:
        self.trace = trace
        self.answers = answers
        segments = split_segments(trace)
        self.expert: list[tuple[int, int]] = []
        self.prose: list[tuple[int, int]] = []
        self.passages: list[Passage] = []
        self.answer_bodies: list[tuple[int, int]] = []
        prefix_end = None
        for segment in segments:
            if segment.is_tool_output:
                prefix_end = segment.start if prefix_end is None else prefix_end
                self.passages.extend(split_passages(trace, segment.body_start, segment.body_end))
            elif segment.body_end > segment.body_start:
                self.expert.append((segment.body_start, segment.body_end))
                if segment.tag in _PROSE_TAGS and prefix_end is not None:
                    self.prose.append((segment.body_start, segment.body_end))
                if segment.tag == "answer":
                    self.answer_bodies.append(_stripped(trace, segment))
        self._runs: dict[tuple[int, int], list[list[Token]]] = {}
        grounding = [_keys(self.runs(p.title_start, p.title_end)) for p in self.passages]
        grounding += [_keys(self.runs(p.text_start, p.text_end)) for p in self.passages]
        self.grounding = _padded([key for keys in grounding for key in keys])
        if question is not None:
            source, ranges = question, [(0, len(question))]
        else:
            cut = len(trace) if prefix_end is None else prefix_end
            source, ranges = trace, [(s, min(e, cut)) for s, e in self.expert if s < cut]
        question_runs = [run for start, end in ranges for run in token_runs(source, start, end)]
        self.question = _padded(_keys(question_runs))
        self.question_tokens = set(self.question.split())
        self.question_names = {
            _content_key(source[a:b])
            for start, end in ranges
            for a, b, _ in capitalized_runs(source, start, end)
        }
        self._ner_offsets: list[int] = []
        pieces = []
        length = 0
        for start, end in self.prose:
            self._ner_offsets.append(length)
            pieces.append(trace[start:end])
            length += end - start + len(_SEPARATOR)
        self.ner_text = _SEPARATOR.join(pieces)

    def runs(self, start: int, end: int) -> list[list[Token]]:
        """The token runs of ``trace[start:end]``, computed once per region."""
        if (start, end) not in self._runs:
            self._runs[(start, end)] = token_runs(self.trace, start, end)
        return self._runs[(start, end)]

    def _in_question(self, key: tuple[str, ...], padded: str) -> bool:
        """Whether the question states ``key``.

        A piece of a longer name in the question counts as stated unless the expert also writes
        it on its own: ``Budapest`` is not stated by "... the city of Budapest XVII. kerület" when
        the expert writes "The capital of Hungary is Budapest", but ``Toutaend`` is stated by
        "Toutaend Duvrajai" when the expert only ever writes the full name.
        """
        if padded not in self.question:
            return False
        if key in self.question_names:
            return True
        names = [name for name in self.question_names if _is_part(key, name)]
        if not names:
            return True
        book = _CriticalKeys(kinds=dict.fromkeys([*names, key], "ENTITY"))
        index = book.index(with_aliases=False)
        return not any(hit == key for s, e in self.expert for _, _, hit in _scan(self.runs(s, e), index))

    def _ner_to_trace(self, start: int, end: int) -> tuple[int, int] | None:
        index = bisect.bisect_right(self._ner_offsets, start) - 1
        if index < 0:
            return None
        region_start, region_end = self.prose[index]
        offset = region_start - self._ner_offsets[index]
        return start + offset, min(end + offset, region_end)

    def _mentions(self, entities: list[tuple[int, int, str]]) -> Iterator[tuple[tuple[str, ...], str]]:
        for ner_start, ner_end, kind in entities:
            mapped = self._ner_to_trace(ner_start, ner_end)
            if mapped is None:
                continue
            text = self.trace[mapped[0] : mapped[1]]
            # Digits are found by pattern, without the units NER attaches ("27,750 square km").
            if kind == "ENTITY" or not any(ch.isdigit() for ch in text):
                yield _content_key(text), kind
        for start, end in self.expert:
            for run_start, run_end, _ in capitalized_runs(self.trace, start, end):
                yield _content_key(self.trace[run_start:run_end]), "ENTITY"
            for num_start, num_end, kind in numbers_and_dates(self.trace, start, end):
                before = self.trace[max(start, num_start - 12) : num_start].lower().split()
                if before and before[-1].strip("(#:") in _PASSAGE_REFERENCE:
                    continue
                yield key_of(self.trace[num_start:num_end]), kind
        names: dict[tuple[str, ...], str] = {}
        for passage in self.passages:
            if passage.title_end > passage.title_start:
                names[_content_key(self.trace[passage.title_start : passage.title_end])] = "ENTITY"
            for run_start, run_end, initial in capitalized_runs(
                self.trace, passage.text_start, passage.text_end
            ):
                key = _content_key(self.trace[run_start:run_end])
                if len(key) > 1 or not initial:
                    names[key] = "ENTITY"
        names.pop((), None)
        if names:
            index = _CriticalKeys(kinds=names).index(with_aliases=False)
            for start, end in self.expert:
                for _, _, key in _scan(self.runs(start, end), index):
                    yield key, "ENTITY"

    def critical_keys(self, entities: list[tuple[int, int, str]]) -> _CriticalKeys:
        """Decide which keys are on the critical path (rules 2 to 5 of the module docstring)."""
        stops = stop_words()
        book = _CriticalKeys()
        rejected: set[tuple[str, ...]] = set()
        for key, kind in self._mentions(entities):
            if not key or key in book.kinds or key in rejected:
                continue
            padded = " " + " ".join(key) + " "
            if all(t in stops for t in key) or self._in_question(key, padded) or padded not in self.grounding:
                rejected.add(key)
                continue
            book.kinds[key] = kind
        bodies = [self.trace[s:e] for s, e in self.answer_bodies]
        answer_texts = [text for text in bodies if len(text.split()) <= MAX_ANSWER_WORDS] + list(self.answers)
        for text in answer_texts:
            key = _content_key(text)
            if not key:
                continue
            book.kinds[key] = "ANSWER"
            if all(token in stops or token in _NON_TRIGGERING for token in key):
                book.non_triggering.add(key)
        # A key that is a piece of a longer key and never written on its own in the expert text is
        # an artifact of a partial mention (NER's "Yaidai" of "Yaidai Vremu", "Asia" of the answer
        # "South-eastern Asia"): it would only hide look-alike passages ("Yaidai Vramu").
        index = book.index(with_aliases=False)
        alone = {key for start, end in self.expert for _, _, key in _scan(self.runs(start, end), index)}
        for key in [k for k, kind in book.kinds.items() if kind != "ANSWER" and k not in alone]:
            if any(_is_part(key, other) for other in book.kinds):
                del book.kinds[key]
        for key in [
            k for k, kind in book.kinds.items() if kind != "ANSWER" and len(k) == 1 and k[0].isalpha()
        ]:
            owners = [other for other in book.kinds if len(other) > 1 and key[0] in other]
            if len(owners) == 1 and book.kinds[owners[0]] == "ENTITY" and owners[0][-1] == key[0]:
                book.identity[key] = owners[0]
        for key, kind in book.kinds.items():
            if kind != "ENTITY" or not 2 <= len(key) <= _MAX_ALIAS_KEY:
                continue
            surname = key[-1]
            unique = sum(surname in other for other in book.kinds) == 1
            wordlike = surname.isalpha() and len(surname) >= 4 and surname not in stops
            if wordlike and unique and surname not in self.question_tokens and (surname,) not in book.kinds:
                book.aliases.setdefault((surname,), key)
        return book

    def drafts(self, entities: list[tuple[int, int, str]]) -> list[SpanDraft]:
        """The spans to hide in this trace."""
        book = self.critical_keys(entities)
        drafts = [SpanDraft(start, end, "ANSWER") for start, end in self.answer_bodies]
        if not book.kinds:
            return drafts
        with_aliases = book.index(with_aliases=True)
        plain = book.index(with_aliases=False)
        for start, end in self.expert:
            for hit_start, hit_end, key in _scan(self.runs(start, end), with_aliases):
                if key in book.aliases:
                    if not self.trace[hit_start].isupper():
                        continue
                    key = book.aliases[key]
                drafts.append(book.draft(hit_start, hit_end, key))
                abbreviation = _ABBREVIATION.match(self.trace, hit_end, end)
                if abbreviation and book.kinds[book.identity.get(key, key)] == "ANSWER":
                    drafts.append(SpanDraft(abbreviation.start(1), abbreviation.end(1), "ANSWER"))
        for passage in self.passages:
            for hit_start, hit_end, key in _scan(self.runs(passage.title_start, passage.title_end), plain):
                drafts.append(book.draft(hit_start, hit_end, key))
            hits = list(_scan(self.runs(passage.text_start, passage.text_end), plain))
            if any(key not in book.non_triggering for _, _, key in hits):
                drafts.append(SpanDraft(passage.text_start, passage.text_end, "PASSAGE"))
            else:
                drafts.extend(book.draft(s, e, k) for s, e, k in hits)
        return drafts


def _is_part(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    """Whether ``part`` is a shorter contiguous run of ``whole``'s tokens."""
    width = len(part)
    return width < len(whole) and any(whole[i : i + width] == part for i in range(len(whole) - width + 1))


def _stripped(trace: str, segment: Segment) -> tuple[int, int]:
    start, end = segment.body_start, segment.body_end
    while start < end and trace[start].isspace():
        start += 1
    while end > start and trace[end - 1].isspace():
        end -= 1
    return start, end


def _scan(
    runs: list[list[Token]], index: tuple[dict[str, list[tuple[str, ...]]], int]
) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """Occurrences of indexed keys in token runs, longest match first, left to right."""
    by_first, longest = index
    if not by_first:
        return
    for tokens in runs:
        position = 0
        while position < len(tokens):
            matched = None
            for key in by_first.get(tokens[position][2], ()):
                width = len(key)
                if width <= longest and all(
                    position + k < len(tokens) and tokens[position + k][2] == key[k] for k in range(width)
                ):
                    matched = key
                    break
            if matched is None:
                position += 1
                continue
            yield tokens[position][0], tokens[position + len(matched) - 1][1], matched
            position += len(matched)


def search_drafts(
    traces: Sequence[str], questions: Sequence[str | None], answers: Sequence[Sequence[str]]
) -> list[list[SpanDraft]]:
    """Spans to hide in many search traces, with one batched NER pass.

    Args:
        traces: the traces.
        questions: the question of each trace, or ``None``.
        answers: gold answers and aliases for each trace (may be empty).

    Returns:
        For each trace, its drafts (unresolved, possibly overlapping).
    """
    parsed = [_SearchTrace(t, q, a) for t, q, a in zip(traces, questions, answers, strict=True)]
    entities = named_entities([p.ner_text for p in parsed])
    return [p.drafts(found) for p, found in zip(parsed, entities, strict=True)]
