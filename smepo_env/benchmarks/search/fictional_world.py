"""The fictional-world benchmark: a generated world no language model has memorized.

People, cities, countries, organizations and works (films, novels, albums) with invented
names, each described by one passage. Many people and works have a look-alike twin whose
name differs by one letter ("Marin Okafor" / "Marin Okafer", "Blue Harbor" / "Blue Harbour")
and different facts, so a policy has to read which passage is about whom. Passages list
several cities and people in shuffled order, so "take the first or last name in the top
passage" does not answer the questions.

Question types (each with the expert's route, see :mod:`smepo_env.benchmarks.search.plans`):

* ``single-hop``: "Where was P born?", "Which organization does P work for?"
* ``two-hop``: "Where was the director of W born?", "In which city is the employer of P
  headquartered?"
* ``comparison``: "Who was born earlier, P1 or P2?"
* ``three-hop``: "In which country was the creator of W born?"

People and works are split into train / dev / test pools before questions are drawn, so a
held-out question's facts about people never appear in a training question. ``size`` scales
every entity count (and so the corpus): 1.0 gives about 4,300 passages and 3,300
questions; about 230 gives a million passages for performance work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval_index.base import Passage
from smepo_env.benchmarks.search.plans import Hop, QuestionPlan

GENERATOR_VERSION = 2
DOMAIN = "search"
BENCHMARK_NAME = "fictional-world"

SPLIT_SHARES = {"train": 0.7, "dev": 0.1, "test": 0.2}
"""Share of people and works in each split's pool (and so of its questions)."""

ENTITY_COUNTS = {"countries": 12, "cities": 150, "organizations": 200, "people": 2000, "works": 800}
"""Entities drawn at size 1.0 (before look-alike twins): about 4,300 passages in all."""
MIN_ENTITY_COUNTS = {"countries": 4, "cities": 20, "organizations": 10, "people": 50, "works": 20}
"""Floors for small sizes, so every pool still has people and works enough to sample questions from."""

PERSON_TWIN_RATE = 0.4
"""Chance that a person gets a look-alike twin (one letter apart): enough distractors to force reading."""
WORK_TWIN_RATE = 0.35
"""Chance that a work gets a look-alike twin."""
THE_TITLE_RATE = 0.3
"""Chance that a work's title is "The <adjective> <noun>" rather than "<adjective> <invented word>"."""
NAME_WORD_SYLLABLES = 2
"""Syllables of the invented word in country, organization and title names."""
CITY_NAME_SYLLABLES = (1, 2)
"""Syllable counts a city name is drawn from."""
FIRST_NAME_SYLLABLES = (1, 2)
"""Syllable counts a first name is drawn from."""
LAST_NAME_SYLLABLES = (2, 3)
"""Syllable counts a last name is drawn from (long enough for a one-vowel look-alike)."""
MAX_NAME_ATTEMPTS = 1000
"""Draws of a fresh invented name before the name space counts as exhausted."""

CITY_POPULATION_THOUSANDS = (8, 900)
"""City populations, in thousands (randrange bounds: a small town to a large city)."""
CITY_FOUNDED_YEARS = (900, 1900)
"""Founding years of cities."""
ORGANIZATION_FOUNDED_YEARS = (1850, 2015)
"""Founding years of organizations."""
BIRTH_YEARS = (1900, 2000)
"""Birth years of people; a comparison question with equal years is skipped."""
WORK_YEARS = (1930, 2024)
"""Release years of works."""

QUESTION_QUOTAS = {"single-hop": 1100, "two-hop": 950, "comparison": 650, "three-hop": 650}
"""Questions per type drawn at size 1.0 over all splits."""
PEOPLE_AT_FULL_SIZE = 2800
"""People in the size-1.0 world (2,000 drawn and about 40% twins): question quotas scale with
the people a world has relative to this."""
MIN_QUOTA_SCALE = 0.05
"""Floor of that scale, so a tiny world is not asked for almost no questions."""
MIN_QUESTIONS_PER_TYPE = 2
"""Every split asks at least this many questions of each type, however small the world."""
BIRTH_QUESTION_SHARE = 0.6
"""Share of single-hop questions that ask a birthplace (the rest ask an employer)."""

