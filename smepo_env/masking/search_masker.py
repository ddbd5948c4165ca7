"""The search masker: follow the data through a Search-R1 trace and hide what it carries forward.

Rules, applied to the text alone (no annotations needed):

1. **Expert text** is what the expert wrote: ``<search>`` queries, ``<think>`` bodies and untagged
   prose, ``<answer>`` bodies. **Tool outputs** are ``<information>`` and ``<output>`` bodies,
   split into passages (``Doc i(Title: ...) text``, or lines).
2. **Candidates** are mentions in the expert text, found by pattern: capitalized runs (``Tessaly
   Studios``; two multiword names joined by "and" are two runs), numbers, years and dates, and
   names that a tool output writes capitalized but the expert wrote in lower case
   (``marin okafor birthplace``). Keys are lower-cased, accents folded (``Dvořák`` = ``dvorak``).
3. A candidate is **on the critical path** when it was *carried forward*: it first occurs in a
   tool output (an entity the expert already named before any search is its own knowledge, part
   of the plan the policy sees; a date the expert computes from a tool's date and searches for
   counts too), and the expert then uses it in a later query, in the answer, or in
   the **conclusion**: the clauses of the prose after the last tool output, except clauses that
   reject something (``not``, ``rather than``, ``a different person`` ...). A name from a tool
   output that the expert writes in apposition with the answer (``Edinburgh, Scotland``) gives the
   answer away and is critical too, and so is the expert's rounding of a tool's number
   (``about 4,806 m`` for a passage's ``4,805.59 m``) where it is used as the number itself would
   be. Candidates the expert names and rejects, context mentioned in passing and distractors stay
   readable.
4. **Question entities stay**: a candidate whose every content word is a word of the question, or
   a derived form of one (``Hungarian`` for ``Hungary``), is never critical, so shortened mentions
   (a surname, ``the Wall``, ``the Origin``) stay readable. Without a question, the expert text
   before the first tool output stands in for it. Nationalities alone, ordinals and numbers that
   point at a passage (``Doc 2``) are not candidates.
5. **The answer** is always hidden: the ``<answer>`` body and every given gold answer or alias,
   as ``[ANSWER]``, with its other surface forms: its last word when it is a multiword name
   (``Curie``, ``Oxford``), the content words of a short lower-case answer (``eucalyptus``; when
   another answer is one of them alone, ``guitar`` beside ``jazz guitar``, the others are hidden
   in the expert text only), the
   other spelling of a small number (``nine`` / ``9``), the parts of a date, and a gloss in
   parentheses right after it (``(EASA)``, ``(大豆, daizu)``).
6. Every occurrence of a critical key is hidden everywhere, one placeholder per key (``[ENTITY_1]``,
   ``[DATE_1]``, ``[NUMBER_1]``), together with what gives it away
   (:mod:`~smepo_env.masking.surface_forms`): the year and the day and month of a hidden date,
   a demonym or adjective built on a hidden name (``Malaysian``), and a multiword entity's last
   word where the expert writes it alone and capitalized. Forms in scripts without word breaks
   (CJK) are found as substrings.
7. **Passages** whose text holds a critical key are hidden as ``[PASSAGE]``; their ``Doc i(Title:
   ...)`` header stays, with critical titles replaced, so the policy sees that the search returned
   documents and which distractors came with them. An answer made only of stop words or yes/no
   (``"no"``) is hidden where it occurs but does not hide passages.

No statistical NER runs: a candidate matters only where it is carried forward, and a name
carried into a query, the answer or the conclusion is found there by pattern. On the realistic
and bundled search traces (6,066 with the train splits), spaCy's NER on the concluding prose
changed one masked trace, by a wrong span (``Mayotte is Mamoudzou`` as one name), and took three
quarters of the masking time.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from smepo_env.masking.mentions import (
    Token,
    capitalized_runs,
    key_of,
    numbers_and_dates,
    stop_words,
    token_runs,
)
from smepo_env.masking.segments import Segment, split_passages, split_segments
from smepo_env.masking.spans import SpanDraft
from smepo_env.masking.surface_forms import (
    MONTHS,
    date_parts,
    fold_accents,
    gloss_forms,
    is_derived_word,
    is_unspaced,
    number_forms,
)

_PASSAGE_REFERENCE = frozenset({"doc", "docs", "document", "documents", "passage", "passages", "result"})
_NON_TRIGGERING = frozenset({"yes", "no", "true", "false"})
_ARTICLES = frozenset({"a", "an", "the"})
_PROSE_TAGS = frozenset({"think", None})
_MAX_ALIAS_KEY = 3
_MIN_ALIAS_LETTERS = 4
MAX_ANSWER_WORDS = 16
"""Longest ``<answer>`` body (in words) searched for elsewhere; a longer one is hidden only in place."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_REJECTION_WORDS = _words(
    "not never instead rather unlike different unrelated wrong mistake mistaken trap confusing "
    "confused irrelevant only neither nor though although whereas other another isn't wasn't "
    "aren't weren't doesn't don't didn't won't cannot can't shouldn't"
)
"""Words that mark a sentence of the conclusion as a rejection or an aside (rule 3)."""
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")
_DECIDING = re.compile(
    r"\b(?:than|more|less|greater|fewer|larger|smaller|earlier|later|older|younger|before|after|higher"
    r"|lower|longer|shorter|exceeds?|versus|vs)\b|\d\s*[-+×*/=<>−]\s*\d",
    re.IGNORECASE,
)
"""A sentence that compares or computes: the numbers in it decide the answer (rule 3)."""
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")

