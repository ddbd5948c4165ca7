"""A small hand-written corpus with queries whose best passage is known, for the retrieval tests.

Each query shares words with its gold passage and means the same thing, so every backend
(lexical BM25 and Lucene, dense MiniLM, their fusion) must rank the gold passage first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from retrieval_index.base import Passage, Retriever, SearchHit, check_k

PASSAGES = [
    Passage(
        "eiffel",
        "Eiffel Tower",
        "The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889.",
    ),
    Passage(
        "everest",
        "Mount Everest",
        "Mount Everest is the highest mountain on Earth, in the Himalayas of Nepal.",
    ),
    Passage(
        "photosynthesis",
        "Photosynthesis",
        "Photosynthesis lets plants turn sunlight, water and CO2 into sugar.",
    ),
    Passage(
        "python", "Python (language)", "Python is a programming language created by Guido van Rossum in 1991."
    ),
    Passage(
        "amazon", "Amazon River", "The Amazon River in South America carries more water than any other river."
    ),
    Passage(
        "mona", "Mona Lisa", "The Mona Lisa is a portrait painted by Leonardo da Vinci, kept in the Louvre."
    ),
    Passage(
        "moon",
        "Apollo 11",
        "Apollo 11 landed the first humans on the Moon in July 1969: Armstrong and Aldrin.",
    ),
    Passage(
        "penicillin", "Penicillin", "Alexander Fleming discovered penicillin, the first antibiotic, in 1928."
    ),
    Passage("sahara", "Sahara", "The Sahara is the largest hot desert in the world, covering North Africa."),
    Passage("chess", "Chess", "Chess is a board game for two players on a board of 64 squares."),
    Passage("volcano", "Volcano", "A volcano is a rupture in a planet's crust where lava and ash escape."),
    Passage("bees", "Honey bee", "Honey bees collect nectar from flowers and make honey in their hives."),
    Passage("guitar", "Guitar", "The guitar is a string instrument usually played with six strings."),
    Passage("jupiter", "Jupiter", "Jupiter is the largest planet in the Solar System, a gas giant."),
    Passage("coffee", "Coffee", "Coffee is a drink brewed from roasted coffee beans of the Coffea plant."),
    Passage(
        "titanic",
        "RMS Titanic",
        "The Titanic was a British ocean liner that sank after hitting an iceberg in 1912.",
    ),
    Passage("dna", "DNA", "DNA is the molecule that carries the genetic instructions of living organisms."),
    Passage("olympics", "Olympic Games", "The modern Olympic Games began in Athens in 1896."),
    Passage("tea", "Tea", "Tea is a drink made by pouring hot water over cured leaves of the tea plant."),
    Passage("shakespeare", "William Shakespeare", "Shakespeare was an English playwright who wrote Hamlet."),
    Passage("bicycle", "Bicycle", "A bicycle is a two-wheeled vehicle driven by pedals."),
    Passage("whale", "Blue whale", "The blue whale is the largest animal known to have ever lived."),
    Passage("internet", "World Wide Web", "Tim Berners-Lee invented the World Wide Web at CERN in 1989."),
    Passage("rainbow", "Rainbow", "A rainbow appears when sunlight is refracted by raindrops into colours."),
    Passage(
        "pyramids",
        "Great Pyramid of Giza",
        "The Great Pyramid of Giza in Egypt was built as a tomb for a pharaoh.",
    ),
    Passage("antarctica", "Antarctica", "Antarctica is the coldest continent, covered by a thick ice sheet."),
    Passage("piano", "Piano", "The piano is a keyboard instrument whose hammers strike strings."),
    Passage("vaccine", "Vaccine", "A vaccine trains the immune system to recognise a disease."),
    Passage("kangaroo", "Kangaroo", "Kangaroos are marsupials from Australia that hop on strong hind legs."),
    Passage("bitcoin", "Bitcoin", "Bitcoin is a decentralised digital currency launched in 2009."),
]

QUERIES = [
    ("What is the highest mountain on Earth?", "everest"),
    ("Who created the Python programming language?", "python"),
    ("Who painted the Mona Lisa portrait?", "mona"),
    ("When did Apollo 11 land humans on the Moon?", "moon"),
    ("Who discovered penicillin?", "penicillin"),
    ("Which ship sank after hitting an iceberg?", "titanic"),
    ("Who invented the World Wide Web?", "internet"),
    ("What is the largest planet in the Solar System?", "jupiter"),
]


def write_jsonl(path: Path, passages: list[Passage] = PASSAGES) -> Path:
    """Write ``passages`` as a corpus JSONL file and return its path."""
    path.write_text("".join(json.dumps(passage.to_row()) + "\n" for passage in passages), encoding="utf-8")
    return path


def top_ids(results: list[list]) -> list[str | None]:
    """The id of the first hit of each result list (``None`` for an empty one)."""
    return [hits[0].passage.id if hits else None for hits in results]


class OverlapRetriever(Retriever):
    """Ranks passages by the number of query words they contain; records every batch call."""

    name = "overlap"

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.calls: list[tuple[int, int]] = []
        self.lock = threading.Lock()
        self.in_call = 0
        self.overlapping_calls = 0

    def __len__(self) -> int:
        return len(self.passages)

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        with self.lock:
            self.in_call += 1
            self.overlapping_calls += self.in_call > 1
            self.calls.append((len(queries), k))
        try:
            results = []
            for query in queries:
                words = {word.strip("?.,").lower() for word in query.split()}
                scored = [
                    (len(words & set(p.contents.lower().replace(",", " ").split())), p) for p in self.passages
                ]
                scored = sorted((pair for pair in scored if pair[0] > 0), key=lambda pair: -pair[0])[:k]
                results.append([SearchHit(passage, float(score)) for score, passage in scored])
            return results
        finally:
            with self.lock:
                self.in_call -= 1
