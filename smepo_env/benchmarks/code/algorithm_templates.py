"""Code templates for small algorithms (see :mod:`smepo_env.benchmarks.code.function_spec`)."""

from __future__ import annotations

import itertools
import math
import random

from smepo_env.benchmarks.code.function_spec import FunctionSpec, random_ints, random_word

CATEGORY = "algorithm"
_BRACKETS = ("()", "[]", "{}", "<>")


def _binary_search(rng: random.Random) -> FunctionSpec:
    leftmost = rng.random() < 0.5
    if leftmost:
        return FunctionSpec(
            "insertion_point",
            "nums: list[int], target: int",
            "int",
            "returns the smallest index at which `target` could be inserted into the sorted list `nums` "
            "keeping it "
            "sorted (before any equal elements), using binary search",
            "    low, high = 0, len(nums)\n    while low < high:\n        mid = (low + high) // 2\n"
            "        if nums[mid] < target:\n            low = mid + 1\n        else:\n            high = "
            "mid\n    return low\n",
            lambda r: _sorted_list_and_target(r),
            CATEGORY,
            "Classic lower-bound binary search on [low, high).",
            edge_args=(([], 5),),
        )
    return FunctionSpec(
        "find_index",
        "nums: list[int], target: int",
        "int",
        "returns an index of `target` in the sorted list of distinct integers `nums`, or -1 if it is "
        "absent, using "
        "binary search",
        "    low, high = 0, len(nums) - 1\n    while low <= high:\n        mid = (low + high) // 2\n"
        "        if nums[mid] == target:\n            return mid\n        if nums[mid] < target:\n         "
        "   low = mid + 1\n"
        "        else:\n            high = mid - 1\n    return -1\n",
        lambda r: (sorted(r.sample(range(0, 40), r.randint(0, 10))), r.randint(0, 40)),
        CATEGORY,
        "Binary search over [low, high], narrowing by comparing with the middle.",
        edge_args=(([], 3),),
    )


def _sorted_list_and_target(rng: random.Random) -> tuple[list[int], int]:
    """A sorted list (repeats allowed) and a target that is often in it or between its values."""
    nums = sorted(random_ints(rng, 0, 20, 0, 9))
    target = rng.choice(nums) if nums and rng.random() < 0.5 else rng.randint(-1, 21)
    return nums, target


def _balanced(rng: random.Random) -> FunctionSpec:
    kinds = rng.sample(_BRACKETS, rng.randint(1, 3))
    pairs = {closing: opening for opening, closing in kinds}
    alphabet = "".join(kinds)
    listed = " ".join(kinds)
    return FunctionSpec(
        "is_balanced",
        "s: str",
        "bool",
        f"returns True when the brackets {listed} in `s` are balanced and properly nested; `s` contains "
        "only these "
        "characters",
        f"    pairs = {pairs!r}\n    stack = []\n    for c in s:\n        if c in pairs:\n"
        "            if not stack or stack.pop() != pairs[c]:\n                return False\n"
        "        else:\n            stack.append(c)\n    return not stack\n",
        lambda r: (
            _bracket_string(r, kinds)
            if r.random() < 0.6
            else "".join(r.choice(alphabet) for _ in range(r.randint(1, 8))),
        ),
        CATEGORY,
        "Push opening brackets on a stack and match each closing one against the top.",
        edge_args=(("",),),
    )


def _bracket_string(rng: random.Random, kinds: list[str]) -> str:
    if rng.random() < 0.3:
        return ""
    opening, closing = rng.choice(kinds)
    inner = _bracket_string(rng, kinds) if rng.random() < 0.5 else ""
    tail = _bracket_string(rng, kinds) if rng.random() < 0.4 else ""
    return opening + inner + closing + tail


def _longest_run(rng: random.Random) -> FunctionSpec:
    relation, words = rng.choice(
        ((">", "strictly increasing"), (">=", "non-decreasing"), ("<", "strictly decreasing"))
    )
    return FunctionSpec(
        "longest_run",
        "nums: list[int]",
        "int",
        f"returns the length of the longest contiguous {words} run of `nums` (0 for an empty list)",
        "    best = current = 0\n    for i, x in enumerate(nums):\n"
        f"        current = current + 1 if i > 0 and x {relation} nums[i - 1] else 1\n"
        "        best = max(best, current)\n    return best\n",
        lambda r: (random_ints(r, 0, 9, 0, 12),),
        CATEGORY,
        "Scan once, extending the current run or restarting it.",
        edge_args=(([],),),
    )