_TOOL_KINDS = frozenset({"title", "passage"})
_POSSESSIVE = re.compile(r"['’]s\b")
_GENERIC_HEADS = _words(
    "university college school institute academy museum river mount mountain lake city town "
    "county state province company corporation agency association society club team league "
    "party award prize war battle treaty church cathedral airport station bridge park street "
    "island islands kingdom republic empire dynasty festival foundation bank press studio "
    "studios works records group hospital library orchestra band theatre theater center centre "
    "hall house tower building"
)
"""Head words too common to stand for a multiword answer on their own (``University``)."""
_NAME_MODIFIERS = _words(
    "central north south east west northern southern eastern western upper lower new old great "
    "greater little st saint san santa sao fort port mount lake cape"
)
_CALENDAR_WORDS = frozenset(MONTHS) | _words("monday tuesday wednesday thursday friday saturday sunday")


def _answer_key(text: str) -> tuple[str, ...]:
    """An answer's key: its tokens without leading articles; stop words stay (``"Ta’if"``,
    ``"seven"``, ``"no"``)."""
    key = key_of(text)
    start = 0
    while start < len(key) - 1 and key[start] in _ARTICLES:
        start += 1
    return key[start:]


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


@dataclass(frozen=True)
class _Region:
    """A stretch of the trace read as one text: a query, prose, an answer, a passage title or text."""

    start: int
    end: int
    kind: str


@dataclass
class _CriticalKeys:
    """What is hidden: key -> kind; surname aliases of full names (hidden in expert text only, and
    only where capitalized); answers that do not hide passages; ``identity``, which gives a part
    (a surname, a date part, a demonym) the placeholder of its owner; substrings, forms in
    scripts without word breaks, found by substring search; ``capitalized``, names made of
    stop words (a place called ``Both``), hidden only where written capitalized; and
    ``expert_only``, modifiers of a lower-case answer, hidden in the expert text only."""

    kinds: dict[tuple[str, ...], str] = field(default_factory=dict)
    aliases: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    non_triggering: set[tuple[str, ...]] = field(default_factory=set)
    identity: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    substrings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    capitalized: set[tuple[str, ...]] = field(default_factory=set)
    expert_only: set[tuple[str, ...]] = field(default_factory=set)

    def draft(self, start: int, end: int, key: tuple[str, ...]) -> SpanDraft:
        """The draft hiding one occurrence of ``key`` (a part shares its owner's placeholder)."""
        owner = self.identity.get(key, key)
        return SpanDraft(start, end, self.kinds[owner], " ".join(owner))

    def add_part(self, part: tuple[str, ...], owner: tuple[str, ...]) -> None:
        """Hide ``part`` wherever it occurs, under ``owner``'s placeholder (unless already a key)."""
        if part and part not in self.kinds:
            self.kinds[part] = self.kinds[owner]
            self.identity[part] = self.identity.get(owner, owner)

    def index(
        self, *, with_aliases: bool, keep: set[tuple[str, ...]] | frozenset[tuple[str, ...]] = frozenset()
    ) -> tuple[dict[str, list[tuple[str, ...]]], int]:
        """Keys (and aliases, and names to keep whole) grouped by first token, longest first, and the
        longest key length."""
        keys = list(self.kinds) + (list(self.aliases) if with_aliases else []) + list(keep)
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for key in sorted(keys, key=len, reverse=True):
            by_first.setdefault(key[0], []).append(key)
        return by_first, max((len(key) for key in keys), default=0)


