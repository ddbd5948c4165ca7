"""The record a code template produces, the random inputs templates share, and the task text.

A template takes a ``random.Random`` and returns a :class:`FunctionSpec`: the function's name,
parameters, what it must do, the reference body, how to draw random arguments, edge-case
arguments, and the expert's plan. :func:`render_problem` turns a spec into the question, the
reference solution and the visible and hidden test cases (the expected values come from running
the reference solution, which is this package's own code, at build time).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WORDS = (
    "apple",
    "river",
    "stone",
    "cloud",
    "tiger",
    "maple",
    "orbit",
    "lemon",
    "piano",
    "delta",
    "ember",
    "frost",
    "grape",
    "haven",
    "ivory",
    "jelly",
    "koala",
    "lunar",
    "mango",
    "noble",
    "ocean",
    "pearl",
    "quilt",
    "raven",
    "solar",
    "tulip",
    "umbra",
    "vivid",
    "wheat",
    "yacht",
    "zebra",
    "at",
    "in",
    "go",
    "sky",
    "sea",
    "banana",
    "cherry",
    "harbor",
    "lantern",
    "meadow",
    "quiet",
    "signal",
    "window",
)
VISIBLE_EXAMPLES = 2
"""Test cases shown in the question as examples (the expert runs them before submitting)."""
HIDDEN_TESTS = 6
"""Test cases that decide the reward, edge cases included."""
ARGUMENT_DRAWS_PER_CASE = 4
"""Random argument draws allowed per test case: draws that repeat a call are discarded."""
MIN_HIDDEN_TESTS = 3
"""Fewer distinct hidden tests than this and the task is dropped: too easy to pass by accident."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function-writing task before rendering.

    Attributes:
        name: the function's name.
        params: the parameter list with annotations (``"s: str, k: int"``).
        returns: the return annotation (``"int"``).
        description: what it returns, completing "Write a function ``name(...)`` that ...".
        body: the reference body, indented four spaces.
        make_args: draws one random argument tuple.
        category: the question type (``"string"``, ``"list"``, ``"arithmetic"``, ``"algorithm"``).
        plan: the expert's plan, one or two sentences.
        edge_args: argument tuples always among the hidden tests (empty input, ties, ...).
        imports: import lines the solution needs.
    """

    name: str
    params: str
    returns: str
    description: str
    body: str
    make_args: Callable[[random.Random], tuple[Any, ...]]
    category: str
    plan: str
    edge_args: tuple[tuple[Any, ...], ...] = ()
    imports: str = ""

    @property
    def signature(self) -> str:
        """``name(params) -> returns``."""
        return f"{self.name}({self.params}) -> {self.returns}"

    @property
    def solution(self) -> str:
        """The reference solution's source."""
        head = f"{self.imports}\n\n\n" if self.imports else ""
        return f"{head}def {self.signature}:\n{self.body.rstrip()}\n"


@dataclass(frozen=True)
class CodeProblem:
    """A rendered task: the question, the reference solution and the test cases."""

    question: str
    entry_point: str
    solution: str
    examples: tuple[tuple[str, Any], ...]
    hidden: tuple[tuple[str, Any], ...]
    category: str
    plan: str

    @property
    def tests(self) -> list[str]:
        """The hidden tests as assert statements."""
        return [f"assert {call} == {expected!r}" for call, expected in self.hidden]


def call_text(name: str, args: tuple[Any, ...]) -> str:
    """``name(arg1, arg2)`` with the arguments as Python literals."""
    return f"{name}({', '.join(repr(arg) for arg in args)})"


def render_problem(spec: FunctionSpec, rng: random.Random) -> CodeProblem | None:
    """Draw the test cases of ``spec`` and write its question; ``None`` if too few or all alike."""
    namespace: dict[str, Any] = {}
    exec(compile(spec.solution, f"<reference {spec.name}>", "exec"), namespace)  # our own reference code
    function = namespace[spec.name]
    cases: dict[str, Any] = {}
    draws = ARGUMENT_DRAWS_PER_CASE * (VISIBLE_EXAMPLES + HIDDEN_TESTS)
    for args in [spec.make_args(rng) for _ in range(draws)]:
        if len(cases) == VISIBLE_EXAMPLES + HIDDEN_TESTS - len(spec.edge_args):
            break
        cases.setdefault(call_text(spec.name, args), function(*args))
    for args in spec.edge_args:
        cases.setdefault(call_text(spec.name, args), function(*args))
    calls = list(cases.items())
    examples, hidden = tuple(calls[:VISIBLE_EXAMPLES]), tuple(calls[VISIBLE_EXAMPLES:])
    # too few hidden tests, or all expecting one value (a constant would pass them)
    if len(hidden) < MIN_HIDDEN_TESTS or len({repr(v) for _, v in hidden}) < 2:
        return None
    example_lines = "\n".join(f"    {call} == {expected!r}" for call, expected in examples)
    question = (
        f"Write a Python function `{spec.signature}` that {spec.description}.\n\nExamples:\n{example_lines}"
    )
    return CodeProblem(question, spec.name, spec.solution, examples, hidden, spec.category, spec.plan)


def random_word(rng: random.Random) -> str:
    """A word from a small vocabulary."""
    return rng.choice(WORDS)


def random_sentence(rng: random.Random, low: int = 2, high: int = 7) -> str:
    """Words joined by single spaces, sometimes capitalised."""
    words = [random_word(rng) for _ in range(rng.randint(low, high))]
    return " ".join(w.capitalize() if rng.random() < 0.2 else w for w in words)


def random_text(
    rng: random.Random, low: int = 0, high: int = 14, alphabet: str = string.ascii_lowercase
) -> str:
    """Random characters from ``alphabet`` (with some upper case and spaces mixed in)."""
    characters = []
    for _ in range(rng.randint(low, high)):
        character = rng.choice(alphabet)
        characters.append(character.upper() if rng.random() < 0.2 else character)
        if rng.random() < 0.1:
            characters.append(" ")
    return "".join(characters)


def random_ints(
    rng: random.Random, low: int = -10, high: int = 20, min_len: int = 0, max_len: int = 9
) -> list[int]:
    """A list of random integers."""
    return [rng.randint(low, high) for _ in range(rng.randint(min_len, max_len))]


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ..., ``11th``, ``12th``, ``13th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
