"""The world-facts questions and the scripted expert's route for each.

Question types (hops in brackets):

* ``single-hop``: "What is the capital of Peru?" [country], "In which country is the city of
  Lyon?" [city], also currencies, populations and parts of the world.
* ``two-hop``: "What currency is used in the country where the city of Lyon lies?"
  [city -> country], "How many inhabitants does the capital of Peru have?" [country -> capital].
* ``comparison``: "Which city has more inhabitants, A or B?" [A, B], also countries by
  population and by area.
* ``three-hop``: "How many inhabitants does the capital of the country where the city of X is
  located have?" [city -> country -> capital].

A question only names a city whose name no other city of the data set shares, that is not a
capital and that is not also a country's name, so every question has one answer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from smepo_env.benchmarks.search.plans import Hop, QuestionPlan
from smepo_env.benchmarks.search.world_facts_data import (
    CityFacts,
    CountryFacts,
    WorldFacts,
    ascii_fold,
    name_key,
)
from smepo_env.benchmarks.search.world_facts_passages import (
    city_intro,
    city_population,
    country_area,
    country_capital,
    country_currency,
    country_intro,
    country_population,
    the,
)

QUESTION_QUOTAS = {"single-hop": 1100, "two-hop": 950, "comparison": 650, "three-hop": 650}
"""Questions per type drawn at size 1.0 over all splits (before unsupported ones are dropped)."""

MAX_ATTEMPTS_PER_QUESTION = 20
"""Draws allowed per wanted question of a type before the split settles for fewer (a small
pool runs out of distinct questions)."""

COUNTRY_FACTS = ("capital", "currency", "population", "region")

_Route = tuple[Callable[[CountryFacts], str], Callable[[CountryFacts], str], tuple[str, ...]]
# fact -> (the sentence stating it, the value found, the expert's queries: first choice, then fallbacks)
_COUNTRY_FACT_ROUTES: dict[str, _Route] = {
    "capital": (country_capital, lambda c: c.capital or "", ("capital of {}", "{} capital city", "{}")),
    "currency": (country_currency, lambda c: c.currency_name, ("{} currency", "currency of {}", "{}")),
    "population": (country_population, lambda c: f"{c.population:,}", ("{} population", "{} country", "{}")),
    "area": (country_area, lambda c: f"{c.area_km2:,}", ("{} area square kilometres", "{} area", "{}")),
    "region": (country_intro, lambda c: c.part_of_world, ("{} country region", "{} country", "{}")),
}
_ASK_COUNTRY = {
    "capital": "What is the capital of {}?",
    "currency": "What currency is used in {}?",
    "population": "How many people live in {}?",
    "region": "In which part of the world (UN geoscheme subregion) is {}?",
}
_ASK_CITY_COUNTRY = {
    "capital": "What is the capital of the country where the city of {} is located?",
    "currency": "What currency is used in the country where the city of {} lies?",
    "population": "How many people live in the country where the city of {} is located?",
    "region": "In which part of the world (UN geoscheme subregion) is the country containing the city of {}?",
}
_ASK_THREE_HOP = (
    "How many inhabitants does the capital of the country where the city of {} is located have?",
    "What is the population of the capital of the country in which the city of {} is located?",
)


def _numbers(value: int) -> tuple[str, ...]:
    return (f"{value:,}", str(value))


def _population(country: CountryFacts) -> int:
    return country.population


def _area(country: CountryFacts) -> int:
    return country.area_km2


def _names(name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((name, ascii_fold(name))))


def country_answers(country: CountryFacts, fact: str) -> tuple[str, ...]:
    """The gold answers for ``fact`` of ``country``, the expert's answer first."""
    if fact == "capital":
        return country.capital_aliases
    if fact == "currency":
        demonym = (f"{country.demonym} {country.currency_name}",) if country.demonym else ()
        return (
            country.currency_name,
            country.currency_code,
            *demonym,
            f"{country.name} {country.currency_name}",
        )
    if fact == "population":
        return _numbers(country.population)
    if fact == "area":
        return (*_numbers(country.area_km2), f"{country.area_km2:,} square kilometres")
    return (country.part_of_world,)


def is_question_city(
    city: CityFacts, facts: WorldFacts, capital_ids: set[int], country_keys: set[str]
) -> bool:
    """Whether a question may name ``city``: unique name, no digits, not a capital or a country's name."""
    return (
        city.population > 0
        and facts.is_unique_city_name(city.name)
        and not re.search(r"\d", city.name)
        and city.id not in capital_ids
        and name_key(city.name) not in country_keys
    )


