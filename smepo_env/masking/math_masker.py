"""The math masker: hide derived values and the final answer, keep what the question gives.

Rules:

1. **The final answer** is hidden as ``[ANSWER]``: every ``\\boxed{...}`` / ``\\fbox{...}`` body
   (whatever it holds: numbers, LaTeX, symbols, words), the ``<answer>`` body, and what follows
   "the answer is", "Final answer:", "Answer:" or GSM8K's ``####`` up to the end of the sentence.
   Every number atom (see :mod:`smepo_env.masking.numeric`) worth the same as a number in the
   final answer, or in a given gold answer, is hidden as ``[ANSWER]`` too (so is a percent whose
   number is the answer: ``50%`` for 50), wherever it is, even where the question states it: the
   answer must not be readable. This holds for numeric answers (numbers only: ``42``,
   ``(-1, 4)``); a symbolic final answer (``x^2+4x``, ``\\frac{3+\\sqrt{17}}{2}``,
   ``\\text{Tuesday}``) is hidden where the trace writes it literally, and its constants are not
   looked for elsewhere: the question's own ``(x + 2)^2 - 4`` stays readable, and no placeholder
   tells which constants the answer holds.
2. **Derived values** are hidden as ``[VALUE_k]``, one number per distinct value, so ``0.75``,
   ``3/4`` and ``\\frac{3}{4}`` all read ``[VALUE_1]``: intermediate results in digits, decimals,
   percents, fractions, LaTeX fractions and roots, and worded numbers (``forty-two``).
3. **Kept**: numbers the question states (by value, so ``twelve`` in the question keeps ``12``
   in the trace, ``three quarters`` keeps ``\\frac{3}{4}`` and ``hexagon`` keeps its 6 sides; a
   fraction or root built only from question numbers is kept too, since it is an operation the
   policy can read off the question, but not a root with a coefficient the question does not
   write: ``6\\sqrt{3}`` is a product),
   small structural constants (the 1 in ``1 - r`` or ``n + 1``, the 2 of "to 2 decimal places", a
   written value of pi), and structural numbers: exponents,
   subscripts and indices, step labels, list markers, equation tags and ordinals. Signs never
   swallow operators: ``2x+3y`` keeps its ``+``. Variable names are never numbers.
   **Formula constants** stay too: the constants of a formula the expert states over variables
   and then substitutes numbers into (the 4 of ``b^2 - 4ac = 9 - 4(1)(-2)``, the 180 of
   ``(n - 2) \\times 180 = 5 \\times 180``), in the formula and in the rest of its chain. Such a
   constant does not depend on the question's numbers, and the formula shows it anyway. A side of
   an equation is a stated formula when it holds a variable, each of its numbers is attached to a
   variable (a coefficient ``4ac``, ``2\\pi r``, ``180(n - 2)``, or an operand ``n - 2``,
   ``(n + 1)/2``), and the next side with a number that is not (the substitution) repeats the
   constant; an equation whose other side does not (``10x + 5y = 20``, ``= 6x - 1`` at the end of
   a chain) is no formula. A constant that the final answer also holds is never kept this way.
4. Tool outputs (``<output>`` bodies of a python tool) are hidden whole as ``[OUTPUT]``: they
   carry computed results. Code in ``<python>`` bodies is treated like the prose: its derived
   numbers are hidden.

Without a question every non-structural number counts as derived.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction

from smepo_env.masking.numeric import NumberAtom, grouped_regions, is_structural, scan_atoms
from smepo_env.masking.segments import split_segments
from smepo_env.masking.spans import SpanDraft

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ANSWER_PHRASE = re.compile(
    r"(?im)(?:\bfinal\s+answer\b(?:\*\*)?(?:\s+is)?[ \t]*[:=]?|\bthe\s+answer\s+is\b[ \t]*:?"
    r"|(?:^|(?<=>))[ \t]*(?:\*\*)?answer(?:\*\*)?[ \t]*[:=]|(?:^|(?<=>))[ \t]*####(?!#))"
    r"(?:\*\*)?[ \t]*(?P<body>[^\n<]*?)[ \t]*"
    r"(?:\.(?=\s|$|<)|(?=<)|$)"
)
_MAX_BOXED_CHARS = 4_000
_MAX_LITERAL_CHARS = 200
"""Longest symbolic answer searched for literally; a longer "answer" is a runaway box."""
_TEXT_COMMAND = re.compile(r"\\(?:text|mathrm|textbf|mbox)\s*\{([^{}]*)\}")


def boxed_bodies(trace: str) -> Iterator[tuple[int, int]]:
    """Bodies of ``\\boxed{...}`` with balanced braces (looked for within
    :data:`_MAX_BOXED_CHARS`); an unclosed one runs to the end of its line."""
    covered = 0
    for match in _BOXED.finditer(trace):
        if match.start() < covered:
            continue
        depth = 1
        index = match.end()
        limit = min(len(trace), index + _MAX_BOXED_CHARS)
        while index < limit and depth:
            if trace[index] == "{":
                depth += 1
            elif trace[index] == "}":
                depth -= 1
            index += 1
        if depth == 0:
            body = (match.end(), index - 1)
        else:
            line_end = trace.find("\n", match.end())
            body = (match.end(), len(trace) if line_end < 0 else line_end)
        covered = body[1]
        yield body


def _stripped(trace: str, start: int, end: int) -> tuple[int, int]:
    while start < end and trace[start].isspace():
        start += 1
    while end > start and trace[end - 1].isspace():
        end -= 1
    return start, end


def _literal_pattern(answer: str) -> re.Pattern[str] | None:
    """A whitespace-tolerant pattern for a symbolic answer, or ``None`` if it is too short or too
    long to search."""
    inner = _TEXT_COMMAND.fullmatch(answer.strip())
    core = (inner.group(1) if inner else answer).strip().strip("$").strip()
    characters = [ch for ch in core if not ch.isspace()]
    if not 2 <= len(characters) <= _MAX_LITERAL_CHARS:
        return None
    body = r"\s*".join(re.escape(ch) for ch in characters)
    head = r"(?<![^\W_])" if characters[0].isalnum() else ""
    tail = r"(?![^\W_])" if characters[-1].isalnum() else ""
    return re.compile(head + body + tail, re.IGNORECASE)


_WORDED_FRACTION = re.compile(
    r"(?i)\b(a|an|one|two|three|four|five|six|seven|eight|nine)[\s-]+"
    r"(half|halves|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)\b"
)
_DENOMINATORS = {"half": 2, "halve": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6}
_DENOMINATORS |= {"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_SMALL = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_SMALL |= {"eight": 8, "nine": 9}
_MULTIPLIERS = re.compile(r"(?i)\b(?:(twice|double)|(thrice|triple)|(half|halve))\b")


def _worded_fractions(text: str) -> set[Fraction]:
    """Values of worded fractions such as ``three quarters`` or ``a half`` (and their parts), and of
    multipliers (``twice`` is 2, ``half`` is 1/2)."""
    values: set[Fraction] = set()
    for match in _MULTIPLIERS.finditer(text):
        values.add(Fraction(2) if match.group(1) else Fraction(3) if match.group(2) else Fraction(1, 2))
    for match in _WORDED_FRACTION.finditer(text):
        numerator = _SMALL[match.group(1).lower()]
        word = match.group(2).lower().rstrip("s")
        denominator = _DENOMINATORS.get(word, _DENOMINATORS.get(word + "e", 0))
        if denominator:
            values.update({Fraction(numerator, denominator), Fraction(numerator), Fraction(denominator)})
    return values


_COUNT_WORDS = {
    "pair": 2, "pairs": 2, "couple": 2, "twice": 2, "dozen": 12, "dozens": 12, "score": 20,
    "triangle": 3, "triangular": 3, "quadrilateral": 4, "square": 4, "rectangle": 4, "pentagon": 5,
    "pentagonal": 5, "hexagon": 6, "hexagonal": 6, "heptagon": 7, "octagon": 8, "octagonal": 8,
    "nonagon": 9, "decagon": 10, "dodecagon": 12, "cube": 6, "week": 7, "weeks": 7,
}  # fmt: skip
"""Words that state a count (a hexagon has 6 sides, a dozen is 12, a week 7 days)."""
_COUNT_WORD = re.compile(r"(?i)\b(?:" + "|".join(_COUNT_WORDS) + r")\b")


def _question_values(question: str | None) -> set[Fraction]:
    values: set[Fraction] = set()
    if not question:
        return values
    values |= _worded_fractions(question)
    values |= {Fraction(_COUNT_WORDS[m.group().lower()]) for m in _COUNT_WORD.finditer(question)}
    for atom in scan_atoms(question):
        values.update(atom.components)
        if atom.value is not None:
            values.add(atom.value)
            values.add(abs(atom.value))
    return values


def _is_given(atom: NumberAtom, question_values: set[Fraction], question_keys: set[str]) -> bool:
    if atom.value is not None and (atom.value in question_values or abs(atom.value) in question_values):
        return True
    if atom.key in question_keys:
        return True
    if atom.value is None and len(atom.components) > 1:
        return False  # a coefficient times a root (6\sqrt{3}) is a product, unless the question writes it
    # A radical built from question numbers (\sqrt{3} when the question holds \sqrt{3}) is given, and
    # so is a fraction of question numbers and constants (45/3600 for 45 seconds, 6/1.732).
    irrational = atom.value is None and len(atom.components) >= 1
    return (len(atom.components) > 1 or irrational) and all(
        part in question_values or (len(atom.components) > 1 and _is_constant_value(part))
        for part in atom.components
    )


def _is_constant_value(value: Fraction) -> bool:
    """A written constant or a unit conversion factor (in a fraction with a question number)."""
    return value in _CONSTANT_VALUES or (value.denominator == 1 and int(value) in _CONVERSIONS)


def math_drafts(trace: str, question: str | None, answers: Sequence[str]) -> list[SpanDraft]:
    """Spans to hide in one math trace (rules in the module docstring).

    Args:
        trace: the trace.
        question: the problem statement, or ``None``.
        answers: gold answers and aliases (may be empty).

    Returns:
        The drafts, unresolved.
    """
    drafts: list[SpanDraft] = []
    final_texts = list(answers)
    for segment in split_segments(trace):
        if segment.tag == "answer" or segment.is_tool_output:
            start, end = _stripped(trace, segment.body_start, segment.body_end)
            drafts.append(SpanDraft(start, end, "ANSWER" if segment.tag == "answer" else "OUTPUT"))
            if segment.tag == "answer":
                final_texts.append(trace[start:end])
    for start, end in boxed_bodies(trace):
        drafts.append(SpanDraft(start, end, "ANSWER"))
        final_texts.append(trace[start:end])
    for match in _ANSWER_PHRASE.finditer(trace):
        body = match.group("body")
        if any(ch.isalnum() for ch in body) and not _BOXED.search(body):
            start, end = _answer_core(trace, match.start("body"), match.end("body"))
            drafts.append(SpanDraft(start, end, "ANSWER"))
            final_texts.append(trace[start:end])
    final_values: set[Fraction] = set()
    final_keys: set[str] = set()
    for text in final_texts:
        # A numeric answer (numbers only: 42, (-1, 4), 3/4) is hidden by value wherever it occurs; a
        # symbolic one (x^2 + 4x, (3 + \sqrt{17})/2) only where written literally, so that no
        # constant of the question's own expressions is hidden because the answer holds it too.
        if _is_numeric(text) or _is_single_atom(text):
            atoms = list(scan_atoms(text))
            final_values.update(a.value for a in atoms if a.value is not None)
            final_keys.update(a.key for a in atoms if a.value is None)
        pattern = _literal_pattern(text)
        if pattern is not None and not _is_single_atom(text):
            drafts.extend(SpanDraft(m.start(), m.end(), "ANSWER") for m in pattern.finditer(trace))
    question_values = _question_values(question)
    question_keys = {atom.key for atom in scan_atoms(question or "")}
    groups = grouped_regions(trace)
    atoms = [atom for atom in scan_atoms(trace) if not is_structural(trace, atom, groups)]
    answer_constants = {
        value for text in final_texts for atom in scan_atoms(text) for value in (atom.value, *atom.components)
    }
    formula_constants = _formula_constants(trace, atoms, answer_constants | final_values)
    for atom in atoms:
        if _is_small_constant(trace, atom) and atom.value not in final_values:
            continue
        if atom.start in formula_constants:
            continue
        # A percent shows its number: "50%" gives the answer 50 away although it is worth 1/2.
        shown = atom.components if len(atom.components) == 1 else ()
        if atom.key in final_keys or atom.value in final_values or any(c in final_values for c in shown):
            drafts.append(SpanDraft(atom.start, atom.end, "ANSWER"))
        elif not _is_given(atom, question_values, question_keys):
            drafts.append(SpanDraft(atom.start, atom.end, "VALUE", atom.key))
    return drafts + _derived_fractions(trace, drafts)


_OPERATION = re.compile(r"[-+*/×·−!]|\\(?:times|cdot|div|pm)\b")
_SYMBOLIC_FRACTION = re.compile(r"\\[dt]?frac\s*\{(?:[^{}]|\{[^{}]*\})*\}\s*\{(?:[^{}]|\{[^{}]*\})*\}")


def _derived_fractions(trace: str, drafts: list[SpanDraft]) -> list[SpanDraft]:
    """A LaTeX fraction of single terms with a hidden value inside (``\\frac{6\\sqrt{3}}{3}``) is a
    derived value as a whole: hidden whole, so that its other parts do not show how it was built.
    A fraction of operations (``\\frac{8 \\times 7}{2 \\times 1}``) shows the route and is left to
    its numbers."""
    hidden = sorted((d.start, d.end) for d in drafts if d.kind in ("VALUE", "ANSWER"))
    if not hidden:
        return []
    starts = [start for start, _ in hidden]
    found = []
    for match in _SYMBOLIC_FRACTION.finditer(trace):
        index = bisect.bisect_left(starts, match.start())
        if index < len(hidden) and hidden[index][1] <= match.end() and not _OPERATION.search(match.group()):
            key = "".join(match.group().split())
            found.append(SpanDraft(match.start(), match.end(), "VALUE", key))
    return found


_PROSE_WORD = re.compile(r"[A-Za-z]{2,}\.?")
_MATH_MARK = re.compile(r"[\d\\^=+*/()\[\]{}<>|√π$]")


def _answer_core(trace: str, start: int, end: int) -> tuple[int, int]:
    """The answer in a worded answer sentence: ``900`` of ``The train travels 900 metres``. Whole
    words before the first and after the last mathematical mark (digit, operator, LaTeX) are
    prose; an answer with no such mark (``Tuesday``) is kept whole."""
    body = trace[start:end]
    marks = [m.start() for m in _MATH_MARK.finditer(body)]
    if not marks:
        return start, end
    head, tail = marks[0], marks[-1] + 1
    while head > 0 and (body[head - 1].isalnum() or body[head - 1] in "-−."):
        head -= 1  # the word the first mark is part of: 2x, -3, x^2
    while tail < len(body) and (body[tail].isalnum() or body[tail] in "}%°"):
        tail += 1
    prose = body[:head]
    if not all(_PROSE_WORD.fullmatch(word) for word in prose.split()):
        return start, end
    core_end = tail
    trailing = body[tail:].split()
    if trailing and not all(_PROSE_WORD.fullmatch(word.rstrip(".,;:!")) for word in trailing):
        core_end = len(body.rstrip())
    return start + head, start + core_end


_SYMBOL = re.compile(
    r"(?<![a-zA-Z\\])[a-zA-Z](?![a-zA-Z])|\\(?:pi|infty|sqrt|sin|cos|tan|log|ln|theta|alpha)\b"
)
_UNIT_MARKS = re.compile(r"\^\s*\{?\\circ\}?|\\circ|°|\\?%|\\text\s*\{[^{}]*\}|\\[,!;]|\\\$|\$")
_CONSTANT_DIGITS = frozenset(
    {"3.14", "3.1416", "3.14159", "3.141592", "2.718", "2.71828", "1.414", "1.4142", "1.732", "1.7321"}
    | {"2.236", "2.2361"}
)
"""Written values of pi, e and the square roots of 2, 3 and 5: constants, not results."""
_CONSTANT_VALUES = frozenset(Fraction(text) for text in _CONSTANT_DIGITS)
_CONVERSIONS: dict[int, re.Pattern[str]] = {
    factor: re.compile(rf"\s*(?:{units})\b", re.IGNORECASE)
    for factor, units in (
        (10, r"mm|millimet(?:re|er)s?"),
        (12, r"in|inch(?:es)?|months?|eggs?"),
        (16, r"oz|ounces?"),
        (24, r"h|hrs?|hours?"),
        (60, r"s|secs?|seconds?|min|mins|minutes?"),
        (100, r"cm|centimet(?:re|er)s?|cents?|%|years?"),
        (365, r"days?"),
        (1000, r"m|g|ml|mm|kg|mg|l|met(?:re|er)s?|grams?|millilit(?:re|er)s?|lit(?:re|er)s?"),
        (3600, r"s|secs?|seconds?"),
        (7, r"days?"),
    )
}
"""Unit conversion factors and the units they convert into (``1000 m``, ``3600 s``): constants
of the world, not results, where the unit follows them."""
_OPERAND = re.compile(r"\s*[-+−*/·×]\s*(?:[a-zA-Z(\\]|\\[a-z]+)")
_OPERAND_BEFORE = re.compile(r"(?:[a-zA-Z)|]|\\[a-z]+)\s*(?:[-+−*/·×<>≤≥]|\\[lg]eq?)\s*$")
_GROUP_OPERATOR = re.compile(r"\s*[-+−]\s*\S")
"""After the 0 or 1 that opens a group: ``(1 - 0.25 + 0.08)``, the 1 of ``1 - r`` with r
substituted, ``|0 - 3|``."""
_ARGUMENT_BEFORE = re.compile(r"[a-zA-Z0-9)]\($")
"""Before a 0 or 1 that is a whole argument or substituted factor: ``f(1)``, ``4(1)(-2)``."""
_CHOSEN_BEFORE = re.compile(r"(?<![a-zA-Z\\])[a-zA-Z]\s*=\s*$")
_CHOSEN_AFTER = re.compile(r"\s*(?:[,:;]|$|\s+and\b)")
"""Around a 0 or 1 given to a variable in a list or as a test point: ``a = 1, b = -3``, ``x = 0:``."""
_ROUNDING = re.compile(r"\s*(?:decimal\s+places?|d\.p\.|significant\s+(?:figures?|digits?)|s\.f\.)", re.I)


def _is_numeric(text: str) -> bool:
    """Whether an answer is numbers only (no variable, radical or constant symbol)."""
    inner = _UNIT_MARKS.sub(" ", text)
    inner = re.sub(r"\\[dt]?frac|\\boxed|\\left|\\right", " ", inner)
    return not _SYMBOL.search(inner) and any(ch.isdigit() for ch in inner) and "\\" not in inner


def _is_small_constant(trace: str, atom: NumberAtom) -> bool:
    """Structure a reader needs and no answer gives away: a 0 or 1 in an expression with a symbol
    (the 1 in ``1 - r``, ``n + 1``, ``|r| < 1``) or opening a group (``(1 - 0.25)``), a 0 or 1
    that is a whole argument (``g(1)``, ``4(1)(-2)``) or is given to a variable in a list or as a
    test point (``a = 1, b = -3``, ``x = 0:``), the digit count of a rounding (``to 2 decimal
    places``), a written value of pi, e or a small square root (``3.14159``, ``1.732``), and a
    unit conversion factor followed by its unit (``1000 m``, ``3600 s``)."""
    text = trace[atom.start : atom.end]
    if text in _CONSTANT_DIGITS:
        return True
    if _ROUNDING.match(trace, atom.end):
        return True
    unit = _CONVERSIONS.get(int(atom.value)) if text.isdigit() and atom.value is not None else None
    if unit is not None and unit.match(trace, atom.end):
        return True
    if atom.value in (0, 1) and text in ("0", "1"):
        before = trace[max(0, atom.start - 12) : atom.start]
        return bool(
            _OPERAND.match(trace, atom.end)
            or _OPERAND_BEFORE.search(before)
            or (before.endswith(("(", "|")) and _GROUP_OPERATOR.match(trace, atom.end))
            or (_ARGUMENT_BEFORE.search(before) and trace.startswith(")", atom.end))
            or (_CHOSEN_BEFORE.search(before) and _CHOSEN_AFTER.match(trace, atom.end))
        )
    return False


_CLAUSE_BREAK = re.compile(r"\n|[.;!?](?=\s|$)|[,:]\s|(?<!\\)\$|\\[\[\]()]")
_RELATION = re.compile(r"=|\\approx|≈|\\equiv")
_VARIABLE = re.compile(r"(?<![a-zA-Z\\])[a-zA-Z](?![a-zA-Z])")
"""A variable: a letter standing alone (``\\pi`` is a constant, and ``4\\pi`` a number)."""
_PRODUCT = r"\s*(?:\\cdot|\\times|×|\*|·)\s*"
_COEFFICIENT_OF = re.compile(
    rf"(?:{_PRODUCT})?(?P<pi>\\pi\b)|(?:{_PRODUCT})?(?P<group>\()"
    rf"|{_PRODUCT}(?P<variable>[a-zA-Z])(?![a-zA-Z])|(?P<letters>[a-zA-Z]{{1,3}})(?![a-zA-Z])"
)
_OPERAND_OF = re.compile(r"(?:(?<![a-zA-Z\\])[a-zA-Z]|\\pi|\))\s*(?:[-+−*/·×]|\\cdot|\\times)\s*$")
_UNIT_SUFFIXES = frozenset(
    ("m", "cm", "mm", "km", "g", "kg", "mg", "l", "ml", "s", "h", "hr", "min", "ft", "in", "mi", "lb", "oz")
)
"""Letters right after a number that are a unit or an ordinal suffix, not variables (``2cm``)."""


def _attached(trace: str, atom: NumberAtom) -> bool:
    """Whether a number is attached to a variable: a coefficient (``4ac``, ``2\\pi r``, ``180(n - 2)``,
    ``\\frac{4}{3}\\pi``) or an operand next to one (``n - 2``, ``(n - 2) \\times 180``, ``(n+1)/2``)."""
    after = _COEFFICIENT_OF.match(trace, atom.end, min(len(trace), atom.end + 12))
    if after is not None:
        if after.group("pi") or after.group("variable"):
            return True
        if after.group("letters"):
            return after.group("letters").lower() not in _UNIT_SUFFIXES
        closing = trace.find(")", after.end(), after.end() + 40)
        if closing > 0 and _VARIABLE.search(trace, after.end(), closing):
            return True
    return _OPERAND_OF.search(trace[max(0, atom.start - 16) : atom.start]) is not None


def _formula_constants(trace: str, atoms: list[NumberAtom], excluded: set[Fraction]) -> set[int]:
    """Where the constants of stated formulas are (rule 3), as atom starts.

    In each chain of equated sides, a side that holds a variable and only attached numbers is a
    formula when the next side that holds an unattached number (the substitution) repeats some
    of its constants: ``b^2 - 4ac = 9 - 4(1)(-2)``, ``(n - 2) \\times 180 = 5 \\times 180``. The
    formula's constants are kept in it and in the rest of its chain. An equation whose other side
    does not repeat its numbers (``10x + 5y = 20``, ``x - 4 = 1``) states no formula. A formula
    stated in a clause of its own (``the angles sum to (n - 2) \\times 180^\\circ.``) is one when
    a later side writes it with numbers for its variables (``(6 - 2) \\times 180``): its constants
    are kept there, in the rest of that chain and in the formula.
    """
    kept: set[int] = set()
    templates: list[tuple[re.Pattern[str], set[Fraction], list[NumberAtom]]] = []
    breaks = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(trace)), len(trace)]
    starts = [atom.start for atom in atoms]
    for clause_start, clause_end in itertools.pairwise(breaks):
        cuts = [clause_start, *(m.start() for m in _RELATION.finditer(trace, clause_start, clause_end))]
        pending: list[NumberAtom] = []
        substituted: list[NumberAtom] = []
        repeated: set[Fraction] = set()
        carried: set[Fraction] = set()
        for side_start, side_end in zip(cuts, [*cuts[1:], clause_end], strict=True):
            inside = atoms[bisect.bisect_left(starts, side_start) : bisect.bisect_left(starts, side_end)]
            for pattern, constants, formula in templates:
                if any(a.value in constants for a in inside) and pattern.search(trace, side_start, side_end):
                    carried |= constants
                    kept.update(a.start for a in formula)
            if carried:
                kept.update(a.start for a in inside if a.value in carried)
            if substituted:
                substituted.extend(inside)
            elif any(not _attached(trace, a) for a in inside):
                substituted = inside
                repeated = {a.value for a in pending} & {a.value for a in inside}
            elif _VARIABLE.search(trace, side_start, side_end):
                pending.extend(a for a in inside if a.value is not None and a.value not in excluded)
        if repeated:
            constants = {a.value for a in pending}
            kept.update(a.start for a in [*pending, *substituted] if a.value in constants)
        elif pending and not substituted:
            template = _template(trace, pending)
            if template is not None:
                templates.append((template, {a.value for a in pending}, pending))
    return kept


_MATH_RUN = re.compile(r"(?:[()\[\]{}+\-−*/^·×.\d \t]|\\[a-zA-Z]+|(?<![a-zA-Z\\])[a-zA-Z](?![a-zA-Z]))+")
_TEMPLATE_PART = re.compile(r"\\[a-zA-Z]+|(?<![a-zA-Z\\])[a-zA-Z](?![a-zA-Z])|\s+|.")
_SUBSTITUTE = r"(?:-?\d+(?:\.\d+)?)"


def _template(trace: str, formula: list[NumberAtom]) -> re.Pattern[str] | None:
    """A pattern that finds ``formula`` written with numbers for its variables: ``(n - 2) \\times
    180`` finds ``(6 - 2) \\times 180``. ``None`` when the formula's numbers are not in one
    expression with a variable."""
    first, last = formula[0], formula[-1]
    run = next(
        (m for m in _MATH_RUN.finditer(trace, max(0, first.start - 80), last.end) if m.end() > first.start),
        None,
    )
    if run is None or run.start() > first.start:
        return None
    text = trace[run.start() : last.end].strip()
    parts = []
    variables = 0
    for part in _TEMPLATE_PART.findall(text):
        if len(part) == 1 and part.isalpha():
            parts.append(_SUBSTITUTE)
            variables += 1
        elif part.isspace():
            parts.append(r"\s*")
        else:
            parts.append(re.escape(part))
    return re.compile("".join(parts)) if variables else None


def _is_single_atom(text: str) -> bool:
    """Whether ``text`` is one number and nothing else (then its value already finds it)."""
    core = text.strip().strip("$").strip()
    atoms = list(scan_atoms(core))
    return len(atoms) == 1 and atoms[0].start == 0 and atoms[0].end == len(core)
