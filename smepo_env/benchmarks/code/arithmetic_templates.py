"""Code templates on integers and number sequences (see :mod:`smepo_env.benchmarks.code.function_spec`)."""

from __future__ import annotations

import random

from smepo_env.benchmarks.code.function_spec import FunctionSpec, random_ints

CATEGORY = "arithmetic"
_WORD_PAIRS = (
    ("Fizz", "Buzz"),
    ("Ping", "Pong"),
    ("Foo", "Bar"),
    ("Tick", "Tock"),
    ("Zip", "Zap"),
    ("Bim", "Bam"),
)


def _digit_power_sum(rng: random.Random) -> FunctionSpec:
    power = rng.randint(1, 5)
    return FunctionSpec(
        f"digit_power_sum_{power}",
        "n: int",
        "int",
        f"returns the sum of the decimal digits of `n` (n >= 0), each raised to the power {power}",
        f"    return sum(int(d) ** {power} for d in str(n))\n",
        lambda r: (r.randint(0, 10 ** r.randint(1, 6)),),
        CATEGORY,
        f"Iterate over str(n) and add int(d) ** {power}.",
        edge_args=((0,),),
    )


def _count_multiples(rng: random.Random) -> FunctionSpec:
    a, b = rng.sample(range(2, 13), 2)
    return FunctionSpec(
        f"count_multiples_{a}_or_{b}",
        "n: int",
        "int",
        f"returns how many integers from 1 to `n` inclusive are divisible by {a} or by {b} (n >= 0)",
        f"    return sum(1 for x in range(1, n + 1) if x % {a} == 0 or x % {b} == 0)\n",
        lambda r: (r.randint(0, 200),),
        CATEGORY,
        "Loop from 1 to n and test both divisors.",
        edge_args=((0,),),
    )


def _sum_multiples_below(rng: random.Random) -> FunctionSpec:
    a, b = rng.sample(range(2, 15), 2)
    return FunctionSpec(
        f"sum_multiples_{a}_{b}_below",
        "n: int",
        "int",
        f"returns the sum of all non-negative integers below `n` that are multiples of {a} or {b}",
        f"    return sum(x for x in range(n) if x % {a} == 0 or x % {b} == 0)\n",
        lambda r: (r.randint(0, 300),),
        CATEGORY,
        "Sum the numbers below n that either divisor divides.",
        edge_args=((0,), (1,)),
    )


def _to_base(rng: random.Random) -> FunctionSpec:
    base = rng.randint(2, 9)
    return FunctionSpec(
        f"to_base_{base}",
        "n: int",
        "str",
        f"returns the representation of the non-negative integer `n` in base {base}, as a string of digits",
        "    if n == 0:\n        return '0'\n    digits = []\n    while n:\n        n, d = divmod(n, "
        f"{base})\n"
        "        digits.append(str(d))\n    return ''.join(reversed(digits))\n",
        lambda r: (r.randint(1, 5000),),
        CATEGORY,
        f"Divide by {base} repeatedly, collecting remainders, then reverse.",
        edge_args=((0,), (base,)),
    )


