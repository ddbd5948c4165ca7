"""Finding mentions of named things in text by pattern: capitalized name runs, numbers and dates.

These are the candidate spans the search masker tests for being carried along the critical path:
capitalized multiword runs (``Tessaly Studios``, ``University of Kessen``), numbers, years and
dates. No statistical model is loaded (spaCy supplies only its English stop-word list); see
:mod:`~smepo_env.masking.search_masker` for why NER was dropped.

Mentions are compared through their *key*: the lower-cased tuple of their letter/digit runs with
accents folded, so ``"Marin Okafor"``, ``"marin okafor"`` and ``"Marin  Okafor's"`` (minus the
``s``) line up, and so do ``"Antonín Dvořák"`` and a query's ``"antonin dvorak"``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from smepo_env.masking.surface_forms import fold_accents

TOKEN = re.compile(r"[^\W_]+")
"""A key token: a run of letters and digits."""

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_CONNECTORS = frozenset({"of", "the", "de", "del", "della", "der", "den", "van", "von", "da", "di", "du"})
_CONNECTORS |= frozenset({"la", "le", "y", "and", "on", "upon", "in", "for"})
_AND = "and"
"""Joins names into one where one side is a single word (``Procter and Gamble``, ``Saint Pierre and
Miquelon``); between two multiword names it separates two entities (``Django Reinhardt and Wes
Montgomery``)."""
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTH},?\s+\d{{3,4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{3,4}}"
    rf"|{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})(?![^\W_])"
)
_NUMBER = re.compile(r"(?<![^\W_])\d+(?:[.,]\d+)*(?:s\b)?(?![^\W_])")


@functools.lru_cache(maxsize=1 << 16)
def _key_token(word: str) -> str:
    """One key token: ``word`` lower-cased, accents folded (cached: words repeat across a trace)."""
    return fold_accents(word.lower())


def key_of(text: str) -> tuple[str, ...]:
    """The comparison key of a text: its lower-cased letter/digit runs, accents folded."""
    return tuple(_key_token(token) for token in TOKEN.findall(text))


Token = tuple[int, int, str]
"""A key token: start, end and lower-cased text."""

_SOFT_GAP = re.compile(r"[ \t'’‘`´\-]{1,3}|, ")


@functools.lru_cache(maxsize=1024)
def _gap_joins(gap: str) -> bool | None:
    """Whether a gap between two tokens joins them: ``True`` or ``False`` whatever the tokens,
    ``None`` when it depends on them (``.`` between digits or after an initial)."""
    if _SOFT_GAP.fullmatch(gap):
        return True
    if gap in (".", ",", "/", ":", ". "):
        return None
    return False


def _joinable(gap: str, previous: str, following: str) -> bool:
    joins = _gap_joins(gap)
    if joins is not None:
        return joins
    if gap != ". " and previous.isdigit() and following.isdigit():
        return True
    return gap in (". ", ".") and len(previous) == 1 and previous.isalpha()


def token_runs(text: str, start: int, end: int) -> list[list[Token]]:
    """The key tokens of ``text[start:end]``, cut where one name cannot run on into the next.

    Tokens stay in one run across spaces, hyphens, apostrophes (``’‘`´`` too) and ``", "``,
    across ``.``, ``,``, ``/`` and ``:`` between digits (``38,682``, ``3.5``) and after an
    initial (``J. Smith``); a sentence end (``Maseru. Lesotho``), a newline or other punctuation
    cuts the run, so a key never matches across it.
    """
    runs: list[list[Token]] = []
    run: list[Token] = []
    previous_end = -1
    previous = ""
    for match in TOKEN.finditer(text, start, end):
        token_start, token_end = match.span()
        folded = _key_token(match.group())
        token = (token_start, token_end, folded)
        gap = text[previous_end:token_start]
        if run and (gap == " " or _joinable(gap, previous, folded)):
            run.append(token)
        else:
            run = [token]
            runs.append(run)
        previous_end, previous = token_end, folded
    return runs


@functools.cache
def stop_words() -> frozenset[str]:
    """spaCy's English stop words."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _is_capitalized(word: str) -> bool:
    return word[0].isupper()


def _two_capitalized(text: str, words: list[tuple[int, int, str]], index: int) -> bool:
    """Whether ``words[index]`` and the next word are both capitalized and joined by a space."""
    return (
        index + 1 < len(words)
        and _is_capitalized(words[index][2])
        and _is_capitalized(words[index + 1][2])
        and text[words[index][1] : words[index + 1][0]] == " "
    )


def capitalized_runs(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """Runs of capitalized words in ``text[start:end]``, stop words trimmed from both ends.

    Words may be joined by single spaces, by ``". "`` after an initial (``J. R. Tolkien``), and by
    lower-case connectors (``of``, ``de``, ``van`` ...) between two capitalized words.

    Leading stop words are trimmed only from a run that opens a sentence (``The``, ``Now``), where
    capitalization says nothing; inside a sentence they belong to the name (``by You Pliwik``).

    Yields:
        ``(start, end, sentence_initial)`` for each run; ``sentence_initial`` tells whether the
        run's first word opens a sentence, so that its capital may only be the sentence's.
    """
    stops = stop_words()
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text, start, end)]
    index = 0
    while index < len(words):
        if not _is_capitalized(words[index][2]):
            index += 1
            continue
        run = [index]
        probe = index + 1
        while probe < len(words):
            gap = text[words[probe - 1][1] : words[probe][0]]
            previous = words[probe - 1][2]
            joined = gap == " " or (gap == ". " and len(previous) == 1)
            if not joined:
                break
            word = words[probe][2]
            if _is_capitalized(word):
                run.append(probe)
                probe += 1
            elif word.lower() in _CONNECTORS and probe + 1 < len(words):
                next_gap = text[words[probe][1] : words[probe + 1][0]]
                joins = word.lower() != _AND or len(run) == 1 or not _two_capitalized(text, words, probe + 1)
                if joins and next_gap == " " and _is_capitalized(words[probe + 1][2]):
                    run.extend((probe, probe + 1))
                    probe += 2
                else:
                    break
            else:
                break
        index = probe
        cursor = words[run[0]][0] - 1
        while cursor >= start and text[cursor] in " \t":
            cursor -= 1
        sentence_initial = cursor < start or text[cursor] in ".!?:;\n\"'()[]"
        if sentence_initial:
            while run and words[run[0]][2].lower() in stops:
                run.pop(0)
                sentence_initial = False
        while run and words[run[-1]][2].lower() in stops:
            run.pop()
        if not run:
            continue
        first = words[run[0]][0]
        yield first, words[run[-1]][1], sentence_initial


def numbers_and_dates(text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    """Dates (``12 May 1950``, ``May 1950``, ``1950-05-12``) and numbers in ``text[start:end]``.

    Yields:
        ``(start, end, kind)`` with kind ``DATE`` for dates and four-digit years from 1000 to
        2100, ``NUMBER`` for other numbers; numbers inside a date are not repeated.
    """
    covered_until = -1
    dates = [(m.start(), m.end()) for m in _DATE.finditer(text, start, end)]
    date_index = 0
    for match in _NUMBER.finditer(text, start, end):
        while date_index < len(dates) and dates[date_index][1] <= match.start():
            date_start, date_end = dates[date_index]
            yield date_start, date_end, "DATE"
            covered_until = date_end
            date_index += 1
        if date_index < len(dates) and dates[date_index][0] <= match.start():
            continue
        if match.start() < covered_until:
            continue
        digits = match.group()
        is_year = len(digits) == 4 and digits.isdigit() and 1000 <= int(digits) <= 2100
        yield match.start(), match.end(), "DATE" if is_year else "NUMBER"
    for date_start, date_end in dates[date_index:]:
        yield date_start, date_end, "DATE"
