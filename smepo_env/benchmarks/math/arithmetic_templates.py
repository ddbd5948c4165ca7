"""Math templates: multi-step arithmetic word problems, and fractions and percentages.

Each template takes a ``random.Random`` and returns a :class:`MathProblem` (or ``None`` when
the numbers it drew do not give a clean problem; the caller draws again). ``GENERATORS`` maps
each category to its templates by difficulty level.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from fractions import Fraction

from smepo_env.benchmarks.math.worked_problem import (
    MathProblem,
    Step,
    fraction,
    money,
    number,
    pick_name,
    possessive,
)

Template = Callable[[random.Random], MathProblem | None]

_ITEMS = ("stickers", "marbles", "stamps", "beads", "cards", "coins", "shells", "buttons")
_BAKED = ("muffins", "cookies", "rolls", "bagels", "cupcakes", "scones")
_THINGS = ("jacket", "lamp", "backpack", "bicycle", "watch", "guitar", "printer", "tent")


# ----- arithmetic -------------------------------------------------------------------------------
def _packs(rng: random.Random) -> MathProblem:
    name, pronoun = pick_name(rng)
    item = rng.choice(_ITEMS)
    a, b, c = rng.randint(5, 60), rng.randint(2, 9), rng.randint(3, 25)
    total = b * c
    return MathProblem(
        f"{name} has {a} {item}. {pronoun.capitalize()} buys {b} packs with {c} {item} in each. "
        f"How many {item} does {name} have now?",
        str(a + total),
        (
            Step(f"The {b} packs hold {b} * {c} = {total} {item}.", str(total)),
            Step(
                f"Adding the {a} {item} {pronoun} already had: {a} + {total} = {a + total}.", str(a + total)
            ),
        ),
        "arithmetic",
        1,
    )


def _bakery(rng: random.Random) -> MathProblem | None:
    baked = rng.choice(_BAKED)
    a, b = rng.randint(3, 12), rng.randint(6, 24)
    made = a * b
    sold = rng.randint(1, made - 1)
    return MathProblem(
        f"A baker makes {a} trays of {b} {baked} each and sells {sold} of them. How many {baked} are left?",
        str(made - sold),
        (
            Step(f"The baker makes {a} * {b} = {made} {baked}.", str(made)),
            Step(f"After selling {sold}: {made} - {sold} = {made - sold}.", str(made - sold)),
        ),
        "arithmetic",
        1,
    )


def _theater(rng: random.Random) -> MathProblem:
    rows, seats = rng.randint(8, 40), rng.randint(10, 30)
    total = rows * seats
    taken = rng.randint(1, total - 1)
    return MathProblem(
        f"A theater has {rows} rows with {seats} seats in each row. {taken} seats are taken. "
        "How many seats are empty?",
        str(total - taken),
        (
            Step(f"The theater has {rows} * {seats} = {total} seats.", str(total)),
            Step(f"Empty seats: {total} - {taken} = {total - taken}.", str(total - taken)),
        ),
        "arithmetic",
        1,
    )


def _change(rng: random.Random) -> MathProblem | None:
    name, pronoun = pick_name(rng)
    pens, pen_price, books, book_price = (
        rng.randint(2, 9),
        rng.randint(1, 4),
        rng.randint(2, 6),
        rng.randint(3, 9),
    )
    cost_pens, cost_books = pens * pen_price, books * book_price
    total = cost_pens + cost_books
    bill = next(b for b in (20, 50, 100) if b > total)
    return MathProblem(
        f"A shop sells pens for ${pen_price} each and notebooks for ${book_price} each. {name} buys {pens} "
        "pens "
        f"and {books} notebooks and pays with a ${bill} bill. How much change, in dollars, does {pronoun} "
        "get?",
        str(bill - total),
        (
            Step(f"The pens cost {pens} * {pen_price} = {cost_pens} dollars.", str(cost_pens)),
            Step(f"The notebooks cost {books} * {book_price} = {cost_books} dollars.", str(cost_books)),
            Step(f"Together they cost {cost_pens} + {cost_books} = {total} dollars.", str(total)),
            Step(f"The change is {bill} - {total} = {bill - total} dollars.", str(bill - total)),
        ),
        "arithmetic",
        2,
    )


def _pencils(rng: random.Random) -> MathProblem | None:
    boxes, per_box, students, each = (
        rng.randint(3, 12),
        rng.choice((10, 12, 20, 24, 36)),
        rng.randint(15, 40),
        rng.randint(2, 4),
    )
    total, handed = boxes * per_box, students * each
    if handed >= total:
        return None
    return MathProblem(
        f"A school orders {boxes} boxes of {per_box} pencils. Each of its {students} students gets {each} "
        "pencils. "
        "How many pencils are left over?",
        str(total - handed),
        (
            Step(f"The school gets {boxes} * {per_box} = {total} pencils.", str(total)),
            Step(f"The students get {students} * {each} = {handed} pencils.", str(handed)),
            Step(f"Left over: {total} - {handed} = {total - handed}.", str(total - handed)),
        ),
        "arithmetic",
        2,
    )


def _wages(rng: random.Random) -> MathProblem | None:
    name, pronoun = pick_name(rng)
    rate, hours, days = rng.randint(9, 30), rng.randint(3, 8), rng.randint(3, 6)
    per_day = rate * hours
    earned = per_day * days
    rent = rng.randint(earned // 4, earned - 1)
    return MathProblem(
        f"{name} earns ${rate} per hour and works {hours} hours a day for {days} days. Then {pronoun} pays "
        f"${rent} for rent. How many dollars does {pronoun} have left from these earnings?",
        str(earned - rent),
        (
            Step(f"Each day {pronoun} earns {rate} * {hours} = {per_day} dollars.", str(per_day)),
            Step(f"In {days} days that is {per_day} * {days} = {earned} dollars.", str(earned)),
            Step(f"After rent: {earned} - {rent} = {earned - rent} dollars.", str(earned - rent)),
        ),
        "arithmetic",
        2,
    )


def _orchard(rng: random.Random) -> MathProblem | None:
    rows, per_row, apples, bag, price = (
        rng.randint(3, 12),
        rng.randint(4, 15),
        rng.randint(10, 40),
        rng.choice((4, 5, 6, 8, 10)),
        rng.randint(2, 7),
    )
    trees = rows * per_row
    total = trees * apples
    if total % bag:
        return None
    bags = total // bag
    return MathProblem(
        f"A farmer has {rows} rows of {per_row} apple trees. Each tree gives {apples} apples. He packs all "
        "the "
        f"apples in bags of {bag} and sells each bag for ${price}. How many dollars does he make?",
        str(bags * price),
        (
            Step(f"There are {rows} * {per_row} = {trees} trees.", str(trees)),
            Step(f"They give {trees} * {apples} = {total} apples.", str(total)),
            Step(f"That fills {total} / {bag} = {bags} bags.", str(bags)),
            Step(f"The bags sell for {bags} * {price} = {bags * price} dollars.", str(bags * price)),
        ),
        "arithmetic",
        3,
    )


def _bus(rng: random.Random) -> MathProblem | None:
    start, off1, on1, on2 = rng.randint(20, 60), rng.randint(2, 15), rng.randint(2, 15), rng.randint(1, 12)
    after1 = start - off1 + on1
    if after1 % 2:
        return None
    half = after1 // 2
    return MathProblem(
        f"A bus leaves the station with {start} passengers. At the first stop {off1} people get off and "
        f"{on1} get on. "
        f"At the second stop half of the passengers get off and {on2} get on. How many passengers are on "
        "the bus now?",
        str(half + on2),
        (
            Step(f"After the first stop: {start} - {off1} + {on1} = {after1} passengers.", str(after1)),
            Step(f"Half of them get off at the second stop, leaving {after1} / 2 = {half}.", str(half)),
            Step(f"Then {on2} get on: {half} + {on2} = {half + on2}.", str(half + on2)),
        ),
        "arithmetic",
        3,
    )


def _reading(rng: random.Random) -> MathProblem:
    name, pronoun = pick_name(rng)
    weekday, weekend, weeks = rng.randint(5, 40), rng.randint(10, 60), rng.randint(2, 8)
    five, two = 5 * weekday, 2 * weekend
    week = five + two
    return MathProblem(
        f"{name} reads {weekday} pages every weekday and {weekend} pages on each day of the weekend. "
        f"How many pages does {pronoun} read in {weeks} weeks?",
        str(week * weeks),
        (
            Step(f"On the 5 weekdays {pronoun} reads 5 * {weekday} = {five} pages.", str(five)),
            Step(f"On the 2 weekend days {pronoun} reads 2 * {weekend} = {two} pages.", str(two)),
            Step(f"One week is {five} + {two} = {week} pages.", str(week)),
            Step(f"In {weeks} weeks: {week} * {weeks} = {week * weeks} pages.", str(week * weeks)),
        ),
        "arithmetic",
        3,
    )


def _shared_bill(rng: random.Random) -> MathProblem | None:
    name, _ = pick_name(rng)
    shirts, shirt_price, trousers, trouser_price = (
        rng.randint(2, 5),
        rng.randint(8, 30),
        rng.randint(2, 3),
        rng.randint(20, 45),
    )
    friends, discount = rng.randint(1, 4), rng.choice((5, 10, 15, 20))
    cost_shirts, cost_trousers = shirts * shirt_price, trousers * trouser_price
    total = cost_shirts + cost_trousers
    people = friends + 1
    if (total - discount) % people:
        return None
    each = (total - discount) // people
    return MathProblem(
        f"{name} buys {shirts} shirts at ${shirt_price} each and {trousers} pairs of trousers at "
        f"${trouser_price} each, "
        f"with a ${discount} discount on the total. {name} splits the cost equally with {friends} "
        f"{'friend' if friends == 1 else 'friends'}. How many dollars does each person pay?",
        str(each),
        (
            Step(f"The shirts cost {shirts} * {shirt_price} = {cost_shirts} dollars.", str(cost_shirts)),
            Step(
                f"The trousers cost {trousers} * {trouser_price} = {cost_trousers} dollars.",
                str(cost_trousers),
            ),
            Step(
                f"After the discount the total is {cost_shirts} + {cost_trousers} - {discount} = "
                f"{total - discount} dollars.",
                str(total - discount),
            ),
            Step(
                f"Split among {people} people: {total - discount} / {people} = {each} dollars each.",
                str(each),
            ),
        ),
        "arithmetic",
        3,
    )


# ----- fractions and percentages ------------------------------------------------------------------
def _percent_of(rng: random.Random) -> MathProblem:
    percent, base = rng.choice((5, 10, 15, 20, 25, 30, 40, 45, 60, 75, 80, 90)), rng.randint(2, 60) * 20
    one = Fraction(base, 100)
    result = one * percent
    return MathProblem(
        f"What is {percent}% of {base}?",
        number(result),
        (
            Step(f"1% of {base} is {base} / 100 = {number(one)}.", number(one)),
            Step(f"So {percent}% is {percent} * {number(one)} = {number(result)}.", number(result)),
        ),
        "fractions-percentages",
        1,
    )


def _sale(rng: random.Random) -> MathProblem:
    thing = rng.choice(_THINGS)
    price, percent = rng.randint(4, 60) * 5, rng.choice((10, 15, 20, 25, 30, 40, 50))
    off = Fraction(price * percent, 100)
    return MathProblem(
        f"A {thing} costs ${price}. It is on sale for {percent}% off. What is the sale price in dollars?",
        money(price - off),
        (
            Step(
                f"The discount is {percent}% of {price}, which is {price} * {percent} / 100 = {money(off)} "
                "dollars.",
                money(off),
            ),
            Step(
                f"The sale price is {price} - {money(off)} = {money(price - off)} dollars.",
                money(price - off),
            ),
        ),
        "fractions-percentages",
        1,
    )


def _give_fraction(rng: random.Random) -> MathProblem:
    name, pronoun = pick_name(rng)
    item = rng.choice(_ITEMS)
    denominator = rng.choice((3, 4, 5, 6, 8))
    numerator = rng.choice([n for n in range(1, denominator) if math.gcd(n, denominator) == 1])
    total = denominator * rng.randint(3, 15)
    given = total // denominator * numerator
    return MathProblem(
        f"{name} has {total} {item} and gives {numerator}/{denominator} of them to a friend. "
        f"How many {item} does {pronoun} keep?",
        str(total - given),
        (
            Step(
                f"{numerator}/{denominator} of {total} is {total} / {denominator} * {numerator} = {given}.",
                str(given),
            ),
            Step(f"{pronoun.capitalize()} keeps {total} - {given} = {total - given}.", str(total - given)),
        ),
        "fractions-percentages",
        1,
    )


def _boys(rng: random.Random) -> MathProblem | None:
    students, percent = rng.randint(4, 40) * 5, rng.choice((20, 30, 40, 45, 55, 60, 65, 70, 80))
    girls = Fraction(students * percent, 100)
    if girls.denominator != 1:
        return None
    return MathProblem(
        f"A school club has {students} members and {percent}% of them are girls. How many boys are in the "
        "club?",
        str(students - girls.numerator),
        (
            Step(
                f"The girls number {percent}% of {students} = {students} * {percent} / 100 = {girls}.",
                str(girls),
            ),
            Step(f"The boys number {students} - {girls} = {students - girls}.", str(students - girls)),
        ),
        "fractions-percentages",
        1,
    )


def _add_fractions(rng: random.Random) -> MathProblem | None:
    b, d = rng.sample((2, 3, 4, 5, 6, 7, 8, 9, 10, 12), 2)
    a, c = rng.randint(1, b - 1), rng.randint(1, d - 1)
    common = math.lcm(b, d)
    total = Fraction(a, b) + Fraction(c, d)
    if total.denominator == 1:
        return None
    x, y = a * common // b, c * common // d
    return MathProblem(
        f"What is {a}/{b} + {c}/{d}? Give the answer as a fraction in lowest terms.",
        fraction(total),
        (
            Step(f"The common denominator of {b} and {d} is {common}.", str(common)),
            Step(f"{a}/{b} = {x}/{common} and {c}/{d} = {y}/{common}.", f"{x}/{common}"),
            Step(
                f"The sum is {x + y}/{common}, which in lowest terms is {fraction(total)}.", fraction(total)
            ),
        ),
        "fractions-percentages",
        2,
    )


def _successive(rng: random.Random) -> MathProblem:
    price, up, down = (
        rng.randint(1, 30) * 20,
        rng.choice((10, 20, 25, 30, 50)),
        rng.choice((10, 20, 25, 40, 50)),
    )
    raised = Fraction(price * (100 + up), 100)
    final = raised * (100 - down) / 100
    return MathProblem(
        f"The price of an item is ${price}. The price is raised by {up}%, and then the new price is "
        "lowered by "
        f"{down}%. What is the final price in dollars?",
        money(final),
        (
            Step(
                f"After the {up}% rise the price is {price} * {100 + up} / 100 = {money(raised)} dollars.",
                money(raised),
            ),
            Step(
                f"After the {down}% cut it is {money(raised)} * {100 - down} / 100 = {money(final)} dollars.",
                money(final),
            ),
        ),
        "fractions-percentages",
        2,
    )


def _percent_change(rng: random.Random) -> MathProblem | None:
    thing = rng.choice(_THINGS)
    old = rng.choice((20, 25, 40, 50, 80, 100, 120, 125, 150, 200, 250))
    new = old + rng.randint(1, old // 5) * 5
    rise = new - old
    percent = Fraction(rise * 100, old)
    return MathProblem(
        f"The price of a {thing} rose from ${old} to ${new}. By what percent did the price rise?",
        number(percent),
        (
            Step(f"The price rose by {new} - {old} = {rise} dollars.", str(rise)),
            Step(
                f"As a percent of the old price: {rise} / {old} * 100 = {number(percent)}.", number(percent)
            ),
        ),
        "fractions-percentages",
        2,
    )


def _backwards(rng: random.Random) -> MathProblem | None:
    name, pronoun = pick_name(rng)
    first, second = rng.choice((2, 3, 4, 5)), rng.choice((2, 3, 4, 5))
    left = rng.randint(2, 20) * (second - 1)
    before_second = Fraction(left * second, second - 1)
    start = before_second * first / (first - 1)
    if start.denominator != 1 or before_second.denominator != 1:
        return None
    return MathProblem(
        f"{name} spent 1/{first} of {possessive(pronoun)} money on a book, then 1/{second} of what was "
        f"left on lunch, and had ${left} left. How many dollars did {pronoun} have at the start?",
        str(start),
        (
            Step(
                f"After lunch {pronoun} kept {second - 1}/{second} of the money left after the book, so "
                "that amount was "
                f"{left} * {second} / {second - 1} = {before_second} dollars.",
                str(before_second),
            ),
            Step(
                f"After the book {pronoun} kept {first - 1}/{first} of the start, so the start was "
                f"{before_second} * "
                f"{first} / {first - 1} = {start} dollars.",
                str(start),
            ),
        ),
        "fractions-percentages",
        3,
    )


def _glasses(rng: random.Random) -> MathProblem | None:
    students = rng.randint(4, 24) * 25
    girls_pct, girls_glasses, boys_glasses = (
        rng.choice((40, 44, 48, 52, 56, 60)),
        rng.choice((10, 20, 25, 30, 40)),
        rng.choice((10, 20, 25, 30, 40)),
    )
    girls = Fraction(students * girls_pct, 100)
    boys = students - girls
    with_girls, with_boys = girls * girls_glasses / 100, boys * boys_glasses / 100
    if any(v.denominator != 1 for v in (girls, with_girls, with_boys)):
        return None
    return MathProblem(
        f"A school has {students} students and {girls_pct}% of them are girls. {girls_glasses}% of the "
        "girls and "
        f"{boys_glasses}% of the boys wear glasses. How many students wear glasses?",
        str(with_girls + with_boys),
        (
            Step(f"There are {students} * {girls_pct} / 100 = {girls} girls.", str(girls)),
            Step(f"So there are {students} - {girls} = {boys} boys.", str(boys)),
            Step(f"Girls with glasses: {girls} * {girls_glasses} / 100 = {with_girls}.", str(with_girls)),
            Step(f"Boys with glasses: {boys} * {boys_glasses} / 100 = {with_boys}.", str(with_boys)),
            Step(
                f"In total {with_girls} + {with_boys} = {with_girls + with_boys} students wear glasses.",
                str(with_girls + with_boys),
            ),
        ),
        "fractions-percentages",
        3,
    )


GENERATORS: dict[str, dict[int, tuple[Template, ...]]] = {
    "arithmetic": {
        1: (_packs, _bakery, _theater),
        2: (_change, _pencils, _wages),
        3: (_orchard, _bus, _reading, _shared_bill),
    },
    "fractions-percentages": {
        1: (_percent_of, _sale, _give_fraction, _boys),
        2: (_add_fractions, _successive, _percent_change),
        3: (_backwards, _glasses),
    },
}
