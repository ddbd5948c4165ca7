"""Math templates: linear equations, from one-step solving to word problems with two unknowns.

Same contract as :mod:`smepo_env.benchmarks.math.arithmetic_templates`: a template takes a
``random.Random`` and returns a :class:`MathProblem` or ``None`` (draw again).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction

from smepo_env.benchmarks.math.worked_problem import MathProblem, Step, number, pick_name

Template = Callable[[random.Random], MathProblem | None]
CATEGORY = "linear-equations"


def _linear(coefficient: int, constant: int | Fraction = 0, variable: str = "x") -> str:
    """``3x + 5``, ``-x - 2``, ``4x``: a linear expression as the expert writes it."""
    head = {1: variable, -1: f"-{variable}"}.get(coefficient, f"{coefficient}{variable}")
    if constant == 0:
        return head
    return f"{head} {'+' if constant > 0 else '-'} {number(abs(constant))}"


def _nonzero(rng: random.Random, low: int, high: int) -> int:
    return rng.choice([v for v in range(low, high + 1) if v != 0])


def _one_side(rng: random.Random) -> MathProblem:
    a, x, b = rng.randint(2, 12), _nonzero(rng, -15, 25), _nonzero(rng, -40, 40)
    c = a * x + b
    move = f"Subtract {b} from" if b > 0 else f"Add {-b} to"
    return MathProblem(
        f"Solve for x: {_linear(a, b)} = {c}.",
        str(x),
        (
            Step(f"{move} both sides: {a}x = {c - b}.", str(c - b)),
            Step(f"Divide both sides by {a}: x = {c - b} / {a} = {x}.", str(x)),
        ),
        CATEGORY,
        1,
    )


def _think_of_number(rng: random.Random) -> MathProblem:
    name, pronoun = pick_name(rng)
    a, x, b = rng.randint(2, 9), rng.randint(2, 40), rng.randint(1, 50)
    c = a * x + b
    return MathProblem(
        f"{name} thinks of a number. If {pronoun} multiplies it by {a} and then adds {b}, {pronoun} gets "
        f"{c}. "
        "What is the number?",
        str(x),
        (
            Step(f"Call the number n, so {a}n + {b} = {c}. Subtracting {b}: {a}n = {c - b}.", str(c - b)),
            Step(f"Dividing by {a}: n = {c - b} / {a} = {x}.", str(x)),
        ),
        CATEGORY,
        1,
    )


def _both_sides(rng: random.Random) -> MathProblem | None:
    a, c = rng.sample(range(-9, 13), 2)
    if 0 in (a, c):
        return None
    b, d = _nonzero(rng, -30, 30), _nonzero(rng, -30, 30)
    x = Fraction(d - b, a - c)
    if x.denominator > 6 or x == 0:
        return None
    coefficient = _linear(a - c)
    return MathProblem(
        f"Solve for x: {_linear(a, b)} = {_linear(c, d)}.",
        _fraction_text(x),
        (
            Step(
                f"Move the x terms to the left: {a} - {_signed(c)} = {a - c}, so {_linear(a - c, b)} = {d}.",
                str(a - c),
            ),
            Step(
                f"Move the constant to the right: {coefficient} = {d} - {_signed(b)} = {d - b}.", str(d - b)
            ),
            Step(
                f"Divide by {a - c}: x = {d - b} / {_signed(a - c)} = {_fraction_text(x)}.", _fraction_text(x)
            ),
        ),
        CATEGORY,
        2,
    )


def _signed(value: int) -> str:
    """A number to write after an operator: ``-3`` becomes ``(-3)``."""
    return f"({value})" if value < 0 else str(value)


def _fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _bracket(rng: random.Random) -> MathProblem:
    a, x, b = rng.randint(2, 9), _nonzero(rng, -12, 20), _nonzero(rng, -15, 15)
    c = a * (x + b)
    return MathProblem(
        f"Solve for x: {a}({_linear(1, b)}) = {c}.",
        str(x),
        (
            Step(f"Divide both sides by {a}: {_linear(1, b)} = {c // a}.", str(c // a)),
            Step(f"{'Subtract' if b > 0 else 'Add'} {abs(b)}: x = {x}.", str(x)),
        ),
        CATEGORY,
        2,
    )


def _consecutive(rng: random.Random) -> MathProblem:
    count, first = rng.randint(3, 6), rng.randint(1, 80)
    total = sum(range(first, first + count))
    offset = count * (count - 1) // 2
    return MathProblem(
        f"The sum of {count} consecutive integers is {total}. What is the largest of them?",
        str(first + count - 1),
        (
            Step(f"Call the smallest n; the sum is {count}n + {offset} = {total}.", str(offset)),
            Step(f"So {count}n = {total - offset} and n = {first}.", str(first)),
            Step(f"The largest is n + {count - 1} = {first + count - 1}.", str(first + count - 1)),
        ),
        CATEGORY,
        2,
    )


def _tickets(rng: random.Random) -> MathProblem:
    child = rng.randint(3, 9)
    adult = child + rng.randint(2, 9)
    tickets = rng.randint(20, 200)
    adults = rng.randint(1, tickets - 1)
    revenue = adults * adult + (tickets - adults) * child
    base = tickets * child
    return MathProblem(
        f"A museum sells adult tickets for ${adult} and child tickets for ${child}. One day it sold "
        f"{tickets} tickets "
        f"for ${revenue} in total. How many adult tickets did it sell?",
        str(adults),
        (
            Step(
                f"If all {tickets} tickets were child tickets they would bring {tickets} * {child} = "
                f"{base} dollars.",
                str(base),
            ),
            Step(
                f"The extra {revenue} - {base} = {revenue - base} dollars comes from adult tickets.",
                str(revenue - base),
            ),
            Step(f"Each adult ticket adds {adult} - {child} = {adult - child} dollars.", str(adult - child)),
            Step(f"So {revenue - base} / {adult - child} = {adults} adult tickets were sold.", str(adults)),
        ),
        CATEGORY,
        3,
    )


def _coins(rng: random.Random) -> MathProblem:
    name, pronoun = pick_name(rng)
    coins = rng.randint(10, 60)
    dimes = rng.randint(1, coins - 1)
    cents = 10 * dimes + 5 * (coins - dimes)
    return MathProblem(
        f"{name} has {coins} coins, all nickels (5 cents) and dimes (10 cents), worth {cents} cents in "
        "total. "
        f"How many dimes does {pronoun} have?",
        str(dimes),
        (
            Step(f"Let d be the number of dimes; then there are {coins} - d nickels.", ""),
            Step(f"10d + 5({coins} - d) = {cents}, so 5d + {5 * coins} = {cents}.", str(5 * coins)),
            Step(f"5d = {cents - 5 * coins}, so d = {dimes}.", str(dimes)),
        ),
        CATEGORY,
        3,
    )


def _ages(rng: random.Random) -> MathProblem | None:
    older, younger = pick_name(rng)[0], pick_name(rng)[0]
    if older == younger:
        return None
    k, years = rng.randint(3, 6), rng.randint(2, 12)
    m = rng.randint(2, k - 1)
    age = Fraction((m - 1) * years, k - m)
    if age.denominator != 1 or not 1 <= age <= 40:
        return None
    age_int = age.numerator
    return MathProblem(
        f"{older} is {k} times as old as {younger}. In {years} years, {older} will be {m} times as old as "
        f"{younger}. "
        f"How old is {younger} now?",
        str(age_int),
        (
            Step(f"Let {younger}'s age be y; then {k}y + {years} = {m}(y + {years}).", ""),
            Step(
                f"Expanding: {k}y + {years} = {m}y + {m * years}, so {_linear(k - m, 0, 'y')} = "
                f"{(m - 1) * years}.",
                str((m - 1) * years),
            ),
            Step(
                f"y = {(m - 1) * years} / {k - m} = {age_int}." if k - m > 1 else f"So y = {age_int}.",
                str(age_int),
            ),
        ),
        CATEGORY,
        3,
    )


GENERATORS: dict[str, dict[int, tuple[Template, ...]]] = {
    CATEGORY: {
        1: (_one_side, _think_of_number),
        2: (_both_sides, _bracket, _consecutive),
        3: (_tickets, _coins, _ages),
    },
}
