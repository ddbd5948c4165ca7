"""Numbers in math text: where they are, what they are worth, and when they are structure.

A *number atom* is one written quantity: ``42``, ``-3``, ``1,250``, ``0.75``, ``20%``, ``3/4``
(written without spaces; ``1300 / 10`` is a division of two atoms),
``\\frac{3}{4}`` (also ``\\dfrac``, ``\\tfrac``, ``\\frac34``), ``2\\sqrt{3}``, ``\\sqrt[3]{8}``,
``forty-two``, ``three hundred``, ``½`` (not the ``.6`` of a range ``2..6``). A LaTeX fraction or
root with a symbol inside (``\\frac{x}{2}``) is not one atom: the numbers inside it are atoms of
their own.

Signs: a minus belongs to the number only when it is unary (``= -3``, ``(-3``, ``is -3``); a plus
never does, so ``2x+3y`` holds the atoms ``2`` and ``3`` and keeps its operator.

*Structural* numbers are never derived values: exponents (``x^2``, ``x^{10}``, ``x**2``),
subscripts and indices (``a_1``, ``a_{12}``, ``x1``), step labels (``Step 1``, ``Case 2``, ``Day
two``), list
markers (``1.`` or ``2)`` opening a line), equation tags (``(1)`` closing a line, ``\\tag{1}``) and
ordinals (``1st``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
_UNITS += " sixteen seventeen eighteen nineteen"
_UNIT_VALUES = {word: value for value, word in enumerate(_UNITS.split())}
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TENS = {w: 10 * (i + 2) for i, w in enumerate(_TENS_WORDS)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_NUMBER_WORDS = sorted([*_UNIT_VALUES, *_TENS, *_SCALES], key=len, reverse=True)
_WORD_ALTERNATION = "|".join(_NUMBER_WORDS)
_VULGAR = "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞"

_ATOM = re.compile(
    r"(?P<frac>\\[dt]?frac\s*(?:\{(?P<num>[^{}]*)\}|(?P<num1>\d))\s*(?:\{(?P<den>[^{}]*)\}|(?P<den1>\d)))"
    r"|(?P<sqrt>(?:(?P<coef>\d+(?:\.\d+)?)\s*)?\\sqrt\s*(?:\[(?P<root>[^\[\]]*)\])?\s*\{(?P<rad>[^{}]*)\})"
    r"|(?P<slash>(?<![\d.])\d+(?:\.\d+)?/\d+(?:\.\d+)?(?![\d.]))"
    r"|(?P<digits>(?<![\d.])(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?<![\d.])\.\d+)(?P<pct>\s*\\?%)?"
    rf"|(?P<worded>(?i:\b(?:{_WORD_ALTERNATION})(?:(?:-|[ \t]+)(?:{_WORD_ALTERNATION}))*\b))"
    rf"|(?P<vulgar>[{_VULGAR}])"
)
_PLAIN_NUMBER = re.compile(r"\s*[-−]?\s*(?:\d+(?:\.\d+)?|\.\d+)\s*")
_GROUPED = re.compile(r"[\^_]\s*\{[^{}]*\}")
_STEP_LABEL = re.compile(
    r"(?i)\b(?:step|case|subcase|part|stage|phase|round|method|approach|option|problem|question|example"
    r"|exercise|lemma|claim|theorem|equation|eq\.|line|row|column|figure|table|section|hint|solution"
    r"|day|week|month|year)"
    r"\s*#?\s*$"
)
_LIST_MARKER_PREFIX = re.compile(r"(?:^|\n)[ \t]*(?:[-*#>]+[ \t]*)?\(?$")
_ORDINAL_SUFFIX = re.compile(r"(?:st|nd|rd|th)\b")
_ONE_IDIOM_BEFORE = frozenset({"no", "each", "every", "any", "some", "which", "this", "that", "the"})
_ONE_IDIOM_AFTER = frozenset({"of", "another", "by"})


@dataclass(frozen=True)
class NumberAtom:
    """One written quantity.

    Attributes:
        start: where it starts (a unary minus included).
        end: where it ends.
        value: its exact value, or ``None`` for an irrational root.
        key: a canonical form: equal keys mean the same quantity (``"3/4"`` for ``0.75``).
        components: the plain numbers it is built from (``3`` and ``4`` for ``\\frac{3}{4}``).
    """

    start: int
    end: int
    value: Fraction | None
    key: str
    components: tuple[Fraction, ...]


def _plain(text: str | None) -> Fraction | None:
    if text is None or not _PLAIN_NUMBER.fullmatch(text):
        return None
    return Fraction(text.replace(" ", "").replace("\t", "").replace("−", "-"))


def worded_value(text: str) -> int:
    """The value of a worded number such as ``"forty-two"`` or ``"three hundred"``."""
    total = current = 0
    for word in re.split(r"[-\s]+", text.lower()):
        if word in _UNIT_VALUES:
            current += _UNIT_VALUES[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return total + current


def _unary_minus(text: str, start: int) -> bool:
    sign = start - 1
    if sign < 0 or text[sign] not in "-−":
        return False
    before = sign - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    if before < 0 or text[before] in "\n([{=,:;<>+*/^$&":
        return True
    if text[before].isalpha() and before < sign - 1:
        word_start = before
        while word_start >= 0 and text[word_start].isalpha():
            word_start -= 1
        return before - word_start >= 2
    return False


def _is_idiomatic_one(text: str, match: re.Match[str]) -> bool:
    if match.group().lower() != "one":
        return False
    before = text[max(0, match.start() - 12) : match.start()].lower().split()
    after = text[match.end() : match.end() + 12].lower().split()
    return bool(before and before[-1] in _ONE_IDIOM_BEFORE) or bool(after and after[0] in _ONE_IDIOM_AFTER)


def _atom(text: str, match: re.Match[str]) -> NumberAtom | None:
    """Build the atom for one match, or ``None`` when the match is a symbolic fraction or root."""
    start, end = match.start(), match.end()
    if match.group("frac"):
        numerator = _plain(match.group("num") if match.group("num1") is None else match.group("num1"))
        denominator = _plain(match.group("den") if match.group("den1") is None else match.group("den1"))
        if numerator is None or denominator is None or denominator == 0:
            return None
        value = numerator / denominator
        parts: tuple[Fraction, ...] = (numerator, denominator)
    elif match.group("sqrt"):
        radicand, root = _plain(match.group("rad")), match.group("root")
        index = _plain(root) if root else Fraction(2)
        if radicand is None or index is None:
            return None
        coefficient = _plain(match.group("coef")) if match.group("coef") else None
        parts = tuple(p for p in (coefficient, radicand) if p is not None)
        key = re.sub(r"\s+", "", match.group())
        return NumberAtom(start, end, None, key, parts)
    elif match.group("slash"):
        left, right = (Fraction(p.strip()) for p in match.group("slash").split("/"))
        if right == 0:
            return None
        value, parts = left / right, (left, right)
    elif match.group("digits"):
        number = Fraction(match.group("digits").replace(",", ""))
        value = number / 100 if match.group("pct") else number
        parts = (number,)
    elif match.group("worded"):
        value = Fraction(worded_value(match.group("worded")))
        parts = (value,)
    else:
        value = Fraction(unicodedata.numeric(match.group("vulgar"))).limit_denominator(16)
        parts = (value,)
    if _unary_minus(text, start):
        start -= 1
        value = -value
    return NumberAtom(start, end, value, str(value), parts)


def scan_atoms(text: str, start: int = 0, end: int | None = None) -> Iterator[NumberAtom]:
    """All number atoms of ``text[start:end]``, left to right.

    A symbolic LaTeX fraction or root is looked into: the numbers inside it are yielded.
    """
    stop = len(text) if end is None else end
    for match in _ATOM.finditer(text, start, stop):
        if match.group("worded") and _is_idiomatic_one(text, match):
            continue
        atom = _atom(text, match)
        if atom is not None:
            yield atom
            continue
        inner = match.start("num") if match.group("frac") else match.start("sqrt")
        yield from scan_atoms(text, max(inner, match.start() + 1), match.end())


def grouped_regions(text: str) -> list[tuple[int, int]]:
    """The ``^{...}`` and ``_{...}`` groups of a text (exponents and subscripts), as offsets."""
    return [(m.start(), m.end()) for m in _GROUPED.finditer(text)]


def is_structural(text: str, atom: NumberAtom, groups: list[tuple[int, int]]) -> bool:
    """Whether an atom is an exponent, index, label, list marker, equation tag or ordinal.

    Args:
        text: the text the atom was found in.
        atom: the atom.
        groups: :func:`grouped_regions` of ``text``, computed once per text.
    """
    start, end = atom.start, atom.end
    before = text[max(0, start - 40) : start]
    stripped = before.rstrip(" \t{")
    if stripped.endswith(("^", "_", "**")) or stripped.endswith(("^-", "_-", "^{-", "**-")):
        return True
    if start > 0 and (text[start - 1].isalpha() or text[start - 1] == "_"):
        return True
    if any(group_start < start and end <= group_end for group_start, group_end in groups):
        return True
    if _STEP_LABEL.search(before) or before.endswith("\\tag{"):
        return True
    after = text[end : end + 3]
    if _ORDINAL_SUFFIX.match(after):
        return True
    line_start = _LIST_MARKER_PREFIX.search(before) is not None or start == 0
    if line_start and after[:1] in (".", ")") and (after[1:2] in (" ", "\t", "\n", "")):
        return True
    if before.endswith("(") and after.startswith(")"):
        rest = text[end + 1 : end + 80].split("\n", 1)[0].strip(" \t$")
        return rest == ""
    return False