def city_country_hop(city: CityFacts, kind: str, plan: str) -> Hop:
    """Find the country of ``city`` in its passage."""
    return Hop(
        plan,
        f"{city.name} city",
        f"city-{city.id}",
        city_intro(city),
        city.country_name,
        kind,
        f"{city.name} is in {the(city.country_name)}.",
        (city.name, f"city of {city.name}", f"{city.name} population"),
    )


def city_population_hop(city: CityFacts, kind: str, plan: str, country: str = "") -> Hop:
    """Find the population of ``city``; ``country`` goes into the query when the expert knows it."""
    place = f"{city.name} {country}".strip()
    return Hop(
        plan,
        f"{place} population",
        f"city-{city.id}",
        city_population(city),
        f"{city.population:,}",
        kind,
        f"{city_population(city)}.",
        (place, f"{city.name} inhabitants", f"{city.name} city"),
    )


def country_hop(country: CountryFacts, fact: str, kind: str, plan: str) -> Hop:
    """Find ``fact`` (a key of the fact table: capital, currency, ...) in ``country``'s passage."""
    sentence_of, finding_of, queries = _COUNTRY_FACT_ROUTES[fact]
    sentence = sentence_of(country)
    query, *fallbacks = (q.format(country.name) for q in queries)
    return Hop(
        plan,
        query,
        f"country-{country.code}",
        sentence,
        finding_of(country),
        kind,
        f"{sentence}.",
        tuple(fallbacks),
    )