_ONSETS = ["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr"]
_ONSETS += ["st", "th", "tr", "sh", "ch", "vr", "j", "w", "y", "sk", "pl", "fl"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou", "ae"]
_CODAS = ["", "", "", "n", "r", "l", "s", "m", "k", "th", "nd", "rk", "st"]
_COUNTRY_SUFFIXES = ["ia", "an", "or", "e"]
_WORK_ADJECTIVES = ["Silent", "Blue", "Hollow", "Crimson", "Northern", "Broken", "Golden", "Quiet", "Distant"]
_WORK_ADJECTIVES += ["Frozen", "Burning", "Hidden", "Last", "Wandering", "Pale", "Iron", "Velvet", "Salt"]
_WORK_NOUNS = ["Harbor", "Orchard", "River", "Lantern", "Garden", "Mirror", "Tower", "Meadow", "Valley"]
_WORK_NOUNS += ["Station", "Bridge", "Horizon", "Archive", "Compass", "Harvest", "Shore", "Winter", "Signal"]
_OCCUPATIONS = [
    "painter",
    "engineer",
    "physician",
    "architect",
    "chemist",
    "journalist",
    "sculptor",
    "botanist",
]
_OCCUPATIONS += ["economist", "historian", "poet", "pianist", "surveyor", "astronomer"]
_ORG_KINDS = [
    ("Studios", "film studio"),
    ("Institute", "research institute"),
    ("Works", "manufacturing company"),
]
_ORG_KINDS += [("Press", "publishing house"), ("Bank", "bank"), ("Foundation", "charitable foundation")]
_WORK_KINDS = [
    ("film", "directed", "director"),
    ("novel", "written", "author"),
    ("album", "recorded", "creator"),
]


@dataclass
class Country:
    name: str
    capital: str = ""
    neighbor: str = ""


@dataclass
class City:
    name: str
    country: str
    population: int
    founded: int
    near: str = ""


@dataclass
class Organization:
    name: str
    kind: str
    hq_city: str
    office_city: str
    founded: int


@dataclass
class Person:
    name: str
    last: str
    occupation: str
    birth_city: str
    birth_year: int
    study_city: str
    home_city: str
    employer: str
    pool: str


@dataclass
class Work:
    title: str
    kind: str
    verb: str
    role: str
    creator: str
    year: int
    city: str
    featured: str
    pool: str


@dataclass
class World:
    countries: list[Country]
    cities: list[City]
    organizations: list[Organization]
    people: list[Person]
    works: list[Work]


class _NameMaker:
    """Unique invented names and one-letter look-alikes of them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self, syllables: int) -> str:
        parts = [self.rng.choice(_ONSETS) + self.rng.choice(_VOWELS) for _ in range(syllables)]
        return ("".join(parts) + self.rng.choice(_CODAS)).capitalize()

    def unique(self, make) -> str:  # type: ignore[no-untyped-def]
        for _ in range(MAX_NAME_ATTEMPTS):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted; lower the world size")

    def look_alike(self, name: str) -> str | None:
        """Change one vowel of the last word ("Okafor" -> "Okafer"); None if no free variant."""
        head, _, last = name.rpartition(" ")
        positions = [i for i, ch in enumerate(last) if ch in "aeiou" and i > 0]
        self.rng.shuffle(positions)
        for i in positions:
            for vowel in self.rng.sample("aeiou", 5):
                if vowel == last[i]:
                    continue
                candidate = (head + " " if head else "") + last[:i] + vowel + last[i + 1 :]
                if candidate not in self.used:
                    self.used.add(candidate)
                    return candidate
        return None


def _person_name(names: _NameMaker) -> str:
    first = names.word(names.rng.choice(FIRST_NAME_SYLLABLES))
    return f"{first} {names.word(names.rng.choice(LAST_NAME_SYLLABLES))}"


def _pool(rng: random.Random) -> str:
    draw = rng.random()
    return "train" if draw < SPLIT_SHARES["train"] else "dev" if draw < 1 - SPLIT_SHARES["test"] else "test"


def build_world(size: float = 1.0, seed: int = 0) -> World:
    """Generate the world deterministically from ``size`` and ``seed``."""
    if not size > 0:
        raise ValueError(f"size must be positive, got {size!r}")
    rng = random.Random(f"{BENCHMARK_NAME}-{GENERATOR_VERSION}-{seed}")
    names = _NameMaker(rng)
    n_countries, n_cities, n_orgs, n_people, n_works = (
        max(MIN_ENTITY_COUNTS[kind], round(ENTITY_COUNTS[kind] * size)) for kind in ENTITY_COUNTS
    )

    countries = [
        Country(names.unique(lambda: names.word(NAME_WORD_SYLLABLES) + rng.choice(_COUNTRY_SUFFIXES)))
        for _ in range(n_countries)
    ]
    cities = []
    for _ in range(n_cities):
        country = rng.choice(countries)
        cities.append(
            City(
                names.unique(lambda: names.word(rng.choice(CITY_NAME_SYLLABLES))),
                country.name,
                rng.randrange(*CITY_POPULATION_THOUSANDS) * 1000,
                rng.randrange(*CITY_FOUNDED_YEARS),
            )
        )
    by_country: dict[str, list[City]] = {}
    for city in cities:
        by_country.setdefault(city.country, []).append(city)
        city.near = rng.choice(cities).name
    for country in countries:
        members = by_country.setdefault(country.name, [])
        if not members:  # every country gets at least one city
            city = City(
                names.unique(lambda: names.word(CITY_NAME_SYLLABLES[-1])),
                country.name,
                rng.randrange(*CITY_POPULATION_THOUSANDS) * 1000,
                rng.randrange(*CITY_FOUNDED_YEARS),
                rng.choice(cities).name,
            )
            cities.append(city)
            members.append(city)
        country.capital = rng.choice(members).name
        country.neighbor = rng.choice([c for c in countries if c is not country]).name

    organizations = []
    for _ in range(n_orgs):
        suffix, kind = rng.choice(_ORG_KINDS)
        name = names.unique(lambda suffix=suffix: f"{names.word(NAME_WORD_SYLLABLES)} {suffix}")
        hq, office = rng.sample(cities, 2)
        organizations.append(
            Organization(name, kind, hq.name, office.name, rng.randrange(*ORGANIZATION_FOUNDED_YEARS))
        )

    def new_person(name: str, pool: str) -> Person:
        birth, study, home = rng.sample(cities, 3)
        return Person(
            name,
            name.split()[-1],
            rng.choice(_OCCUPATIONS),
            birth.name,
            rng.randrange(*BIRTH_YEARS),
            study.name,
            home.name,
            rng.choice(organizations).name,
            pool,
        )

    people = []
    for _ in range(n_people):
        pool = _pool(rng)
        person = new_person(names.unique(lambda: _person_name(names)), pool)
        people.append(person)
        if rng.random() < PERSON_TWIN_RATE and (twin := names.look_alike(person.name)):
            people.append(new_person(twin, pool))

    works = []
    by_pool: dict[str, list[Person]] = {}
    for person in people:
        by_pool.setdefault(person.pool, []).append(person)

    def new_work(title: str, kind: tuple[str, str, str], pool: str) -> Work:
        creator, featured = rng.sample(by_pool[pool], 2)
        year, city = rng.randrange(*WORK_YEARS), rng.choice(cities).name
        return Work(title, *kind, creator.name, year, city, featured.name, pool)

    for _ in range(n_works):
        pool = _pool(rng)
        kind, verb, role = rng.choice(_WORK_KINDS)
        title = names.unique(
            lambda: (
                f"The {rng.choice(_WORK_ADJECTIVES)} {rng.choice(_WORK_NOUNS)}"
                if rng.random() < THE_TITLE_RATE
                else f"{rng.choice(_WORK_ADJECTIVES)} {names.word(NAME_WORD_SYLLABLES)}"
            )
        )
        works.append(new_work(title, (kind, verb, role), pool))
        if rng.random() < WORK_TWIN_RATE and (twin_title := names.look_alike(title)):
            works.append(new_work(twin_title, rng.choice(_WORK_KINDS), pool))
    return World(countries, cities, organizations, people, works)


def _shuffled(rng: random.Random, first: str, rest: list[str]) -> str:
    rng.shuffle(rest)
    return " ".join([first, *rest])


def world_passages(world: World, seed: int = 0) -> list[Passage]:
    """One passage per entity, sentences after the first in a seeded random order."""
    rng = random.Random(f"fictional-passages-{GENERATOR_VERSION}-{seed}")
    passages = []
    for i, p in enumerate(world.people):
        text = _shuffled(
            rng,
            f"{p.name} is a {p.occupation}.",
            [
                f"{p.name} was born in {p.birth_city} in {p.birth_year}.",
                f"{p.last} studied in {p.study_city} and now lives in {p.home_city}.",
                f"{p.last} works for {p.employer}.",
            ],
        )
        passages.append(Passage(f"person-{i}", p.name, text))
    for i, w in enumerate(world.works):
        text = _shuffled(
            rng,
            f"{w.title} is a {w.year} {w.kind} {w.verb} by {w.creator}.",
            [
                f"It was produced in {w.city}.",
                f"The {w.kind} features {w.featured}.",
            ],
        )
        passages.append(Passage(f"work-{i}", w.title, text))
    for i, c in enumerate(world.cities):
        text = _shuffled(
            rng,
            f"{c.name} is a city in {c.country}.",
            [
                f"It has about {c.population:,} inhabitants.",
                f"{c.name} was founded in {c.founded} and lies near {c.near}.",
            ],
        )
        passages.append(Passage(f"city-{i}", c.name, text))
    for i, k in enumerate(world.countries):
        text = f"{k.name} is a country whose capital is {k.capital}. {k.name} borders {k.neighbor}."
        passages.append(Passage(f"country-{i}", k.name, text))
    for i, o in enumerate(world.organizations):
        text = _shuffled(
            rng,
            f"{o.name} is a {o.kind} founded in {o.founded}.",
            [
                f"Its headquarters are in {o.hq_city}.",
                f"It also has an office in {o.office_city}.",
            ],
        )
        passages.append(Passage(f"org-{i}", o.name, text))
    return passages


def _aliases(name: str) -> tuple[str, ...]:
    return (name,)


def question_plans(world: World, seed: int = 0) -> dict[str, list[QuestionPlan]]:
    """Draw the questions of every split, with their expert routes."""
    rng = random.Random(f"fictional-questions-{GENERATOR_VERSION}-{seed}")
    pid = {p.name: f"person-{i}" for i, p in enumerate(world.people)}
    wid = {w.title: f"work-{i}" for i, w in enumerate(world.works)}
    cid = {c.name: f"city-{i}" for i, c in enumerate(world.cities)}
    oid = {o.name: f"org-{i}" for i, o in enumerate(world.organizations)}
    person = {p.name: p for p in world.people}
    org = {o.name: o for o in world.organizations}
    city = {c.name: c for c in world.cities}

    def birth_hop(p: Person, kind: str, plan: str) -> Hop:
        return Hop(
            plan,
            f"{p.name} born",
            pid[p.name],
            f"{p.name} was born in {p.birth_city}",
            p.birth_city,
            kind,
            f"{p.name} was born in {p.birth_city}.",
            (p.name, f"where was {p.name} born"),
        )

    def work_hop(w: Work) -> Hop:
        return Hop(
            f"First I need to find the {w.role} of the {w.kind} {w.title}.",
            f"{w.title} {w.kind} {w.verb} by",
            wid[w.title],
            f"{w.verb} by {w.creator}",
            w.creator,
            "bridge",
            f"{w.title} was {w.verb} by {w.creator}.",
            (w.title,),
        )

    plans: dict[str, list[QuestionPlan]] = {split: [] for split in SPLIT_SHARES}
    scale = max(len(world.people) / PEOPLE_AT_FULL_SIZE, MIN_QUOTA_SCALE)
    for split, share in SPLIT_SHARES.items():
        pool_people = [p for p in world.people if p.pool == split]
        pool_works = [w for w in world.works if w.pool == split]
        n = {
            kind: max(MIN_QUESTIONS_PER_TYPE, round(count * share * min(scale, 1.0)))
            for kind, count in QUESTION_QUOTAS.items()
        }
        out = plans[split]
        for p in rng.sample(pool_people, min(n["single-hop"], len(pool_people))):
            if rng.random() < BIRTH_QUESTION_SHARE:
                hop = birth_hop(p, "answer", f"I need to find where {p.name} was born.")
                out.append(
                    QuestionPlan(
                        f"Where was {p.name} born?",
                        _aliases(p.birth_city),
                        "single-hop",
                        (hop,),
                        f"So the answer is {p.birth_city}.",
                    )
                )
            else:
                hop = Hop(
                    f"I need to find which organization {p.name} works for.",
                    f"{p.name} works for",
                    pid[p.name],
                    f"{p.last} works for {p.employer}",
                    p.employer,
                    "answer",
                    f"{p.name} works for {p.employer}.",
                    (p.name,),
                )
                out.append(
                    QuestionPlan(
                        f"Which organization does {p.name} work for?",
                        _aliases(p.employer),
                        "single-hop",
                        (hop,),
                        f"So the answer is {p.employer}.",
                    )
                )
        half = n["two-hop"] // 2
        for w in rng.sample(pool_works, min(half, len(pool_works))):
            creator = person[w.creator]
            hops = (
                work_hop(w),
                birth_hop(creator, "answer", f"Now I need to find where {creator.name} was born."),
            )
            out.append(
                QuestionPlan(
                    f"Where was the {w.role} of the {w.kind} {w.title} born?",
                    _aliases(creator.birth_city),
                    "two-hop",
                    hops,
                    f"So the answer is {creator.birth_city}.",
                )
            )
        for p in rng.sample(pool_people, min(n["two-hop"] - half, len(pool_people))):
            o = org[p.employer]
            hops = (
                Hop(
                    f"First I need to find the employer of {p.name}.",
                    f"{p.name} works for",
                    pid[p.name],
                    f"{p.last} works for {o.name}",
                    o.name,
                    "bridge",
                    f"{p.name} works for {o.name}.",
                    (p.name,),
                ),
                Hop(
                    f"Now I need to find where {o.name} has its headquarters.",
                    f"{o.name} headquarters",
                    oid[o.name],
                    f"headquarters are in {o.hq_city}",
                    o.hq_city,
                    "answer",
                    f"The headquarters of {o.name} are in {o.hq_city}.",
                    (o.name,),
                ),
            )
            out.append(
                QuestionPlan(
                    f"In which city is the headquarters of the organization {p.name} works for?",
                    _aliases(o.hq_city),
                    "two-hop",
                    hops,
                    f"So the answer is {o.hq_city}.",
                )
            )
        for _ in range(n["comparison"]):
            a, b = rng.sample(pool_people, 2)
            if a.birth_year == b.birth_year:
                continue
            earlier = a if a.birth_year < b.birth_year else b
            hops = tuple(
                Hop(
                    f"I need the birth year of {p.name}.",
                    f"{p.name} born",
                    pid[p.name],
                    f"{p.name} was born in {p.birth_city} in {p.birth_year}",
                    str(p.birth_year),
                    "value",
                    f"{p.name} was born in {p.birth_year}.",
                    (p.name,),
                )
                for p in (a, b)
            )
            out.append(
                QuestionPlan(
                    f"Who was born earlier, {a.name} or {b.name}?",
                    _aliases(earlier.name),
                    "comparison",
                    hops,
                    f"{a.birth_year} {'is before' if a is earlier else 'is after'} {b.birth_year}, "
                    f"so the answer is {earlier.name}.",
                )
            )
        for w in rng.sample(pool_works, min(n["three-hop"], len(pool_works))):
            creator = person[w.creator]
            birth = city[creator.birth_city]
            hops = (
                work_hop(w),
                birth_hop(creator, "bridge", f"Now I need to find where {creator.name} was born."),
                Hop(
                    f"Now I need to find which country {birth.name} is in.",
                    f"{birth.name} city country",
                    cid[birth.name],
                    f"{birth.name} is a city in {birth.country}",
                    birth.country,
                    "answer",
                    f"{birth.name} is a city in {birth.country}.",
                    (birth.name,),
                ),
            )
            out.append(
                QuestionPlan(
                    f"In which country was the {w.role} of the {w.kind} {w.title} born?",
                    _aliases(birth.country),
                    "three-hop",
                    hops,
                    f"So the answer is {birth.country}.",
                )
            )
        rng.shuffle(out)  # mixed types, so the first N questions of a split are a fair sample
    return plans


def generate(size: float = 1.0, seed: int = 0) -> tuple[list[Passage], dict[str, list[QuestionPlan]]]:
    """The benchmark's corpus and its question plans by split."""
    world = build_world(size, seed)
    return world_passages(world, seed), question_plans(world, seed)


def build(directory: Path, size: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Build the benchmark's files into ``directory`` (see :mod:`smepo_env.benchmarks.cache`)."""
    from smepo_env.benchmarks.search.build import build_search_benchmark

    passages, plans = generate(size, seed)
    return build_search_benchmark(Path(directory), BENCHMARK_NAME, passages, plans)