def _two_sum(rng: random.Random) -> FunctionSpec:
    target = rng.randint(2, 25)
    return FunctionSpec(
        f"two_sum_{target}",
        "nums: list[int]",
        "tuple[int, int] | None",
        f"returns the pair of indices (i, j), i < j, with nums[i] + nums[j] == {target} that has the "
        "smallest j, and "
        "among those the smallest i; None if there is no such pair",
        "    for j in range(len(nums)):\n        for i in range(j):\n"
        f"            if nums[i] + nums[j] == {target}:\n                return (i, j)\n    return None\n",
        lambda r: (random_ints(r, 0, target, 0, 8),),
        CATEGORY,
        "For each j, look for a matching i before it.",
        edge_args=(([],),),
    )


def _merge_sorted(rng: random.Random) -> FunctionSpec:
    descending = rng.random() < 0.5
    order, compare = ("descending", ">=") if descending else ("ascending", "<=")
    return FunctionSpec(
        "merge_sorted",
        "a: list[int], b: list[int]",
        "list[int]",
        f"merges the two lists, each sorted in {order} order, into one list sorted in {order} order, in "
        "linear time",
        f"    result, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n        if a[i] {compare} "
        "b[j]:\n"
        "            result.append(a[i])\n            i += 1\n        else:\n            "
        "result.append(b[j])\n"
        "            j += 1\n    return result + a[i:] + b[j:]\n",
        lambda r: (
            sorted(random_ints(r, 0, 30, 0, 6), reverse=descending),
            sorted(random_ints(r, 0, 30, 0, 6), reverse=descending),
        ),
        CATEGORY,
        "Two pointers, taking the better head each time, then append the leftovers.",
        edge_args=(([], []),),
    )


def _min_coins(rng: random.Random) -> FunctionSpec:
    coins = sorted(rng.sample(range(2, 13), rng.randint(2, 3)) + ([1] if rng.random() < 0.4 else []))
    if math.gcd(*coins) != 1:
        coins = [*coins[:-1], coins[-1] + 1] if math.gcd(*coins[:-1], coins[-1] + 1) == 1 else [1, *coins]
    return FunctionSpec(
        "min_coins",
        "amount: int",
        "int",
        f"returns the fewest coins with values {coins} (each value usable any number of times) that add up "
        "to "
        "`amount`, or -1 if it cannot be done",
        f"    coins = {coins!r}\n    best = [0] + [-1] * amount\n    for total in range(1, amount + 1):\n"
        "        options = [best[total - c] for c in coins if c <= total and best[total - c] >= 0]\n"
        "        best[total] = min(options) + 1 if options else -1\n    return best[amount]\n",
        lambda r: (r.randint(1, 3 * max(coins)),),
        CATEGORY,
        "Dynamic programming over amounts: best[t] = 1 + min(best[t - c]) over usable coins.",
        edge_args=((0,),),
    )


def _climb(rng: random.Random) -> FunctionSpec:
    steps = sorted(rng.sample(range(1, 6), rng.randint(2, 3)))
    return FunctionSpec(
        "count_climbs",
        "n: int",
        "int",
        "returns the number of ways to climb a staircase of `n` steps when each move climbs one of "
        f"{steps} steps "
        "(the order of moves matters; n >= 0, and there is one way to climb 0 steps)",
        f"    ways = [1] + [0] * n\n    for total in range(1, n + 1):\n"
        f"        ways[total] = sum(ways[total - s] for s in {steps!r} if s <= total)\n    return ways[n]\n",
        lambda r: (r.randint(1, 25),),
        CATEGORY,
        "ways[t] is the sum of ways[t - s] over the allowed moves s.",
        edge_args=((0,),),
    )


