"""Code templates on lists (see :mod:`smepo_env.benchmarks.code.function_spec` for the contract)."""

from __future__ import annotations

import random

from smepo_env.benchmarks.code.function_spec import FunctionSpec, ordinal, random_ints

CATEGORY = "list"


def _sum_divisible(rng: random.Random) -> FunctionSpec:
    k = rng.randint(2, 12)
    return FunctionSpec(
        f"sum_divisible_by_{k}",
        "nums: list[int]",
        "int",
        f"returns the sum of the elements of `nums` divisible by {k}",
        f"    return sum(x for x in nums if x % {k} == 0)\n",
        lambda r: (random_ints(r, -30, 60),),
        CATEGORY,
        f"Sum the elements whose remainder modulo {k} is 0.",
        edge_args=(([],),),
    )


def _count_greater(rng: random.Random) -> FunctionSpec:
    threshold = rng.randint(-5, 20)
    return FunctionSpec(
        "count_greater",
        "nums: list[int]",
        "int",
        f"returns how many elements of `nums` are strictly greater than {threshold}",
        f"    return sum(1 for x in nums if x > {threshold})\n",
        lambda r: (random_ints(r, threshold - 8, threshold + 8),),
        CATEGORY,
        f"Count the elements above {threshold}.",
        edge_args=(([],), ([threshold],)),
    )


def _chunk(rng: random.Random) -> FunctionSpec:
    size = rng.randint(2, 6)
    return FunctionSpec(
        f"chunks_of_{size}",
        "items: list[int]",
        "list[list[int]]",
        f"splits `items` into consecutive chunks of {size} elements; the last chunk may be shorter",
        f"    return [items[i:i + {size}] for i in range(0, len(items), {size})]\n",
        lambda r: (random_ints(r, 0, 9, 0, 13),),
        CATEGORY,
        f"Slice from every multiple of {size}.",
        edge_args=(([],),),
    )


def _rotate(rng: random.Random) -> FunctionSpec:
    k, right = rng.randint(1, 10), rng.random() < 0.5
    direction = "right" if right else "left"
    body = f"    if not items:\n        return []\n    k = {k} % len(items)\n" + (
        "    return items[-k:] + items[:-k] if k else list(items)\n"
        if right
        else "    return items[k:] + items[:k]\n"
    )
    return FunctionSpec(
        f"rotate_{direction}_{k}",
        "items: list[int]",
        "list[int]",
        f"rotates `items` {k} {'place' if k == 1 else 'places'} to the {direction} (elements that fall off "
        "one end come "
        "back at the other; the list may be shorter than the rotation)",
        body,
        lambda r: (random_ints(r, 0, 9, 0, 8),),
        CATEGORY,
        f"Reduce {k} modulo the length, then join the two slices.",
        edge_args=(([],), ([7],)),
    )


def _running_mod(rng: random.Random) -> FunctionSpec:
    modulus = rng.randint(3, 20)
    return FunctionSpec(
        f"running_sum_mod_{modulus}",
        "nums: list[int]",
        "list[int]",
        "returns the running sums of `nums` (the sum of the first 1, 2, 3, ... elements), each taken "
        f"modulo {modulus}",
        "    result, total = [], 0\n    for x in nums:\n        total += x\n        result.append(total % "
        f"{modulus})\n"
        "    return result\n",
        lambda r: (random_ints(r, 0, 30),),
        CATEGORY,
        f"Keep a running total and append it modulo {modulus}.",
        edge_args=(([],),),
    )


def _pairs_with_sum(rng: random.Random) -> FunctionSpec:
    target = rng.randint(0, 20)
    return FunctionSpec(
        f"pairs_summing_to_{target}",
        "nums: list[int]",
        "int",
        f"returns the number of index pairs i < j with nums[i] + nums[j] == {target}",
        "    return sum(1 for i in range(len(nums)) for j in range(i + 1, len(nums)) if nums[i] + nums[j] "
        f"== {target})\n",
        lambda r: (random_ints(r, 0, target, 0, 8),),
        CATEGORY,
        "Check every pair of indices i < j.",
        edge_args=(([],),),
    )


