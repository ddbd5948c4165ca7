"""Answer normalization, the answer sweep that finds every readable occurrence of an answer, and the
leak check that proves none is left.

Normalization is the reward's own (:func:`smepo_env.scoring.normalize.normalize_answer`):
Search-R1's exact-match rule extended to Unicode (NFKC, any decimal digit, ``P*``/``S*``
characters deleted, articles dropped). ``"The  U.S.A.!"`` becomes ``"usa"``, ``"１９６９"`` is
``"1969"``.

An answer *leaks* from a text when its normalized form occurs in the normalized text on word
boundaries (:func:`contains_answer`). This is the definition the audit uses.

The sweep (:func:`find_answer_occurrences`) hides a superset of what the leak check can find, so
that hiding every occurrence it returns leaves no leak:

* **Delete mode** (the leak check's own rule): ``"Veldra."``, ``"VELDRA"``, ``"U.S.A."`` for
  ``"USA"``, ``"the Beatles"`` for ``"Beatles"``.
* **Space mode**, for answers that contain letters: punctuation becomes a word break, so
  ``"New-York"`` is found for ``"New York"`` and ``"Saint Étienne"`` for ``"Saint-Étienne"``.
  Purely numeric answers skip it, so ``"2"`` is not found inside ``"3.2"`` or ``"x^2"``.
* **Derived words**: an alphabetic answer of at least :data:`MIN_DERIVED_LENGTH` letters is also
  found at the start of a longer word, and the whole word is hidden: ``"Paris"`` in
  ``"Parisian"``, ``"Veldra"`` in ``"Veldra's"``, since those reveal the answer. Shorter answers
  match whole words only, so ``"Al"`` is not found in ``"Alps"`` nor ``"US"`` in ``"use"``.

* **Scripts without word breaks** (Chinese, Japanese, Thai ...): an answer written in them is found
  as a substring, ``大豆`` inside ``納豆は大豆を発酵させた食品です``, by the sweep and the leak check alike.

An answer whose normalized form is empty (``"the"``, ``"?!"``) cannot be read in any text and is
ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from smepo_env.masking.surface_forms import is_unspaced
from smepo_env.scoring.normalize import (
    ARTICLES,
    DELETE_PUNCTUATION,
    SPACE_PUNCTUATION,
    fold,
    normalize_answer,
)

MIN_DERIVED_LENGTH = 5
"""Shortest alphabetic answer that is also hidden at the start of a longer word."""

_WORD = re.compile(r"\S+")

__all__ = ["contains_answer", "find_answer_occurrences", "normalize_answer"]


def _normalized_words(text: str, *, punctuation_as_space: bool) -> list[tuple[str, int, int]]:
    """The normalized words of ``text``, each with the offsets of its first and last kept character."""
    words: list[tuple[str, int, int]] = []
    if punctuation_as_space:
        for match in _WORD.finditer(text.translate(SPACE_PUNCTUATION)):
            word = match.group().lower()
            if word not in ARTICLES:
                words.append((word, match.start(), match.end()))
        return words
    for match in _WORD.finditer(text):
        raw = match.group()
        word = fold(raw)
        if not word or word in ARTICLES:
            continue
        lead = 0
        while DELETE_PUNCTUATION[ord(raw[lead])] is None:
            lead += 1
        trail = len(raw)
        while DELETE_PUNCTUATION[ord(raw[trail - 1])] is None:
            trail -= 1
        words.append((word, match.start() + lead, match.start() + trail))
    return words


def _answer_tokens(answer: str, *, punctuation_as_space: bool) -> list[str]:
    folded = answer.translate(SPACE_PUNCTUATION).lower() if punctuation_as_space else fold(answer)
    return [word for word in folded.split() if word not in ARTICLES]


def _match_runs(
    words: list[tuple[str, int, int]], tokens: list[str], *, allow_derived: bool
) -> Iterable[tuple[int, int]]:
    width = len(tokens)
    last = tokens[-1]
    for index in range(len(words) - width + 1):
        if words[index][0] != tokens[0] and not (width == 1 and allow_derived):
            continue
        if any(words[index + k][0] != tokens[k] for k in range(width - 1)):
            continue
        final = words[index + width - 1][0]
        if final == last or (allow_derived and final.startswith(last)):
            yield words[index][1], words[index + width - 1][2]


def find_answer_occurrences(
    text: str,
    answers: Sequence[str],
    *,
    start: int = 0,
    end: int | None = None,
    split_on_punctuation: bool = True,
    derived_words: bool = True,
) -> list[tuple[int, int]]:
    """Find every occurrence of any answer in ``text[start:end]``, read as a text of its own.

    Args:
        text: the text to search.
        answers: gold answers and aliases, in any casing or punctuation.
        start: where the searched region begins.
        end: where it ends (the end of ``text`` when ``None``).
        split_on_punctuation: add space mode (see the module docstring) to delete mode.
        derived_words: also find an answer at the start of a longer word (``Parisian``).
            With both flags ``False`` it finds exactly what :func:`contains_answer` reads.

    Returns:
        ``(start, end)`` offsets in ``text``, sorted and distinct (they may overlap).
    """
    region = text[start:end]
    flat = fold(region)
    found: list[tuple[int, int]] = []
    for answer in answers:
        needle = answer.strip()
        if needle and is_unspaced(needle):
            position = region.find(needle)
            while position >= 0:
                found.append((start + position, start + position + len(needle)))
                position = region.find(needle, position + len(needle))
    modes = [False]
    if split_on_punctuation and any(ch.isalpha() for answer in answers for ch in answer):
        modes.append(True)
    for punctuation_as_space in modes:
        wanted = []
        for answer in answers:
            if punctuation_as_space and not any(ch.isalpha() for ch in answer):
                continue
            tokens = _answer_tokens(answer, punctuation_as_space=punctuation_as_space)
            # Every match shows its first token in the punctuation-free text: skip the rest fast.
            if tokens and tokens[0] in flat:
                wanted.append(tokens)
        if not wanted:
            continue
        words = _normalized_words(region, punctuation_as_space=punctuation_as_space)
        for tokens in wanted:
            joined = "".join(tokens)
            allow_derived = derived_words and tokens[-1].isalpha() and len(joined) >= MIN_DERIVED_LENGTH
            for first, last in _match_runs(words, tokens, allow_derived=allow_derived):
                found.append((start + first, start + last))
    return sorted(set(found))


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether any answer can be read in ``text`` by normalized, word-boundary exact match (a
    substring match for an answer in a script written without word breaks, such as ``大豆``)."""
    haystack = f" {normalize_answer(text)} "
    for answer in answers:
        needle = normalize_answer(answer)
        if needle and (f" {needle} " in haystack or (is_unspaced(needle) and needle in haystack)):
            return True
    return False
