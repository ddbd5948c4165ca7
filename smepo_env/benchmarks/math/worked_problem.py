"""The record a math template produces, and the number formatting and names all templates share.

A template draws its numbers from a ``random.Random`` and returns a :class:`MathProblem`: the
question, the canonical answer, and the expert's worked solution as :class:`Step` lines, each
naming the intermediate value it computes. The values become the ground-truth critical spans
of the expert trace (kind ``"value"``; the final answer is kind ``"answer"``); numbers the
question itself states are not critical and are not listed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

NAMES = (
    "Ava",
    "Ben",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Imani",
    "Jonas",
    "Keiko",
    "Liam",
)
NAMES += (
    "Maya",
    "Nikhil",
    "Olivia",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
)
PRONOUN = {
    name: "she"
    if name
    in {"Ava", "Chloe", "Elena", "Grace", "Imani", "Keiko", "Maya", "Olivia", "Rosa", "Uma", "Wen", "Yara"}
    else "he"
    for name in NAMES
}


@dataclass(frozen=True)
class Step:
    """One line of the expert's solution and the value it establishes (``""`` for none)."""

    text: str
    value: str = ""


@dataclass(frozen=True)
class MathProblem:
    """A generated problem with its worked solution.

    Attributes:
        question: the problem text.
        answer: the canonical final answer (``"27"``, ``"3/4"``, ``"-2"``, ``"176.4"``).
        steps: the expert's solution, in order; the last step states the answer.
        category: the question type (``"arithmetic"``, ``"fractions-percentages"``, ...).
        level: difficulty, 1 (two short steps) to 3 (four or more steps).
    """

    question: str
    answer: str
    steps: tuple[Step, ...]
    category: str
    level: int

    @property
    def answer_latex(self) -> str:
        """The answer as LaTeX for ``\\boxed{}`` (fractions as ``\\frac``)."""
        return latex_number(self.answer)


def number(value: Fraction | int) -> str:
    """Exact text of a rational: an integer, a terminating decimal, or ``p/q`` in lowest terms."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        text = f"{float(value):.10f}".rstrip("0").rstrip(".")
        if Fraction(text) == value:
            return text
    return f"{value.numerator}/{value.denominator}"


def fraction(value: Fraction | int) -> str:
    """A rational as ``p/q`` in lowest terms (or an integer)."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def latex_number(text: str) -> str:
    """``"3/4"`` -> ``"\\frac{3}{4}"``, ``"-3/4"`` -> ``"-\\frac{3}{4}"``; anything else unchanged."""
    if "/" not in text:
        return text
    sign = "-" if text.startswith("-") else ""
    numerator, denominator = text.lstrip("-").split("/")
    return f"{sign}\\frac{{{numerator}}}{{{denominator}}}"


def money(value: Fraction | int) -> str:
    """Dollars as the expert writes them: ``12`` or ``12.5`` (no trailing zeros)."""
    return number(value)


def pick_name(rng: random.Random) -> tuple[str, str]:
    """A random first name and its pronoun."""
    name = rng.choice(NAMES)
    return name, PRONOUN[name]


def possessive(pronoun: str) -> str:
    """``"she"`` -> ``"her"``, ``"he"`` -> ``"his"``."""
    return "her" if pronoun == "she" else "his"
