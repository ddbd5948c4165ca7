"""The shared split-drawing loop: even quotas per cell, no repeats, held-out splits first."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from smepo_env.benchmarks.split_quotas import GENERATION_ORDER, SPLITS, Cell, draw_splits

SIZES = {"train": 10, "dev": 3, "test": 5}


def _numbers(label: str, space: int):
    """A template drawing ``label-<n>`` for n below ``space`` (a draft is its own key)."""

    def template(rng: random.Random) -> str:
        return f"{label}-{rng.randrange(space)}"

    return template


def _cells(space: int = 1000) -> list[Cell[str]]:
    return [Cell(label, [_numbers(label, space)]) for label in ("a", "b", "c")]


def _draw(rng_seed: int = 0, sizes=SIZES, size: float = 1.0, cells=None, finish=None, max_draws=50):
    return draw_splits(
        random.Random(rng_seed),
        cells or _cells(),
        sizes,
        size,
        key=lambda draft: draft,
        finish=finish or (lambda draft, _rng: draft),
        max_draws_per_item=max_draws,
    )


def test_each_split_is_spread_evenly_over_the_cells_and_nothing_repeats():
    drawn = _draw()
    assert list(drawn) == list(SIZES)  # the caller's order, not the drawing order
    assert {split: len(items) for split, items in drawn.items()} == SIZES
    per_cell = Counter(item.split("-")[0] for item in drawn["train"])
    assert per_cell == {"a": 4, "b": 3, "c": 3}  # the remainder goes to the first cells
    everything = [item for items in drawn.values() for item in items]
    assert len(everything) == len(set(everything))


def test_a_split_is_shuffled_not_grouped_by_cell():
    labels = [item.split("-")[0] for item in _draw(sizes={"train": 60, "dev": 3, "test": 3})["train"]]
    assert labels != sorted(labels)


def test_held_out_splits_do_not_depend_on_the_training_size():
    assert GENERATION_ORDER[-1] == "train" and set(GENERATION_ORDER) == set(SPLITS)
    small, large = _draw(sizes={**SIZES, "train": 6}), _draw(sizes={**SIZES, "train": 30})
    assert small["test"] == large["test"] and small["dev"] == large["dev"]
    assert small["train"] != large["train"]


def test_size_scales_every_split_but_leaves_each_cell_one_item():
    assert [len(items) for items in _draw(size=2.0).values()] == [20, 6, 10]
    assert all(len(items) == 3 for items in _draw(size=0.01).values())  # one per cell


def test_the_same_generator_state_gives_the_same_draw():
    assert _draw(rng_seed=5) == _draw(rng_seed=5)
    assert _draw(rng_seed=5) != _draw(rng_seed=6)


def test_rejected_drafts_do_not_count_and_are_drawn_again():
    def every_other(rng: random.Random) -> str | None:
        return None if rng.random() < 0.5 else f"x-{rng.randrange(10_000)}"

    rejected: list[str] = []

    def finish(draft: str, rng: random.Random) -> str | None:
        if rng.random() < 0.3:
            rejected.append(draft)
            return None
        return draft.upper()

    drawn = _draw(cells=[Cell("x", [every_other])], finish=finish)
    assert [len(items) for items in drawn.values()] == [10, 3, 5]
    assert rejected and all(item.startswith("X-") for items in drawn.values() for item in items)


def test_a_cell_that_runs_out_of_distinct_items_is_named():
    cells = [Cell("roomy", [_numbers("roomy", 1000)]), Cell("cramped level-3", [_numbers("cramped", 4)])]
    with pytest.raises(RuntimeError, match=r"of \d+ distinct cramped level-3 problems; lower size"):
        _draw(cells=cells)


@pytest.mark.parametrize("size", [0, -1.0, float("nan")])
def test_size_must_be_positive(size):
    with pytest.raises(ValueError, match="size must be positive"):
        _draw(size=size)


def test_split_sizes_must_name_the_three_splits():
    with pytest.raises(ValueError, match="must name the splits"):
        _draw(sizes={"train": 10, "validation": 3, "test": 5})