def _fizz(rng: random.Random) -> FunctionSpec:
    a, b = rng.choice([(a, b) for a in range(2, 8) for b in range(2, 8) if a % b and b % a])
    first, second = rng.choice(_WORD_PAIRS)
    return FunctionSpec(
        f"say_{first.lower()}_{second.lower()}",
        "n: int",
        "list[str]",
        f"returns a list for the numbers 1 to `n`: '{first}' for multiples of {a}, '{second}' for "
        f"multiples of {b}, "
        f"'{first}{second}' for multiples of both, and the number as a string otherwise",
        f"    result = []\n    for x in range(1, n + 1):\n        word = ({first!r} if x % {a} == 0 else "
        "'') + "
        f"({second!r} if x % {b} == 0 else '')\n        result.append(word or str(x))\n    return result\n",
        lambda r: (r.randint(1, 3 * a * b // 2 + 2),),
        CATEGORY,
        "Build each entry from the two divisibility tests.",
        edge_args=((0,),),
    )


def _sequence(rng: random.Random) -> FunctionSpec:
    first, ratio, offset = rng.randint(-3, 5), rng.randint(1, 4), rng.randint(-5, 7)
    rule = f"a(k) = {ratio} * a(k-1) {'+' if offset >= 0 else '-'} {abs(offset)}"
    return FunctionSpec(
        "sequence_term",
        "n: int",
        "int",
        f"returns the n-th term (n >= 1) of the sequence with a(1) = {first} and {rule}",
        f"    term = {first}\n    for _ in range(n - 1):\n        term = {ratio} * term + ({offset})\n    "
        "return term\n",
        lambda r: (r.randint(1, 12),),
        CATEGORY,
        "Start from a(1) and apply the rule n - 1 times.",
        edge_args=((1,),),
    )


def _gcd_lcm(rng: random.Random) -> FunctionSpec:
    use_gcd = rng.random() < 0.5
    what = "greatest common divisor" if use_gcd else "least common multiple"
    function = "gcd" if use_gcd else "lcm"
    return FunctionSpec(
        f"{function}_of_list",
        "nums: list[int]",
        "int",
        f"returns the {what} of the positive integers in `nums` (a non-empty list)",
        f"    result = nums[0]\n    for x in nums[1:]:\n        result = math.{function}(result, x)\n    "
        "return result\n",
        lambda r: ([r.choice((2, 3, 4, 6, 9, 10, 12)) * r.randint(1, 6) for _ in range(r.randint(1, 5))],),
        CATEGORY,
        f"Fold math.{function} over the list.",
        imports="import math",
    )


def _count_primes(rng: random.Random) -> FunctionSpec:
    low = rng.choice((1, 10, 20, 50, 100))
    return FunctionSpec(
        f"count_primes_from_{low}",
        "n: int",
        "int",
        f"returns how many prime numbers p satisfy {low} <= p <= n (0 when n < {low})",
        "    def is_prime(x: int) -> bool:\n        if x < 2:\n            return False\n"
        "        return all(x % d for d in range(2, int(x ** 0.5) + 1))\n\n"
        f"    return sum(1 for x in range({low}, n + 1) if is_prime(x))\n",
        lambda r: (r.randint(low, low + 200),),
        CATEGORY,
        "Test each number in the range by trial division.",
        edge_args=((low - 1,),),
    )


def _trailing_zeros(rng: random.Random) -> FunctionSpec:
    prime = rng.choice((2, 3, 5, 7))
    return FunctionSpec(
        f"factorial_power_of_{prime}",
        "n: int",
        "int",
        f"returns the exponent of {prime} in the prime factorisation of n! (n >= 0), that is, the largest "
        "e such that "
        f"{prime}**e divides n!",
        f"    count, power = 0, {prime}\n    while power <= n:\n        count += n // power\n        power "
        f"*= {prime}\n"
        "    return count\n",
        lambda r: (r.randint(0, 500),),
        CATEGORY,
        f"Legendre's formula: add n // {prime}**i over all powers.",
        edge_args=((0,),),
    )


def _reverse_number(rng: random.Random) -> FunctionSpec:
    keep_sign = rng.random() < 0.5
    return FunctionSpec(
        "reverse_digits",
        "n: int",
        "int",
        "returns the integer whose decimal digits are those of `n` in reverse order"
        + (
            ", keeping the sign of `n` (leading zeros disappear)"
            if keep_sign
            else " (n >= 0; leading zeros disappear)"
        ),
        "    sign = -1 if n < 0 else 1\n    return sign * int(str(abs(n))[::-1])\n",
        (lambda r: (r.randint(-9999, 9999),)) if keep_sign else (lambda r: (r.randint(0, 99999),)),
        CATEGORY,
        "Reverse the digit string of the absolute value and restore the sign.",
        edge_args=((0,), (120,)),
    )


def _polynomial(rng: random.Random) -> FunctionSpec:
    a, b, c = rng.randint(-5, 5), rng.randint(-9, 9), rng.randint(-20, 20)
    if a == 0:
        a = 2
    return FunctionSpec(
        "evaluate_polynomial",
        "xs: list[int]",
        "list[int]",
        f"returns the value of {a}*x**2 + ({b})*x + ({c}) for every x in `xs`",
        f"    return [{a} * x * x + ({b}) * x + ({c}) for x in xs]\n",
        lambda r: (random_ints(r, -6, 6, 1, 6),),
        CATEGORY,
        "Evaluate the polynomial in a list comprehension.",
        edge_args=(([],),),
    )


def _digital_root(rng: random.Random) -> FunctionSpec:
    base = rng.choice((10, 10, 8, 16))
    return FunctionSpec(
        f"digit_sum_root_base_{base}",
        "n: int",
        "int",
        f"repeatedly replaces the non-negative integer `n` by the sum of its digits in base {base} until "
        "it is below "
        f"{base}, and returns that number",
        f"    while n >= {base}:\n        total = 0\n        while n:\n            n, d = divmod(n, {base})\n"
        "            total += d\n        n = total\n    return n\n",
        lambda r: (r.randint(0, 10**6),),
        CATEGORY,
        f"Sum the base-{base} digits until one digit remains.",
        edge_args=((0,),),
    )


TEMPLATES = (
    _digit_power_sum,
    _count_multiples,
    _sum_multiples_below,
    _to_base,
    _fizz,
    _sequence,
    _gcd_lcm,
    _count_primes,
    _trailing_zeros,
    _reverse_number,
    _polynomial,
    _digital_root,
)