class _SearchTrace:
    """One trace, parsed: regions in order, the question's words and the concluding clauses."""

    def __init__(self, trace: str, question: str | None, answers: Sequence[str]) -> None:
        self.trace = trace
        self.answers = answers
        self.regions: list[_Region] = []
        self.output_of: dict[int, int] = {}
        self.answer_bodies: list[tuple[int, int]] = []
        first_output = last_output = None
        for segment in split_segments(trace):
            if segment.is_tool_output:
                first_output = segment.start if first_output is None else first_output
                last_output = segment.end
                for passage in split_passages(trace, segment.body_start, segment.body_end):
                    if passage.title_end > passage.title_start:
                        self.output_of[len(self.regions)] = segment.start
                        self.regions.append(_Region(passage.title_start, passage.title_end, "title"))
                    self.output_of[len(self.regions)] = segment.start
                    self.regions.append(_Region(passage.text_start, passage.text_end, "passage"))
            elif segment.body_end > segment.body_start:
                kind = {"search": "query", "answer": "answer"}.get(segment.tag or "", "prose")
                if segment.tag not in _PROSE_TAGS and kind == "prose":
                    kind = "code"
                self.regions.append(_Region(segment.body_start, segment.body_end, kind))
                if segment.tag == "answer":
                    self.answer_bodies.append(_stripped(trace, segment))
        self.expert = [(r.start, r.end) for r in self.regions if r.kind not in _TOOL_KINDS]
        self._runs: dict[tuple[int, int], list[list[Token]]] = {}
        self._index_tokens()
        grounding = [
            " ".join(token[2] for token in run)
            for region in self.regions
            if region.kind in _TOOL_KINDS
            for run in self.runs(region.start, region.end)
        ]
        self.grounding = " " + " | ".join(grounding) + " "
        if question is not None:
            source, ranges = question, [(0, len(question))]
        else:
            cut = len(trace) if first_output is None else first_output
            source, ranges = trace, [(s, min(e, cut)) for s, e in self.expert if s < cut]
        self.question_tokens = {t[2] for a, b in ranges for run in token_runs(source, a, b) for t in run}
        self.question_names = {
            _content_key(source[x:y]) for a, b in ranges for x, y, _ in capitalized_runs(source, a, b)
        } - {()}
        self.question_text = " ".join(fold_accents(source[a:b].lower()) for a, b in ranges)
        self.conclusion = self._conclusion(last_output)
        self.number_texts: dict[tuple[str, ...], str] = {}
        stops = stop_words()
        self.stop_word_names = {
            key
            for region in self.regions
            if region.kind == "title" and self.trace[region.start : region.start + 1].isupper()
            for key in [key_of(self.trace[region.start : region.end])]
            if key and all(token in stops for token in key) and key[0] not in _ARTICLES
        }

    def runs(self, start: int, end: int) -> list[list[Token]]:
        """The token runs of ``trace[start:end]``, computed once per region."""
        if (start, end) not in self._runs:
            self._runs[(start, end)] = token_runs(self.trace, start, end)
        return self._runs[(start, end)]

    def _index_tokens(self) -> None:
        """Every token of every region, in trace order, with its run and region, indexed by text."""
        tokens: list[tuple[int, int, str, int, int]] = []
        run_id = 0
        for region_id, region in enumerate(self.regions):
            for run in self.runs(region.start, region.end):
                run_id += 1
                tokens.extend([(start, end, text, run_id, region_id) for start, end, text in run])
        by_text: defaultdict[str, list[int]] = defaultdict(list)
        for index, token in enumerate(tokens):
            by_text[token[2]].append(index)
        self.tokens = tokens
        self.by_text: dict[str, list[int]] = by_text

    def occurrences(self, key: tuple[str, ...]) -> list[tuple[int, int]]:
        """``(start offset, region index)`` of every occurrence of ``key``, parts of longer names too."""
        found = []
        width = len(key)
        for index in self.by_text.get(key[0], ()):
            last = index + width - 1
            if last >= len(self.tokens) or self.tokens[last][3] != self.tokens[index][3]:
                continue
            if all(self.tokens[index + k][2] == key[k] for k in range(1, width)):
                found.append((self.tokens[index][0], self.tokens[index][4]))
        return found

    def _conclusion(self, last_output: int | None) -> list[tuple[int, int, bool]]:
        """The sentences of the prose after the last tool output that reject nothing, each with
        whether it compares or computes (``_DECIDING``)."""
        if last_output is None:
            return []
        sentences = []
        for region in self.regions:
            if region.kind != "prose" or region.start < last_output:
                continue
            cursor = region.start
            breaks = [m.end() for m in _SENTENCE_END.finditer(self.trace, region.start, region.end)]
            for stop in [*breaks, region.end]:
                if stop > cursor:
                    words = {w.lower() for w in _WORD.findall(self.trace, cursor, stop)}
                    if not words & _REJECTION_WORDS:
                        deciding = _DECIDING.search(self.trace, cursor, stop) is not None
                        sentences.append((cursor, stop, deciding))
                cursor = stop
        return sentences

    def _in_conclusion(self, position: int, *, deciding: bool) -> bool:
        """Whether ``position`` lies in a concluding sentence (a deciding one, if asked)."""
        index = bisect.bisect_right(self.conclusion, (position, len(self.trace) + 1, True)) - 1
        if index < 0:
            return False
        start, end, is_deciding = self.conclusion[index]
        return start <= position < end and (is_deciding or not deciding)

    def _protected(self, key: tuple[str, ...]) -> bool:
        """Whether every content word of ``key`` is a word of the question or derived from one.

        A piece of a longer question name that the expert also writes on its own (the country
        ``Belize`` of the question's ``Belize City``) may be a name of its own: it is not protected,
        and only its occurrences outside the question's name count (rule 3).
        """
        stops = stop_words()
        content = list(key) if key in self.stop_word_names else [t for t in key if t not in stops]
        if not content:
            return True
        stated = all(
            token in self.question_tokens
            or any(is_derived_word(token, word) for word in self.question_tokens if len(word) >= 4)
            for token in content
        )
        if not stated or key in self.question_names:
            return stated
        if not any(_is_part(key, name) for name in self.question_names):
            return True
        return not self._standalone(key)

    def _standalone(self, key: tuple[str, ...]) -> list[tuple[int, int]]:
        """The occurrences of ``key`` that are not inside an occurrence of a longer question name."""
        found = self.occurrences(key)
        covered: list[tuple[int, int]] = []
        for name in self.question_names:
            if _is_part(key, name):
                covered.extend(
                    (start, self._occurrence_end(start, name)) for start, _ in self.occurrences(name)
                )
        if not covered:
            return found
        return [(start, region) for start, region in found if not any(a <= start < b for a, b in covered)]

    def _mentions(self) -> Iterator[tuple[tuple[str, ...], str]]:
        """Candidate keys and their kinds (rule 2), in the expert text."""
        for start, end in self.expert:
            for run_start, run_end, _ in capitalized_runs(self.trace, start, end):
                yield _content_key(self.trace[run_start:run_end]), "ENTITY"
            for num_start, num_end, kind in numbers_and_dates(self.trace, start, end):
                before = self.trace[max(start, num_start - 12) : num_start].lower().split()
                if before and before[-1].strip("(#:") in _PASSAGE_REFERENCE:
                    continue
                key = key_of(self.trace[num_start:num_end])
                if kind == "NUMBER":
                    self.number_texts.setdefault(key, self.trace[num_start:num_end])
                yield key, kind
        names: dict[tuple[str, ...], str] = {}
        for region in self.regions:
            if region.kind == "title":
                title = self.trace[region.start : region.end]
                names[_content_key(title) or _stop_word_name(key_of(title), self.stop_word_names)] = "ENTITY"
            elif region.kind == "passage":
                for run_start, run_end, initial in capitalized_runs(self.trace, region.start, region.end):
                    key = _content_key(self.trace[run_start:run_end])
                    if len(key) > 1 or not initial:
                        names[key] = "ENTITY"
        names.pop((), None)
        if names:
            index = _CriticalKeys(kinds=names).index(with_aliases=False)
            for start, end in self.expert:
                for _, _, key in _scan(self.runs(start, end), index):
                    yield key, "ENTITY"

    def _carried(self, key: tuple[str, ...], kind: str) -> bool:
        """Rule 3: first seen in a tool output, then used in a later query, the answer or the conclusion.

        In the conclusion, a number or date counts where a sentence compares or computes with it
        (``1636 is earlier than 1693``), and a name where it came from more than one tool output
        (it links two hops); a value or name the conclusion only mentions in passing stays.
        """
        found = self._standalone(key)
        if not found:
            return False
        if self.regions[found[0][1]].kind not in _TOOL_KINDS:
            return kind != "ENTITY" and self._derived_in_query(key, found)
        first = found[0][0]
        outputs = {self.output_of[region] for _, region in found if region in self.output_of}
        for start, region_index in found:
            region_kind = self.regions[region_index].kind
            if start <= first:
                continue
            if region_kind in ("query", "answer"):
                return True
            in_conclusion = region_kind == "prose" and self._in_conclusion(start, deciding=kind != "ENTITY")
            if in_conclusion and (kind != "ENTITY" or len(outputs) > 1):
                return True
        return False

    def _tool_numbers(self) -> dict[tuple[str, ...], float]:
        """The numbers the tool outputs write, by key, with their values (computed once)."""
        if not hasattr(self, "_tool_number_values"):
            values: dict[tuple[str, ...], float] = {}
            for region in self.regions:
                if region.kind == "passage":
                    for start, end, kind in numbers_and_dates(self.trace, region.start, region.end):
                        value = _number_value(self.trace[start:end])
                        if kind == "NUMBER" and value is not None:
                            values[key_of(self.trace[start:end])] = value
            self._tool_number_values = values
        return self._tool_number_values

    def _rounded_source(self, key: tuple[str, ...]) -> tuple[str, ...] | None:
        """The key of the tool output's number that the expert's number rounds (``4,806`` for a
        passage's ``4,805.59``, ``5,900`` for ``5,895``), or ``None``. Numbers under 10 written
        without decimals are too common to tell a rounding from a coincidence."""
        text = self.number_texts.get(key)
        value = None if text is None else _number_value(text)
        if value is None:
            return None
        digits = text.replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        if decimals == 0 and abs(value) < 10:
            return None
        zeros = len(digits) - len(digits.rstrip("0")) if decimals == 0 else 0
        for source, exact in self._tool_numbers().items():
            if exact == value:
                continue
            if round(exact, decimals) == value or any(
                round(exact, -place) == value for place in range(1, zeros + 1)
            ):
                return source
        return None

    def _rounding_carried(self, key: tuple[str, ...]) -> bool:
        """Whether the expert's rounding of a tool's number is used in a query, the answer or a
        concluding sentence that compares or computes (rule 3)."""
        for start, region in self.occurrences(key):
            kind = self.regions[region].kind
            if kind in ("query", "answer") or (kind == "prose" and self._in_conclusion(start, deciding=True)):
                return True
        return False

    def _qualifier(self, key: tuple[str, ...]) -> bool:
        """Whether a parenthesis after the answer only says what kind of thing it is, in the
        question's words or a generic head (``Oise (river)``): no other name of the answer."""
        return all(token in self.question_tokens or token in _GENERIC_HEADS for token in key)

    def _beside_answer(self, key: tuple[str, ...], answer_keys: set[tuple[str, ...]]) -> bool:
        """Whether the expert writes ``key``, first read in a tool output, in apposition with the
        answer, ``Edinburgh, Scotland``: a place named with the answer gives it away (rule 3)."""
        found = self.occurrences(key)
        if not found or self.regions[found[0][1]].kind not in _TOOL_KINDS:
            return False
        for start, region in found:
            if self.regions[region].kind in _TOOL_KINDS:
                continue
            after = bisect.bisect_left(self.tokens, (start,)) + len(key)
            if after >= len(self.tokens) or self.tokens[after][4] != region:
                continue
            if self.trace[self.tokens[after - 1][1] : self.tokens[after][0]] != ", ":
                continue
            for answer in answer_keys:
                words = self.tokens[after : after + len(answer)]
                if len(words) == len(answer) and all(w[2] == a for w, a in zip(words, answer, strict=True)):
                    return True
        return False

    def _derived_in_query(self, key: tuple[str, ...], found: list[tuple[int, int]]) -> bool:
        """A date the expert computed from a tool's date and searched for (``13 May 1987`` the
        day after a passage's ``12 May 1987``): it shares its year with a tool output."""
        years = [token for token in key if len(token) == 4 and token.isdigit()]
        in_query = any(self.regions[region].kind == "query" for _, region in found)
        return in_query and any(f" {year} " in self.grounding for year in years)

    def critical_keys(self) -> _CriticalKeys:
        """Decide which keys are on the critical path (rules 2 to 6 of the module docstring)."""
        stops = stop_words()
        book = _CriticalKeys()
        rejected: set[tuple[str, ...]] = set()
        dates: list[tuple[str, ...]] = []
        answer_keys = {key for key in map(_answer_key, self.answer_texts()) if key}
        for key, kind in self._mentions():
            if not key or key in book.kinds or key in rejected:
                continue
            if kind == "DATE" and len(key) > 1:
                dates.append(key)
            padded = " " + " ".join(key) + " "
            if kind == "NUMBER" and padded not in self.grounding and not self._protected(key):
                source = self._rounded_source(key)
                if source is not None and self._rounding_carried(key):
                    book.kinds[key] = kind
                    book.add_part(source, key)
                    continue
            if (
                (len(key) == 1 and key[0] in _CALENDAR_WORDS)
                or self._protected(key)
                or padded not in self.grounding
                or not (self._carried(key, kind) or self._beside_answer(key, answer_keys))
            ):
                rejected.add(key)
                continue
            book.kinds[key] = kind
            if key in self.stop_word_names:
                book.capitalized.add(key)
        self._add_answers(book)
        # A date whose year is hidden is hidden whole, so that its day and month go with it.
        hidden_years = {
            token
            for key, kind in book.kinds.items()
            if kind in ("DATE", "ANSWER") and (len(key) == 1 or date_parts(key))
            for token in key
            if len(token) == 4 and token.isdigit()
        }
        for key in dates:
            if key not in book.kinds and hidden_years.intersection(key):
                book.kinds[key] = "DATE"
        # A key that is a piece of a longer key and never written on its own in the expert text is
        # an artifact of a partial mention (the "Yaidai" of "Yaidai Vremu"): it would only hide
        # look-alike passages ("Yaidai Vramu").
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
        for key, kind in list(book.kinds.items()):
            if kind != "ENTITY" or not 2 <= len(key) <= _MAX_ALIAS_KEY:
                continue
            surname = key[-1]
            unique = sum(surname in other for other in book.kinds) == 1
            wordlike = surname.isalpha() and len(surname) >= _MIN_ALIAS_LETTERS and surname not in stops
            if wordlike and unique and surname not in self.question_tokens and (surname,) not in book.kinds:
                book.aliases.setdefault((surname,), key)
        self._add_surface_forms(book)
        return book

    def answer_texts(self) -> list[str]:
        """The ``<answer>`` bodies short enough to be an answer, and the gold answers."""
        bodies = [self.trace[s:e] for s, e in self.answer_bodies]
        return [text for text in bodies if len(text.split()) <= MAX_ANSWER_WORDS] + list(self.answers)

    def _add_answers(self, book: _CriticalKeys) -> None:
        """Rule 5: the answer texts and their other surface forms, all as ``ANSWER`` (they win over
        any other kind)."""
        stops = stop_words()
        modifiers: list[tuple[str, ...]] = []
        single_answers = {key for key in map(_answer_key, self.answer_texts()) if len(key) == 1}
        for text in self.answer_texts():
            if is_unspaced(text):
                book.substrings.setdefault(text.strip(), ("[answer]",))
            key = _answer_key(text)
            if not key:
                continue
            book.kinds[key] = "ANSWER"
            if all(token in stops or token in _NON_TRIGGERING for token in key):
                book.non_triggering.add(key)
            forms = [key_of(form) for form in number_forms(text)]
            forms += date_parts(key)
            content = [t for t in key if t not in stops and len(t) >= _MIN_ALIAS_LETTERS and t.isalpha()]
            head = _name_head(key, content)
            if 1 < len(key) <= _MAX_ALIAS_KEY and text.strip()[:1].isupper() and head:
                forms.append((head,))
            elif (
                1 < len(key) <= _MAX_ALIAS_KEY
                and text.strip().islower()
                and not any(c.isdigit() for c in text)
                and content
            ):
                # When another answer is one of its words alone (``guitar`` beside ``jazz
                # guitar``), the others only qualify it: hidden where the expert writes them,
                # but a passage that holds one alone (a jazz violinist) is off the answer's path.
                heads = [token for token in content if (token,) in single_answers]
                forms.extend((token,) for token in (heads or content))
                modifiers.extend((token,) for token in content if heads and token not in heads)
            if any(token.isdigit() for token in key):
                forms.extend(self._longer_numbers(key))
            for form in forms:
                if form:
                    book.kinds[form] = "ANSWER"
                    book.identity.pop(form, None)
                    book.expert_only.discard(form)
        for form in modifiers:
            if form not in book.kinds:
                book.kinds[form] = "ANSWER"
                book.expert_only.add(form)
        answer_keys = [key for key, kind in book.kinds.items() if kind == "ANSWER"]
        for key in answer_keys:
            for start, region_index in self.occurrences(key):
                region = self.regions[region_index]
                end = self._occurrence_end(start, key)
                for gloss_start, gloss_end in gloss_forms(self.trace, end, region.end):
                    gloss = self.trace[gloss_start:gloss_end]
                    if is_unspaced(gloss):
                        book.substrings.setdefault(gloss, ("[answer]",))
                    elif _answer_key(gloss) and not self._qualifier(_answer_key(gloss)):
                        book.kinds[_answer_key(gloss)] = "ANSWER"
        if any(owner == ("[answer]",) for owner in book.substrings.values()):
            book.kinds[("[answer]",)] = "ANSWER"

    def _longer_numbers(self, key: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Numbers that write the answer's number with more decimals (``3,776.24`` for ``3,776``)."""
        digits = tuple(token for token in key if token.isdigit())
        found = []
        for start, _ in self.occurrences(digits):
            index = bisect.bisect_left(self.tokens, (start,)) + len(digits)
            if index < len(self.tokens) and self.tokens[index][3] == self.tokens[index - 1][3]:
                gap = self.trace[self.tokens[index - 1][1] : self.tokens[index][0]]
                if gap == "." and self.tokens[index][2].isdigit():
                    found.append((*digits, self.tokens[index][2]))
        return [digits, *found] if digits != key else found

    def _occurrence_end(self, start: int, key: tuple[str, ...]) -> int:
        index = bisect.bisect_left(self.tokens, (start,))
        return self.tokens[min(index + len(key) - 1, len(self.tokens) - 1)][1]

    def _add_surface_forms(self, book: _CriticalKeys) -> None:
        """Rule 6: date parts and derived words of the critical keys."""
        for key, kind in list(book.kinds.items()):
            if kind in ("DATE", "ENTITY", "NUMBER") and book.identity.get(key, key) == key:
                for part in date_parts(key):
                    if not (len(part) == 1 and part[0] in self.question_tokens):
                        book.add_part(part, key)
        stems: dict[str, list[tuple[str, ...]]] = {}
        for key in book.kinds:
            name = key[-1]
            if name.isalpha() and len(name) >= _MIN_ALIAS_LETTERS and name not in self.question_tokens:
                stems.setdefault(name[:4], []).append(key)
        if not stems:
            return
        for start, _, text, _, _ in self.tokens:
            owners = stems.get(text[:4])
            if not owners or (text,) in book.kinds or text in self.question_tokens:
                continue
            if not self.trace[start].isupper():
                continue
            for owner in owners:
                if is_derived_word(text, owner[-1]):
                    book.add_part((text,), owner)
                    break

    def drafts(self) -> list[SpanDraft]:
        """The spans to hide in this trace."""
        book = self.critical_keys()
        drafts = [SpanDraft(start, end, "ANSWER") for start, end in self.answer_bodies]
        if not book.kinds:
            return drafts
        keep = {name for name in self.question_names if name not in book.kinds}
        with_aliases = book.index(with_aliases=True, keep=keep)
        plain = book.index(with_aliases=False)
        for start, end in self.expert:
            for hit_start, hit_end, key in _scan(self.runs(start, end), with_aliases):
                if key in keep and key not in book.kinds and key not in book.aliases:
                    continue
                if key in book.capitalized and not self.trace[hit_start].isupper():
                    continue
                if key in book.aliases:
                    if not self.trace[hit_start].isupper():
                        continue
                    key = book.aliases[key]
                possessive = _POSSESSIVE.match(self.trace, hit_end, end)
                drafts.append(book.draft(hit_start, possessive.end() if possessive else hit_end, key))
            drafts.extend(self._substring_drafts(book, start, end))
        for region in self.regions:
            if region.kind not in _TOOL_KINDS:
                continue
            hits = [
                (hit_start, hit_end, key)
                for hit_start, hit_end, key in _scan(self.runs(region.start, region.end), plain)
                if key not in book.expert_only
                and (key not in book.capitalized or self.trace[hit_start].isupper())
            ]
            if region.kind == "title":
                drafts.extend(book.draft(s, e, k) for s, e, k in hits)
                drafts.extend(self._substring_drafts(book, region.start, region.end))
            elif region.kind == "passage":
                unspaced = self._substring_drafts(book, region.start, region.end)
                if unspaced or any(key not in book.non_triggering for _, _, key in hits):
                    drafts.append(SpanDraft(region.start, region.end, "PASSAGE"))
                else:
                    drafts.extend(book.draft(s, e, k) for s, e, k in hits)
        return drafts

    def _substring_drafts(self, book: _CriticalKeys, start: int, end: int) -> list[SpanDraft]:
        """Occurrences of the forms written without word breaks (CJK) in ``trace[start:end]``."""
        drafts = []
        for text, owner in book.substrings.items():
            position = self.trace.find(text, start, end)
            while position >= 0:
                drafts.append(book.draft(position, position + len(text), owner))
                position = self.trace.find(text, position + len(text), end)
        return drafts


def _name_head(key: tuple[str, ...], content: list[str]) -> str | None:
    """The word that stands for a multiword name on its own: its last word (``Curie``, ``Oxford``),
    or, when that is a generic head (``Harvard University``), its first distinctive word; ``None``
    when the last word is too short to be told apart (``Romanian Leu``) or the first one only
    qualifies the rest (``Central America``, ``St. George's``, ``New York``)."""
    if key[0] in _NAME_MODIFIERS:
        return None
    if key[-1] in content and key[-1] not in _GENERIC_HEADS:
        return key[-1]
    if key[-1] in _GENERIC_HEADS:
        distinctive = [token for token in content if token not in _GENERIC_HEADS]
        return distinctive[0] if distinctive else None
    return None


def _number_value(text: str) -> float | None:
    """The value of a number as a passage or the expert writes it (``4,805.59``), or ``None``."""
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _stop_word_name(key: tuple[str, ...], names: set[tuple[str, ...]]) -> tuple[str, ...]:
    """``key`` when it is a name made of stop words (``Both``), else the empty key."""
    return key if key in names else ()


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
    """Spans to hide in many search traces.

    Args:
        traces: the traces.
        questions: the question of each trace, or ``None``.
        answers: gold answers and aliases for each trace (may be empty).

    Returns:
        For each trace, its drafts (unresolved, possibly overlapping).
    """
    return [_SearchTrace(t, q, a).drafts() for t, q, a in zip(traces, questions, answers, strict=True)]
