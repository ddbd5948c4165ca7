"""The world-facts questions and the scripted expert's route for each.

Question types (hops in brackets):

* ``single-hop``: "What is the capital of Peru?" [country], "In which country is the city of
  Lyon?" [city], also currencies, populations and parts of the world.
* ``two-hop``: "What currency is used in the country where the city of Lyon is located?"
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

from smepo_env.benchmarks.plans import Hop, QuestionPlan
from smepo_env.benchmarks.world_facts_data import CityFacts, CountryFacts, WorldFacts, ascii_fold
from smepo_env.benchmarks.world_facts_text import (
    city_intro,
    city_population,
    country_area,
    country_capital,
    country_currency,
    country_intro,
    country_population,
    the,
)

QUOTAS = {"single-hop": 1100, "two-hop": 950, "comparison": 650, "three-hop": 650}
"""Questions per type drawn at size 1.0 over all splits (before unsupported ones are dropped)."""


def _numbers(value: int) -> tuple[str, ...]:
    return (f"{value:,}", str(value))


class QuestionWriter:
    """Writes the question plans of one split from that split's countries and cities.

    Args:
        facts: all facts (for looking up capitals' cities).
        countries: the split's countries.
        cities: the split's question cities (unambiguous names, in the corpus).
        corpus_city_ids: ids of the cities that have a passage.
        rng: the split's random generator.
    """

    def __init__(self, facts: WorldFacts, countries: list[CountryFacts], cities: list[CityFacts],
                 corpus_city_ids: set[int], rng: random.Random) -> None:
        self.rng = rng
        self.countries = countries
        self.city_by_id = {c.id: c for c in facts.cities}
        self.country_by_code = {c.code: c for c in facts.countries}
        by_country: dict[str, list[CityFacts]] = {}
        for city in cities:
            by_country.setdefault(city.country_code, []).append(city)
        self.cities_by_country = by_country
        self.with_capital = [c for c in countries if c.capital]
        self.with_capital_city = [c for c in countries if c.capital_city_id in corpus_city_ids]
        self.with_area = [c for c in countries if c.area_km2]

    # -- hops ---------------------------------------------------------------------------------

    def city_country_hop(self, city: CityFacts, kind: str, plan: str) -> Hop:
        """Find the country of ``city`` from its passage."""
        return Hop(plan, f"{city.name} city", f"city-{city.id}", city_intro(city), city.country_name, kind,
                   f"{city.name} is in {the(city.country_name)}.",
                   (city.name, f"city of {city.name}", f"{city.name} population"))

    def city_population_hop(self, city: CityFacts, kind: str, plan: str, country: str = "") -> Hop:
        """Find the population of ``city``; ``country`` names it in the query when known."""
        place = f"{city.name} {country}".strip()
        return Hop(plan, f"{place} population", f"city-{city.id}", city_population(city), f"{city.population:,}", kind,
                   f"{city_population(city)}.", (place, f"{city.name} inhabitants", f"{city.name} city {country}".strip()))

    def country_hop(self, country: CountryFacts, fact: str, kind: str, plan: str) -> Hop:
        """Find ``fact`` (capital, currency, population, area, region) in ``country``'s passage."""
        name = country.name
        evidence, finding, queries = {
            "capital": (country_capital, country.capital, (f"capital of {name}", f"{name} capital city", name)),
            "currency": (country_currency, country.currency_name, (f"{name} currency", f"currency of {name}", name)),
            "population": (country_population, f"{country.population:,}", (f"{name} population", f"{name} country", name)),
            "area": (country_area, f"{country.area_km2:,}", (f"{name} area square kilometres", f"{name} area", name)),
            "region": (country_intro, country.part_of_world, (f"{name} country region", f"{name} country", name)),
        }[fact]
        sentence = evidence(country)
        return Hop(plan, queries[0], f"country-{country.code}", sentence, str(finding), kind, f"{sentence}.", queries[1:])

    def answers(self, country: CountryFacts, fact: str) -> tuple[str, ...]:
        """The gold answers for ``fact`` of ``country``, the expert's answer first."""
        if fact == "capital":
            return country.capital_aliases
        if fact == "currency":
            names = [country.currency_name, country.currency_code, f"{country.name} {country.currency_name}"]
            if country.demonym:
                names.insert(2, f"{country.demonym} {country.currency_name}")
            return tuple(names)
        if fact == "population":
            return _numbers(country.population)
        if fact == "area":
            return (*_numbers(country.area_km2), f"{country.area_km2:,} square kilometres")
        return (country.part_of_world,)

    # -- drawing subjects ---------------------------------------------------------------------

    def random_city(self, countries: list[CountryFacts] | None = None) -> CityFacts | None:
        """A question city: a random country (that has some) first, then one of its cities."""
        pool = [c for c in countries or self.countries if c.code in self.cities_by_country]
        if not pool:
            return None
        return self.rng.choice(self.cities_by_country[self.rng.choice(pool).code])

    # -- question types -----------------------------------------------------------------------

    def single_hop(self) -> QuestionPlan | None:
        """One search: a fact of a country, or a city's country or population."""
        fact = self.rng.choice(["capital", "currency", "population", "region", "city-country", "city-population"])
        if fact.startswith("city-"):
            city = self.random_city()
            if city is None:
                return None
            if fact == "city-country":
                hop = self.city_country_hop(city, "answer", f"I need to find which country {city.name} is in.")
                answers = self.country_by_code[city.country_code].aliases if city.country_code in self.country_by_code else (city.country_name,)
                return QuestionPlan(f"In which country is the city of {city.name}?", answers, "single-hop", (hop,),
                                    f"So the answer is {city.country_name}.")
            hop = self.city_population_hop(city, "answer", f"I need to find the population of {city.name}.")
            return QuestionPlan(f"How many inhabitants does the city of {city.name} have?", _numbers(city.population),
                                "single-hop", (hop,), f"So the answer is {city.population:,}.")
        countries = self.with_capital if fact == "capital" else self.countries
        country = self.rng.choice(countries)
        question = {
            "capital": f"What is the capital of {the(country.name)}?",
            "currency": f"What currency is used in {the(country.name)}?",
            "population": f"How many people live in {the(country.name)}?",
            "region": f"In which part of the world (UN geoscheme subregion) is {the(country.name)}?",
        }[fact]
        hop = self.country_hop(country, fact, "answer", f"I need to find the {fact} of {the(country.name)}.")
        answers = self.answers(country, fact)
        return QuestionPlan(question, answers, "single-hop", (hop,), f"So the answer is {answers[0]}.")

    def two_hop(self) -> QuestionPlan | None:
        """City -> its country -> a fact of the country, or country -> capital -> its population."""
        fact = self.rng.choice(["capital", "currency", "population", "region", "capital-population"])
        if fact == "capital-population":
            if not self.with_capital_city:
                return None
            country = self.rng.choice(self.with_capital_city)
            capital = self.city_by_id[country.capital_city_id]  # type: ignore[index]
            hops = (
                self.country_hop(country, "capital", "bridge", f"First I need to find the capital of {the(country.name)}."),
                self.city_population_hop(capital, "answer", f"Now I need to find the population of {capital.name}.",
                                         country.name),
            )
            return QuestionPlan(f"How many inhabitants does the capital of {the(country.name)} have?",
                                _numbers(capital.population), "two-hop", hops, f"So the answer is {capital.population:,}.")
        city = self.random_city(self.with_capital if fact == "capital" else None)
        if city is None:
            return None
        country = self.country_by_code[city.country_code]
        question = {
            "capital": f"What is the capital of the country where the city of {city.name} is located?",
            "currency": f"What currency is used in the country where the city of {city.name} lies?",
            "population": f"How many people live in the country where the city of {city.name} is located?",
            "region": f"In which part of the world (UN geoscheme subregion) is the country that contains the city of {city.name}?",
        }[fact]
        hops = (
            self.city_country_hop(city, "bridge", f"First I need to find which country {city.name} is in."),
            self.country_hop(country, fact, "answer", f"Now I need to find the {fact} of {the(country.name)}."),
        )
        answers = self.answers(country, fact)
        return QuestionPlan(question, answers, "two-hop", hops, f"So the answer is {answers[0]}.")

    def comparison(self) -> QuestionPlan | None:
        """Two lookups of a number: cities by population, countries by population or by area."""
        kind = self.rng.choice(["city-population", "country-population", "country-area"])
        if kind == "city-population":
            first, second = self.random_city(), self.random_city()
            if first is None or second is None or first.id == second.id or first.population == second.population:
                return None
            hops = tuple(self.city_population_hop(c, "value", f"I need the population of {c.name}.") for c in (first, second))
            winner = max(first, second, key=lambda c: c.population)
            values = (first.population, second.population)
            question = f"Which city has more inhabitants, {first.name} or {second.name}?"
            answers = (winner.name, ascii_fold(winner.name)) if ascii_fold(winner.name) != winner.name else (winner.name,)
        else:
            fact = kind.removeprefix("country-")
            pool = self.countries if fact == "population" else self.with_area
            if len(pool) < 2:
                return None
            first, second = self.rng.sample(pool, 2)
            value: Callable[[CountryFacts], int] = (lambda c: c.population) if fact == "population" else (lambda c: c.area_km2)
            if value(first) == value(second):
                return None
            hops = tuple(self.country_hop(c, fact, "value", f"I need the {fact} of {the(c.name)}.") for c in (first, second))
            winner = max(first, second, key=value)
            values = (value(first), value(second))
            question = (f"Which country has more inhabitants, {the(first.name)} or {the(second.name)}?" if fact == "population"
                        else f"Which country is larger by area, {the(first.name)} or {the(second.name)}?")
            answers = winner.aliases
        relation = "more than" if values[0] > values[1] else "less than"
        reasoning = f"{values[0]:,} is {relation} {values[1]:,}, so the answer is {winner.name}."
        return QuestionPlan(question, answers, "comparison", hops, reasoning)

    def three_hop(self) -> QuestionPlan | None:
        """City -> its country -> the country's capital -> the capital's population."""
        city = self.random_city(self.with_capital_city)
        if city is None:
            return None
        country = self.country_by_code[city.country_code]
        capital = self.city_by_id[country.capital_city_id]  # type: ignore[index]
        hops = (
            self.city_country_hop(city, "bridge", f"First I need to find which country {city.name} is in."),
            self.country_hop(country, "capital", "bridge", f"Now I need to find the capital of {the(country.name)}."),
            self.city_population_hop(capital, "answer", f"Now I need to find the population of {capital.name}.", country.name),
        )
        question = self.rng.choice([
            f"How many inhabitants does the capital of the country where the city of {city.name} is located have?",
            f"What is the population of the capital of the country in which the city of {city.name} lies?",
        ])
        return QuestionPlan(question, _numbers(capital.population), "three-hop", hops,
                            f"So the answer is {capital.population:,}.")

    def draw(self, counts: dict[str, int]) -> list[QuestionPlan]:
        """Draw ``counts[type]`` distinct questions of each type (fewer if the pool runs out)."""
        makers = {"single-hop": self.single_hop, "two-hop": self.two_hop, "comparison": self.comparison,
                  "three-hop": self.three_hop}
        plans: list[QuestionPlan] = []
        seen: set[str] = set()
        for question_type, count in counts.items():
            made = 0
            for _ in range(count * 20):
                if made == count:
                    break
                plan = makers[question_type]()
                if plan is None or plan.question in seen:
                    continue
                seen.add(plan.question)
                plans.append(plan)
                made += 1
        return plans


def is_question_city(city: CityFacts, facts: WorldFacts, capital_ids: set[int], country_keys: set[str]) -> bool:
    """Whether a question may name ``city``: unique name, no digits, not a capital or a country's name."""
    from smepo_env.benchmarks.world_facts_data import name_key

    return (facts.is_unique_city_name(city.name) and not re.search(r"\d", city.name)
            and city.id not in capital_ids and name_key(city.name) not in country_keys)