def _common_affix(rng: random.Random) -> FunctionSpec:
    prefix = rng.random() < 0.5
    word = "prefix" if prefix else "suffix"
    body = (
        "    if not words:\n        return ''\n    result = words[0]\n    for w in words[1:]:\n"
        + (
            "        while not w.startswith(result):\n            result = result[:-1]\n"
            if prefix
            else "        while not w.endswith(result):\n            result = result[1:]\n"
        )
        + "    return result\n"
    )

    def make_args(r: random.Random) -> tuple[list[str]]:
        stem = random_word(r)[: r.randint(0, 4)]
        return (
            [
                stem + random_word(r)[: r.randint(0, 3)]
                if prefix
                else random_word(r)[: r.randint(0, 3)] + stem
                for _ in range(r.randint(1, 4))
            ],
        )

    return FunctionSpec(
        f"common_{word}",
        "words: list[str]",
        "str",
        f"returns the longest common {word} of all strings in `words` ('' for an empty list)",
        body,
        make_args,
        CATEGORY,
        f"Shrink the first word until every word shares it as a {word}.",
        edge_args=(([],),),
    )


def _islands(rng: random.Random) -> FunctionSpec:
    diagonal = rng.random() < 0.5
    moves = [
        (dr, dc)
        for dr, dc in itertools.product((-1, 0, 1), repeat=2)
        if (dr, dc) != (0, 0) and (diagonal or dr == 0 or dc == 0)
    ]
    return FunctionSpec(
        "count_islands",
        "grid: list[list[int]]",
        "int",
        "returns the number of islands in `grid`, where an island is a group of 1-cells connected "
        + ("horizontally, vertically or diagonally" if diagonal else "horizontally or vertically"),
        f"    rows, cols = len(grid), len(grid[0]) if grid else 0\n    seen = set()\n    count = 0\n"
        "    for r in range(rows):\n        for c in range(cols):\n            if grid[r][c] == 1 and (r, "
        "c) not in seen:\n"
        "                count += 1\n                stack = [(r, c)]\n                seen.add((r, c))\n"
        "                while stack:\n                    y, x = stack.pop()\n"
        f"                    for dy, dx in {moves!r}:\n                        ny, nx = y + dy, x + dx\n"
        "                        if 0 <= ny < rows and 0 <= nx < cols and grid[ny][nx] == 1 and (ny, nx) "
        "not in seen:\n"
        "                            seen.add((ny, nx))\n                            stack.append((ny, nx))\n"
        "    return count\n",
        lambda r: ([[int(r.random() < 0.4) for _ in range(4)] for _ in range(r.randint(1, 4))],),
        CATEGORY,
        "Depth-first search from every unvisited land cell, counting the searches.",
        edge_args=(([],),),
    )


def _top_k_words(rng: random.Random) -> FunctionSpec:
    k = rng.randint(1, 4)
    return FunctionSpec(
        f"top_{k}_words",
        "words: list[str]",
        "list[str]",
        f"returns the {k} most frequent words of `words`, most frequent first, ties broken alphabetically "
        "(fewer if "
        "there are fewer distinct words)",
        f"    counts = Counter(words)\n    return sorted(counts, key=lambda w: (-counts[w], w))[:{k}]\n",
        lambda r: (
            [r.choice(("red", "blue", "green", "gold", "teal", "pink")) for _ in range(r.randint(0, 10))],
        ),
        CATEGORY,
        "Count with collections.Counter and sort by (-count, word).",
        edge_args=(([],),),
        imports="from collections import Counter",
    )


def _fibonacci_mod(rng: random.Random) -> FunctionSpec:
    a, b, modulus = rng.randint(0, 5), rng.randint(1, 5), rng.choice((7, 10, 11, 13, 97, 100, 1000))
    return FunctionSpec(
        "sequence_mod",
        "n: int",
        "int",
        f"returns F(n) modulo {modulus}, where F(0) = {a}, F(1) = {b} and F(k) = F(k-1) + F(k-2) (n >= 0)",
        f"    x, y = {a}, {b}\n    for _ in range(n):\n        x, y = y, x + y\n    return x % {modulus}\n",
        lambda r: (r.randint(0, 60),),
        CATEGORY,
        "Iterate the pair (F(k), F(k+1)) n times.",
        edge_args=((0,), (1,)),
    )


TEMPLATES = (
    _binary_search,
    _balanced,
    _longest_run,
    _two_sum,
    _merge_sorted,
    _min_coins,
    _climb,
    _common_affix,
    _islands,
    _top_k_words,
    _fibonacci_mod,
)
