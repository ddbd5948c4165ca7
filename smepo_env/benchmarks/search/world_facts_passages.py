"""The sentences of the world-facts corpus, shared by the passages and the expert's evidence.

Every fact is written by one function here, so the evidence a question plan quotes is, by
construction, a verbatim substring of the passage that states it. Every sentence names the
passage's subject, and the sentences, like the names inside lists, come in a seeded random
order, so no fact (not even what the subject is) has a fixed position in its passage.
"""

from __future__ import annotations

import random

from retrieval_index.base import Passage
from smepo_env.benchmarks.search.world_facts_data import CityFacts, CountryFacts

_ARTICLE_NAMES = {"Bahamas", "Caribbean", "Comoros", "Gambia", "Maldives", "Philippines", "Seychelles"}
_ARTICLE_PREFIXES = ("United ", "Republic ", "Democratic ", "Central African ", "Dominican ")
_ARTICLE_SUFFIXES = ("Islands", "Territory", "Territories")


def the(name: str, start: bool = False) -> str:
    """A place name as it reads inside a sentence: "the United States", "France", "the Caribbean"."""
    bare = name.removeprefix("The ")  # GeoNames writes "The Netherlands"
    if (
        bare != name
        or bare in _ARTICLE_NAMES
        or bare.startswith(_ARTICLE_PREFIXES)
        or bare.endswith(_ARTICLE_SUFFIXES)
    ):
        return ("The " if start else "the ") + bare
    return name


def listed(items: list[str]) -> str:
    """``["A", "B", "C"]`` -> ``"A, B and C"``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def country_intro(country: CountryFacts) -> str:
    """What the country is and where: "France is a country in Western Europe"."""
    return f"{the(country.name, start=True)} is a country in {the(country.part_of_world)}"


def country_capital(country: CountryFacts) -> str:
    """ "The capital of France is Paris"."""
    return f"The capital of {the(country.name)} is {country.capital}"


def country_currency(country: CountryFacts) -> str:
    """ "The currency of France is the Euro (EUR)"."""
    return f"The currency of {the(country.name)} is the {country.currency_name} ({country.currency_code})"


def country_population(country: CountryFacts) -> str:
    """ "France has a population of 66,987,244"."""
    return f"{the(country.name, start=True)} has a population of {country.population:,}"


def country_area(country: CountryFacts) -> str:
    """ "France covers an area of 547,030 square kilometres"."""
    return f"{the(country.name, start=True)} covers an area of {country.area_km2:,} square kilometres"


def city_intro(city: CityFacts) -> str:
    """The city's country: "Lyon is a city in France"."""
    return f"{city.name} is a city in {the(city.country_name)}"


def city_population(city: CityFacts) -> str:
    """ "Lyon has a population of 520,774"."""
    return f"{city.name} has a population of {city.population:,}"


def _shuffled(rng: random.Random, items: list[str]) -> list[str]:
    items = list(items)
    rng.shuffle(items)
    return items


def _passage_text(rng: random.Random, sentences: list[str]) -> str:
    return " ".join(f"{sentence}." for sentence in _shuffled(rng, sentences))


def country_passage(country: CountryFacts, rng: random.Random) -> Passage:
    """The passage about a country: part of the world, capital, currency, people, neighbours."""
    rest = [country_currency(country), country_population(country)]
    if country.capital:
        rest.append(country_capital(country))
    if country.area_km2:
        rest.append(country_area(country))
    if country.neighbours:
        rest.append(
            f"{the(country.name, start=True)} borders {listed(_shuffled(rng, list(country.neighbours)))}"
        )
    if country.largest_cities:
        cities = listed(_shuffled(rng, list(country.largest_cities)))
        rest.append(f"The largest cities of {the(country.name)} include {cities}")
    if country.demonym:
        rest.append(f"People from {the(country.name)} are called {country.demonym}")
    return Passage(
        f"country-{country.code}", country.name, _passage_text(rng, [country_intro(country), *rest])
    )


def city_passage(city: CityFacts, rng: random.Random) -> Passage:
    """The passage about a city: country, population, nearby cities, time zone (and US state)."""
    rest = [city_population(city)]
    if city.state:
        rest.append(f"{city.name} lies in the state of {city.state}")
    if city.nearby:
        rest.append(f"Cities near {city.name} include {listed(_shuffled(rng, list(city.nearby)))}")
    if city.timezone:
        rest.append(f"{city.name} lies in the {city.timezone} time zone")
    return Passage(f"city-{city.id}", city.name, _passage_text(rng, [city_intro(city), *rest]))