def _dedupe(rng: random.Random) -> FunctionSpec:
    keep_last = rng.random() < 0.5
    body = (
        (
            "    seen = set()\n    result = []\n    for x in reversed(items):\n        if x not in seen:\n"
            "            seen.add(x)\n            result.append(x)\n    return result[::-1]\n"
        )
        if keep_last
        else (
            "    seen = set()\n    result = []\n    for x in items:\n        if x not in seen:\n"
            "            seen.add(x)\n            result.append(x)\n    return result\n"
        )
    )
    return FunctionSpec(
        "remove_duplicates",
        "items: list[str]",
        "list[str]",
        f"removes repeated values from `items`, keeping only the {'last' if keep_last else 'first'} "
        "occurrence of each, "
        "in their original order",
        body,
        lambda r: ([r.choice(("ox", "bee", "cat", "dog", "eel", "fox")) for _ in range(r.randint(0, 9))],),
        CATEGORY,
        f"Walk {'backwards ' if keep_last else ''}through the list with a set of values seen so far.",
        edge_args=(([],),),
    )


def _max_window(rng: random.Random) -> FunctionSpec:
    width = rng.randint(2, 6)
    return FunctionSpec(
        f"max_sum_of_{width}",
        "nums: list[int]",
        "int | None",
        f"returns the largest sum of {width} consecutive elements of `nums`, or None when `nums` has fewer "
        "than "
        f"{width} elements",
        f"    if len(nums) < {width}:\n        return None\n"
        f"    return max(sum(nums[i:i + {width}]) for i in range(len(nums) - {width} + 1))\n",
        lambda r: (random_ints(r, -10, 10, width - 1, 10),),
        CATEGORY,
        f"Try every window of {width} elements and keep the best sum.",
        edge_args=(([],),),
    )


def _clamp(rng: random.Random) -> FunctionSpec:
    low = rng.randint(-10, 5)
    high = low + rng.randint(1, 12)
    return FunctionSpec(
        "clamp_all",
        "nums: list[int]",
        "list[int]",
        f"returns a list where each element of `nums` is clamped to the range [{low}, {high}] (smaller "
        "values become "
        f"{low}, larger ones {high})",
        f"    return [min(max(x, {low}), {high}) for x in nums]\n",
        lambda r: (random_ints(r, low - 6, high + 6),),
        CATEGORY,
        "Apply min and max to each element.",
        edge_args=(([],),),
    )


def _kth_largest(rng: random.Random) -> FunctionSpec:
    k = rng.randint(1, 5)
    return FunctionSpec(
        f"largest_distinct_{k}",
        "nums: list[int]",
        "int | None",
        f"returns the {ordinal(k)} largest distinct value of `nums`, or None if there are fewer than {k} "
        "distinct values",
        f"    values = sorted(set(nums), reverse=True)\n    return values[{k - 1}] if len(values) >= {k} "
        "else None\n",
        lambda r: (random_ints(r, 0, 12, 0, 10),),
        CATEGORY,
        "Sort the distinct values in descending order.",
        edge_args=(([],),),
    )


def _interleave(rng: random.Random) -> FunctionSpec:
    second_first = rng.random() < 0.5
    first, second = ("b", "a") if second_first else ("a", "b")
    return FunctionSpec(
        "interleave",
        "a: list[int], b: list[int]",
        "list[int]",
        f"interleaves the two lists, starting with the first element of `{first}` and alternating; when "
        "one list runs "
        "out, the rest of the other is appended",
        f"    result = []\n    for i in range(max(len(a), len(b))):\n"
        f"        if i < len({first}):\n            result.append({first}[i])\n"
        f"        if i < len({second}):\n            result.append({second}[i])\n    return result\n",
        lambda r: (random_ints(r, 0, 9, 0, 5), random_ints(r, 10, 19, 0, 5)),
        CATEGORY,
        "Walk an index up to the longer length and take from each list while it has elements.",
        edge_args=(([], []),),
    )


def _scale_filter(rng: random.Random) -> FunctionSpec:
    factor, threshold = rng.randint(2, 9), rng.randint(0, 40)
    return FunctionSpec(
        "scale_and_filter",
        "nums: list[int]",
        "list[int]",
        f"multiplies every element of `nums` by {factor} and keeps, in order, only the products greater "
        f"than {threshold}",
        f"    return [x * {factor} for x in nums if x * {factor} > {threshold}]\n",
        lambda r: (random_ints(r, -5, 12),),
        CATEGORY,
        "Scale in a comprehension and filter on the product.",
        edge_args=(([],),),
    )


TEMPLATES = (
    _sum_divisible,
    _count_greater,
    _chunk,
    _rotate,
    _running_mod,
    _pairs_with_sum,
    _dedupe,
    _max_window,
    _clamp,
    _kth_largest,
    _interleave,
    _scale_filter,
)