class QuestionWriter:
    """Draws the question plans of one split from that split's countries and cities.

    Args:
        facts: all facts (for looking up capitals' cities).
        countries: the split's countries.
        cities: the split's question cities (see :func:`is_question_city`).
        corpus_city_ids: ids of the cities that have a passage.
        rng: the split's random generator.
    """

    def __init__(
        self,
        facts: WorldFacts,
        countries: list[CountryFacts],
        cities: list[CityFacts],
        corpus_city_ids: set[int],
        rng: random.Random,
    ) -> None:
        self.rng = rng
        self.countries = countries
        self.city_by_id = {c.id: c for c in facts.cities}
        self.country_by_code = {c.code: c for c in facts.countries}
        self.cities_by_country: dict[str, list[CityFacts]] = {}
        for city in cities:
            self.cities_by_country.setdefault(city.country_code, []).append(city)
        self.with_capital = [c for c in countries if c.capital]
        self.with_capital_city = [c for c in countries if c.capital_city_id in corpus_city_ids]

    def random_city(self, countries: list[CountryFacts] | None = None) -> CityFacts | None:
        """A question city: a random country (one that has some) first, then one of its cities."""
        pool = [c for c in countries or self.countries if c.code in self.cities_by_country]
        return self.rng.choice(self.cities_by_country[self.rng.choice(pool).code]) if pool else None

    def single_hop(self) -> QuestionPlan | None:
        """One search: a fact of a country, or a city's country or population."""
        fact = self.rng.choice([*COUNTRY_FACTS, "city-country", "city-population"])
        if fact in COUNTRY_FACTS:
            country = self.rng.choice(self.with_capital if fact == "capital" else self.countries)
            hop = country_hop(country, fact, "answer", f"I need to find the {fact} of {the(country.name)}.")
            answers = country_answers(country, fact)
            return QuestionPlan(
                _ASK_COUNTRY[fact].format(the(country.name)),
                answers,
                "single-hop",
                (hop,),
                f"So the answer is {answers[0]}.",
            )
        city = self.random_city()
        if city is None:
            return None
        if fact == "city-country":
            hop = city_country_hop(city, "answer", f"I need to find which country {city.name} is in.")
            return QuestionPlan(
                f"In which country is the city of {city.name}?",
                self.country_by_code[city.country_code].aliases,
                "single-hop",
                (hop,),
                f"So the answer is {city.country_name}.",
            )
        hop = city_population_hop(city, "answer", f"I need to find the population of {city.name}.")
        return QuestionPlan(
            f"How many inhabitants does the city of {city.name} have?",
            _numbers(city.population),
            "single-hop",
            (hop,),
            f"So the answer is {city.population:,}.",
        )

    def two_hop(self) -> QuestionPlan | None:
        """City -> its country -> a fact of the country, or country -> capital -> its population."""
        fact = self.rng.choice([*COUNTRY_FACTS, "capital-population"])
        if fact == "capital-population":
            if not self.with_capital_city:
                return None
            country = self.rng.choice(self.with_capital_city)
            capital = self.city_by_id[country.capital_city_id]  # type: ignore[index]
            hops = (
                country_hop(
                    country, "capital", "bridge", f"First I need to find the capital of {the(country.name)}."
                ),
                city_population_hop(
                    capital, "answer", f"Now I need to find the population of {capital.name}.", country.name
                ),
            )
            return QuestionPlan(
                f"How many inhabitants does the capital of {the(country.name)} have?",
                _numbers(capital.population),
                "two-hop",
                hops,
                f"So the answer is {capital.population:,}.",
            )
        city = self.random_city(self.with_capital if fact == "capital" else None)
        if city is None:
            return None
        country = self.country_by_code[city.country_code]
        hops = (
            city_country_hop(city, "bridge", f"First I need to find which country {city.name} is in."),
            country_hop(country, fact, "answer", f"Now I need to find the {fact} of {the(country.name)}."),
        )
        answers = country_answers(country, fact)
        return QuestionPlan(
            _ASK_CITY_COUNTRY[fact].format(city.name),
            answers,
            "two-hop",
            hops,
            f"So the answer is {answers[0]}.",
        )

    def comparison(self) -> QuestionPlan | None:
        """Two lookups of a number: cities by population, countries by population or by area."""
        kind = self.rng.choice(["city-population", "country-population", "country-area"])
        if kind == "city-population":
            first, second = self.random_city(), self.random_city()
            if first is None or second is None or first.population == second.population:
                return None
            hops = tuple(
                city_population_hop(c, "value", f"I need the population of {c.name}.")
                for c in (first, second)
            )
            values = (first.population, second.population)
            winner_name = max(first, second, key=lambda c: c.population).name
            question, answers = (
                f"Which city has more inhabitants, {first.name} or {second.name}?",
                _names(winner_name),
            )
        else:
            fact = kind.removeprefix("country-")
            a, b = self.rng.sample(self.countries, 2)
            value = _population if fact == "population" else _area
            if value(a) == value(b) or not value(a) or not value(b):
                return None
            hops = tuple(
                country_hop(c, fact, "value", f"I need the {fact} of {the(c.name)}.") for c in (a, b)
            )
            values = (value(a), value(b))
            winner = max(a, b, key=value)
            winner_name, answers = winner.name, winner.aliases
            asked = "has more inhabitants" if fact == "population" else "is larger by area"
            question = f"Which country {asked}, {the(a.name)} or {the(b.name)}?"
        relation = "more than" if values[0] > values[1] else "less than"
        reasoning = f"{values[0]:,} is {relation} {values[1]:,}, so the answer is {winner_name}."
        return QuestionPlan(question, answers, "comparison", hops, reasoning)

    def three_hop(self) -> QuestionPlan | None:
        """City -> its country -> the country's capital -> the capital's population."""
        city = self.random_city(self.with_capital_city)
        if city is None:
            return None
        country = self.country_by_code[city.country_code]
        capital = self.city_by_id[country.capital_city_id]  # type: ignore[index]
        hops = (
            city_country_hop(city, "bridge", f"First I need to find which country {city.name} is in."),
            country_hop(
                country, "capital", "bridge", f"Now I need to find the capital of {the(country.name)}."
            ),
            city_population_hop(
                capital, "answer", f"Now I need to find the population of {capital.name}.", country.name
            ),
        )
        question = self.rng.choice(_ASK_THREE_HOP).format(city.name)
        return QuestionPlan(
            question,
            _numbers(capital.population),
            "three-hop",
            hops,
            f"So the answer is {capital.population:,}.",
        )

    def draw(self, counts: dict[str, int]) -> list[QuestionPlan]:
        """Draw ``counts[type]`` distinct questions of each type (fewer if the pool runs out), shuffled."""
        makers = {
            "single-hop": self.single_hop,
            "two-hop": self.two_hop,
            "comparison": self.comparison,
            "three-hop": self.three_hop,
        }
        plans: list[QuestionPlan] = []
        seen: set[str] = set()
        for question_type, count in counts.items():
            made, attempts = 0, 0
            while made < count and attempts < MAX_ATTEMPTS_PER_QUESTION * count:
                attempts += 1
                plan = makers[question_type]()
                if plan is not None and plan.question not in seen:
                    seen.add(plan.question)
                    plans.append(plan)
                    made += 1
        self.rng.shuffle(plans)  # mixed types, so the first N questions of a split are a fair sample
        return plans
