"""Math templates: simple combinatorics (product rule, permutations, combinations, multisets).

Same contract as :mod:`smepo_env.benchmarks.math.arithmetic_templates`.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

from smepo_env.benchmarks.math.worked_problem import MathProblem, Step

Template = Callable[[random.Random], MathProblem | None]
CATEGORY = "combinatorics"

_MENUS = (
    ("drinks", "sandwiches", "desserts"),
    ("shirts", "pairs of trousers", "hats"),
    ("starters", "main courses", "desserts"),
    ("frames", "lens colours", "cases"),
)
_LINES = (
    ("books", "be arranged on a shelf"),
    ("people", "stand in a line"),
    ("cars", "park in a row of spots"),
    ("paintings", "be hung in a row on a wall"),
    ("runners", "finish a race, with no ties"),
)
_GROUPS = ("club", "class", "team", "choir", "group")
_ROLES = ("a president, a vice-president and a secretary", "a captain, a coach's assistant and a treasurer")


def _product(values: list[int]) -> str:
    return " * ".join(str(v) for v in values)


def _menu(rng: random.Random) -> MathProblem:
    first, second, third = rng.choice(_MENUS)
    a, b, c = rng.randint(2, 9), rng.randint(2, 9), rng.randint(2, 7)
    return MathProblem(
        f"A shop offers {a} {first}, {b} {second} and {c} {third}. How many different sets of one "
        f"{first.rstrip('s')}, "
        f"one of the {second} and one of the {third} can be chosen?",
        str(a * b * c),
        (
            Step(f"Choosing the first two items gives {a} * {b} = {a * b} ways.", str(a * b)),
            Step(f"With the third item: {a * b} * {c} = {a * b * c}.", str(a * b * c)),
        ),
        CATEGORY,
        1,
    )


def _line(rng: random.Random) -> MathProblem:
    things, verb = rng.choice(_LINES)
    n = rng.randint(3, 8)
    return MathProblem(
        f"In how many different orders can {n} {things} {verb}?",
        str(math.factorial(n)),
        (
            Step(f"There are {n} choices for the first place, {n - 1} for the second, and so on.", ""),
            Step(f"{n}! = {_product(list(range(n, 0, -1)))} = {math.factorial(n)}.", str(math.factorial(n))),
        ),
        CATEGORY,
        1,
    )


def _codes(rng: random.Random) -> MathProblem:
    name, n = rng.choice(
        (("digits", 10), ("letters of the alphabet", 26), ("vowels", 5), ("colours", rng.randint(3, 8)))
    )
    length = rng.randint(2, 4)
    products = "; ".join(f"{n ** (i - 1)} * {n} = {n**i}" for i in range(2, length + 1))
    return MathProblem(
        f"A code is made of {length} symbols, each one of {n} {name}, and symbols may repeat. "
        "How many different codes are there?",
        str(n**length),
        (
            Step(f"Each of the {length} positions has {n} choices, so there are {n}^{length} codes.", ""),
            Step(f"{products}.", str(n**length)),
        ),
        CATEGORY,
        1,
    )


def _podium(rng: random.Random) -> MathProblem:
    group = rng.choice(_GROUPS)
    n = rng.randint(5, 20)
    roles = rng.choice(_ROLES)
    first_two = n * (n - 1)
    return MathProblem(
        f"A {group} of {n} members must choose {roles}, three different people. In how many ways can this "
        "be done?",
        str(first_two * (n - 2)),
        (
            Step(
                f"The first role has {n} choices and the second {n - 1}: {n} * {n - 1} = {first_two}.",
                str(first_two),
            ),
            Step(
                f"The third role has {n - 2} choices: {first_two} * {n - 2} = {first_two * (n - 2)}.",
                str(first_two * (n - 2)),
            ),
        ),
        CATEGORY,
        2,
    )


def _committee(rng: random.Random) -> MathProblem:
    group = rng.choice(_GROUPS)
    n, k = rng.randint(5, 14), rng.randint(2, 4)
    ordered = math.perm(n, k)
    return MathProblem(
        f"In how many ways can a committee of {k} people be chosen from a {group} of {n}?",
        str(math.comb(n, k)),
        (
            Step(f"Ordered choices: {_product(list(range(n, n - k, -1)))} = {ordered}.", str(ordered)),
            Step(f"Each committee is counted {k}! = {math.factorial(k)} times.", str(math.factorial(k))),
            Step(
                f"So there are {ordered} / {math.factorial(k)} = {math.comb(n, k)} committees.",
                str(math.comb(n, k)),
            ),
        ),
        CATEGORY,
        2,
    )


def _handshakes(rng: random.Random) -> MathProblem:
    n = rng.randint(4, 40)
    product = n * (n - 1)
    return MathProblem(
        f"At a meeting, each of the {n} guests shakes hands once with every other guest. How many "
        "handshakes are there?",
        str(product // 2),
        (
            Step(
                f"Each guest shakes {n - 1} hands, giving {n} * {n - 1} = {product} handshake ends.",
                str(product),
            ),
            Step(
                f"Each handshake has two ends, so there are {product} / 2 = {product // 2} handshakes.",
                str(product // 2),
            ),
        ),
        CATEGORY,
        2,
    )


def _exactly_women(rng: random.Random) -> MathProblem | None:
    women, men, size = rng.randint(3, 9), rng.randint(3, 9), rng.randint(3, 5)
    chosen = rng.randint(1, size - 1)
    if chosen > women or size - chosen > men:
        return None
    ways_w, ways_m = math.comb(women, chosen), math.comb(men, size - chosen)
    return MathProblem(
        f"A committee of {size} is chosen from {women} women and {men} men. In how many ways can it be "
        "chosen if it "
        f"must contain exactly {chosen} {'woman' if chosen == 1 else 'women'}?",
        str(ways_w * ways_m),
        (
            Step(f"Choose the women: C({women}, {chosen}) = {ways_w}.", str(ways_w)),
            Step(f"Choose the men: C({men}, {size - chosen}) = {ways_m}.", str(ways_m)),
            Step(f"Together: {ways_w} * {ways_m} = {ways_w * ways_m}.", str(ways_w * ways_m)),
        ),
        CATEGORY,
        3,
    )


def _at_least_one(rng: random.Random) -> MathProblem | None:
    women, men, size = rng.randint(2, 8), rng.randint(3, 9), rng.randint(2, 4)
    if size > men:
        return None
    total, none = math.comb(women + men, size), math.comb(men, size)
    return MathProblem(
        f"A team of {size} is chosen from {women} women and {men} men. How many teams contain at least one "
        "woman?",
        str(total - none),
        (
            Step(f"All teams: C({women + men}, {size}) = {total}.", str(total)),
            Step(f"Teams with no woman: C({men}, {size}) = {none}.", str(none)),
            Step(f"Teams with at least one woman: {total} - {none} = {total - none}.", str(total - none)),
        ),
        CATEGORY,
        3,
    )


def _letters(rng: random.Random) -> MathProblem | None:
    alphabet = rng.sample("ABCDEGKLMNPRST", rng.randint(2, 4))
    counts = {letter: rng.randint(1, 3) for letter in alphabet}
    letters = [letter for letter, count in counts.items() for _ in range(count)]
    if len(letters) < 4 or max(counts.values()) == 1 or len(letters) > 9:
        return None
    rng.shuffle(letters)
    repeats = sorted(((letter, count) for letter, count in Counter(letters).items() if count > 1))
    total = math.factorial(len(letters))
    divisor = math.prod(math.factorial(count) for _, count in repeats)
    counts_text = [f"{letter} appears {count} times" for letter, count in repeats]
    repeat_text = (
        counts_text[0] if len(counts_text) == 1 else ", ".join(counts_text[:-1]) + " and " + counts_text[-1]
    )
    return MathProblem(
        f"How many different arrangements are there of the letters {', '.join(letters)}?",
        str(total // divisor),
        (
            Step(f"{len(letters)} letters in order: {len(letters)}! = {total}.", str(total)),
            Step(
                f"{repeat_text}; swapping equal letters changes nothing, so divide by "
                f"{' * '.join(f'{count}!' for _, count in repeats)} = {divisor}.",
                str(divisor),
            ),
            Step(f"{total} / {divisor} = {total // divisor}.", str(total // divisor)),
        ),
        CATEGORY,
        3,
    )


GENERATORS: dict[str, dict[int, tuple[Template, ...]]] = {
    CATEGORY: {
        1: (_menu, _line, _codes),
        2: (_podium, _committee, _handshakes),
        3: (_exactly_women, _at_least_one, _letters),
    },
}
