"""The math masker: hide derived values and the final answer, keep what the question gives.

Rules:

1. **The final answer** is hidden as ``[ANSWER]``: every ``\\boxed{...}`` / ``\\fbox{...}`` body
   (whatever it holds: numbers, LaTeX, symbols, words), the ``<answer>`` body, and what follows
   "the answer is", "Final answer:", "Answer:" or GSM8K's ``####`` up to the end of the sentence.
   Every number atom (see :mod:`smepo_env.masking.numeric`) worth the same as a number in the
   final answer, or in a given gold answer, is hidden as ``[ANSWER]`` too (so is a percent whose
   number is the answer: ``50%`` for 50), wherever it is, even where the question states it: the
   answer must not be readable. A symbolic final answer
   (``x^2+1``, ``\\text{Tuesday}``) is also hidden where the trace writes it literally.
2. **Derived values** are hidden as ``[VALUE_k]``, one number per distinct value, so ``0.75``,
   ``3/4`` and ``\\frac{3}{4}`` all read ``[VALUE_1]``: intermediate results in digits, decimals,
   percents, fractions, LaTeX fractions and roots, and worded numbers (``forty-two``).
3. **Kept**: numbers the question states (by value, so ``twelve`` in the question keeps ``12``
   in the trace; a fraction or root built only from question numbers is kept too, since it is an
   operation the policy can read off the question), and structural numbers: exponents,
   subscripts and indices, step labels, list markers, equation tags and ordinals. Signs never
   swallow operators: ``2x+3y`` keeps its ``+``. Variable names are never numbers.
4. Tool outputs (``<output>`` bodies of a python tool) are hidden whole as ``[OUTPUT]``: they
   carry computed results. Code in ``<python>`` bodies is treated like the prose: its derived
   numbers are hidden.

Without a question every non-structural number counts as derived.
"""

from __future__ import annotations

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


def _boxed_bodies(trace: str) -> Iterator[tuple[int, int]]:
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


def _question_values(question: str | None) -> set[Fraction]:
    values: set[Fraction] = set()
    if not question:
        return values
    for atom in scan_atoms(question):
        values.update(atom.components)
        if atom.value is not None:
            values.add(atom.value)
            values.add(abs(atom.value))
    return values


def _is_given(atom: NumberAtom, question_values: set[Fraction]) -> bool:
    if atom.value is not None and (atom.value in question_values or abs(atom.value) in question_values):
        return True
    return len(atom.components) > 1 and all(part in question_values for part in atom.components)


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
    for start, end in _boxed_bodies(trace):
        drafts.append(SpanDraft(start, end, "ANSWER"))
        final_texts.append(trace[start:end])
    for match in _ANSWER_PHRASE.finditer(trace):
        body = match.group("body")
        if any(ch.isalnum() for ch in body) and not _BOXED.search(body):
            drafts.append(SpanDraft(match.start("body"), match.end("body"), "ANSWER"))
            final_texts.append(body)
    final_values: set[Fraction] = set()
    final_keys: set[str] = set()
    for text in final_texts:
        atoms = list(scan_atoms(text))
        final_values.update(a.value for a in atoms if a.value is not None)
        final_keys.update(a.key for a in atoms if a.value is None)
        pattern = _literal_pattern(text)
        if pattern is not None and not _is_single_atom(text):
            drafts.extend(SpanDraft(m.start(), m.end(), "ANSWER") for m in pattern.finditer(trace))
    question_values = _question_values(question)
    groups = grouped_regions(trace)
    for atom in scan_atoms(trace):
        structural = is_structural(trace, atom, groups)
        if structural:
            continue
        # A percent shows its number: "50%" gives the answer 50 away although it is worth 1/2.
        shown = atom.components if len(atom.components) == 1 else ()
        if atom.key in final_keys or atom.value in final_values or any(c in final_values for c in shown):
            drafts.append(SpanDraft(atom.start, atom.end, "ANSWER"))
        elif not _is_given(atom, question_values):
            drafts.append(SpanDraft(atom.start, atom.end, "VALUE", atom.key))
    return drafts


def _is_single_atom(text: str) -> bool:
    """Whether ``text`` is one number and nothing else (then its value already finds it)."""
    core = text.strip().strip("$").strip()
    atoms = list(scan_atoms(core))
    return len(atoms) == 1 and atoms[0].start == 0 and atoms[0].end == len(core)
