"""Drawing a benchmark's splits from templates: an equal quota per cell, no question twice.

The math and code benchmarks draw their problems from templates grouped in cells (a question
type, or a type at one difficulty level). :func:`draw_splits` spreads each split's size evenly
over the cells (the first ``total % len(cells)`` cells get one more), picks templates of a cell
at random until its quota is met, and throws away a draw whose key (the question text, or a
function's signature and specification) was already drawn in any split. Held-out splits are
drawn first. The result depends only on the generator ``rng`` it is given, so a benchmark is
reproducible from its seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Draft = TypeVar("Draft")
Item = TypeVar("Item")

SPLITS: tuple[str, ...] = ("train", "dev", "test")
"""The splits of every bundled benchmark."""

GENERATION_ORDER: tuple[str, ...] = ("test", "dev", "train")
"""Held-out splits first: they get the first pick of distinct questions, so their content does
not depend on the training split's size."""


@dataclass(frozen=True)
class Cell(Generic[Draft]):
    """One group of templates that every split draws an equal share from.

    Attributes:
        label: names the cell in errors (``"arithmetic level-2"``, ``"string"``).
        templates: each takes the generator and returns a draft, or ``None`` when the numbers it
            drew give no clean problem (the loop draws again).
    """

    label: str
    templates: Sequence[Callable[[random.Random], Draft | None]]


def draw_splits(
    rng: random.Random,
    cells: Sequence[Cell[Draft]],
    split_sizes: Mapping[str, int],
    size: float,
    *,
    key: Callable[[Draft], Hashable],
    finish: Callable[[Draft, random.Random], Item | None],
    max_draws_per_item: int,
) -> dict[str, list[Item]]:
    """Draw every split's items, in :data:`GENERATION_ORDER`, each split shuffled.

    Args:
        rng: the benchmark's generator (seeded from its name, version and seed).
        cells: the template groups; each split takes an equal share from each.
        split_sizes: items per split at ``size`` 1.0 (keys: :data:`SPLITS`).
        size: scales every split (each cell still gets at least one item per split).
        key: what makes two drafts the same question; a key already drawn is skipped.
        finish: turns a new draft into the item (it may draw more from ``rng``), or returns
            ``None`` to reject it.
        max_draws_per_item: draws allowed per item of a cell's quota before giving up.

    Returns:
        Split name -> items, in the order of ``split_sizes``.

    Raises:
        ValueError: ``size`` is not positive, or ``split_sizes`` does not name exactly :data:`SPLITS`.
        RuntimeError: a cell cannot supply enough distinct items for ``size``.
    """
    if not size > 0:
        raise ValueError(f"size must be positive, got {size!r}")
    if set(split_sizes) != set(SPLITS):
        raise ValueError(f"split_sizes must name the splits {list(SPLITS)}, got {list(split_sizes)}")
    seen: set[Hashable] = set()
    drawn_by_split: dict[str, list[Item]] = {}
    for split in GENERATION_ORDER:
        total = max(len(cells), round(split_sizes[split] * size))  # at least one item per cell
        drawn: list[Item] = []
        for index, cell in enumerate(cells):
            quota = total // len(cells) + (1 if index < total % len(cells) else 0)
            drawn += _draw_cell(rng, cell, quota, seen, key, finish, max_draws_per_item)
        rng.shuffle(drawn)
        drawn_by_split[split] = drawn
    return {split: drawn_by_split[split] for split in split_sizes}


def _draw_cell(
    rng: random.Random,
    cell: Cell[Draft],
    quota: int,
    seen: set[Hashable],
    key: Callable[[Draft], Hashable],
    finish: Callable[[Draft, random.Random], Item | None],
    max_draws_per_item: int,
) -> list[Item]:
    drawn: list[Item] = []
    for _ in range(quota * max_draws_per_item):
        if len(drawn) == quota:
            break
        draft = rng.choice(cell.templates)(rng)
        if draft is None:
            continue
        draft_key = key(draft)
        if draft_key in seen:
            continue
        item = finish(draft, rng)
        if item is None:
            continue
        seen.add(draft_key)
        drawn.append(item)
    if len(drawn) < quota:
        raise RuntimeError(f"only {len(drawn)} of {quota} distinct {cell.label} problems; lower size")
    return drawn
