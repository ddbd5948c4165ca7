"""The retrieval server: Search-R1's /retrieve shapes, health, malformed requests, concurrency.

A real uvicorn server runs on a free loopback port for the module. The retriever behind it is
a word-overlap ranker (``retrieval_corpus.OverlapRetriever``), so these tests exercise the HTTP
layer without paying for an index backend's start-up (the backends have their own tests).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.markers import skip_module_without

skip_module_without("server")  # the imports below need FastAPI


from retrieval_index.base import Retriever  # noqa: E402
from retrieval_index.server import BackgroundServer, ServerLimits, create_app, parse_request  # noqa: E402
from tests.retrieval_index.corpus_fixture import PASSAGES, OverlapRetriever  # noqa: E402

LIMITS = ServerLimits(max_body_bytes=64 * 1024, max_queries=50, max_topk=20)


@pytest.fixture(scope="module")
def retriever() -> OverlapRetriever:
    return OverlapRetriever(PASSAGES)


@pytest.fixture(scope="module")
def server(retriever: OverlapRetriever) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(retriever, limits=LIMITS)) as running:
        yield running


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def test_search_r1_request_gets_search_r1_response(server, client, retriever):
    body = {
        "queries": ["highest mountain Everest", "Python programming language"],
        "topk": 2,
        "return_scores": True,
    }
    response = client.post(f"{server.url}/retrieve", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()["result"]
    assert len(result) == 2 and all(len(hits) <= 2 for hits in result)
    expected = retriever.batch_search(body["queries"], 2)
    for hits, wanted in zip(result, expected, strict=True):
        assert [set(hit) for hit in hits] == [{"document", "score"}] * len(hits)
        assert [hit["document"] for hit in hits] == [
            {"id": w.passage.id, "contents": f'"{w.passage.title}"\n{w.passage.text}'} for w in wanted
        ]
        assert [hit["score"] for hit in hits] == [w.score for w in wanted]
    assert result[0][0]["document"]["id"] == "everest"


def test_without_return_scores_documents_come_bare(server, client):
    response = client.post(
        f"{server.url}/retrieve", json={"queries": ["Who discovered penicillin"], "topk": 1}
    )
    assert response.status_code == 200
    (hits,) = response.json()["result"]
    assert hits == [{"id": "penicillin", "contents": f'"Penicillin"\n{PASSAGES[7].text}'}]


def test_search_r1_client_formatting_reads_our_documents(server, client):
    """Search-R1's client splits ``contents`` into a title line and the text."""
    body = {"queries": ["Mona Lisa portrait"], "topk": 1, "return_scores": True}
    document = client.post(f"{server.url}/retrieve", json=body).json()["result"][0][0]["document"]
    title, _, text = document["contents"].partition("\n")
    assert title == '"Mona Lisa"' and text.startswith("The Mona Lisa is a portrait")


def test_topk_defaults_to_three_and_extra_keys_are_ignored(server, client):
    response = client.post(f"{server.url}/retrieve", json={"queries": ["the"], "mode": "ignored"})
    assert response.status_code == 200
    assert len(response.json()["result"][0]) == 3


def test_empty_query_list_gives_empty_result(server, client):
    response = client.post(f"{server.url}/retrieve", json={"queries": [], "topk": 3})
    assert response.status_code == 200 and response.json() == {"result": []}


def test_health_reports_backend_and_passage_count(server, client):
    assert client.get(f"{server.url}/health").json() == {"status": "ok", "backend": "overlap", "passages": 30}


MALFORMED = [
    ("bad json", b'{"queries": ["a"', 400, "not valid JSON"),
    ("not utf-8", b'{"queries": ["\xff\xfe"]}', 400, "not UTF-8"),
    ("json array", b'["a", "b"]', 422, "valid dictionary"),
    ("missing queries", b'{"topk": 3}', 422, "queries: Field required"),
    ("queries not a list", b'{"queries": "a"}', 422, "queries"),
    ("query not a string", b'{"queries": ["a", 7]}', 422, "queries.1"),
    ("topk negative", b'{"queries": ["a"], "topk": -3}', 422, "got -3"),
    ("topk huge", b'{"queries": ["a"], "topk": 100000000000}', 422, "got 100000000000"),
    ("topk string", b'{"queries": ["a"], "topk": "3"}', 422, "topk"),
    ("topk float", b'{"queries": ["a"], "topk": 2.5}', 422, "topk"),
    ("return_scores not bool", b'{"queries": ["a"], "return_scores": "yes"}', 422, "return_scores"),
    ("too many queries", json.dumps({"queries": ["q"] * 51}).encode(), 413, "limit is 50"),
    ("10 MB body", b'{"queries": ["' + b"a" * (10 * 1024 * 1024) + b'"]}', 413, "exceeds the limit"),
    ("empty body", b"", 400, "not valid JSON"),
]


@pytest.mark.parametrize(
    ("body", "status", "message"), [case[1:] for case in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_malformed_requests_get_4xx_with_a_message(server, client, body, status, message):
    response = client.post(
        f"{server.url}/retrieve", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_body_over_limit_without_content_length_is_refused(server, client):
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to check up front
        yield b'{"queries": ["'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"]}'

    response = client.post(f"{server.url}/retrieve", content=chunks())
    assert response.status_code == 413


def test_wrong_method_and_path(server, client):
    assert client.get(f"{server.url}/retrieve").status_code == 405
    assert client.post(f"{server.url}/search", json={"queries": []}).status_code == 404


def test_concurrent_clients_get_their_own_answers_and_calls_never_overlap(server, retriever):
    questions = [(query, gold) for query, gold in _GOLD] * 8
    answers: dict[int, str | None] = {}

    def ask(number: int, query: str, k: int) -> None:
        with httpx.Client(timeout=20) as http:
            body = {"queries": [query], "topk": k, "return_scores": True}
            hits = http.post(f"{server.url}/retrieve", json=body).json()["result"][0]
            assert len(hits) <= k
            answers[number] = hits[0]["document"]["id"] if hits else None

    threads = [
        threading.Thread(target=ask, args=(number, query, 1 + number % 3))
        for number, (query, _) in enumerate(questions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {number: gold for number, (_, gold) in enumerate(questions)}
    assert retriever.overlapping_calls == 0


_GOLD = [
    ("highest mountain Everest", "everest"),
    ("Who discovered penicillin", "penicillin"),
    ("Titanic iceberg", "titanic"),
    ("largest planet Jupiter", "jupiter"),
]


def test_parse_request_accepts_search_r1_body():
    body = json.dumps({"queries": ["a", "b"], "topk": 5, "return_scores": True}).encode()
    assert parse_request(body, ServerLimits()) == (["a", "b"], 5, True)
    assert parse_request(b'{"queries": ["a"]}', ServerLimits(default_topk=7)) == (["a"], 7, False)


class _Broken(Retriever):
    def batch_search(self, queries, k):
        raise OSError("index file vanished")


def test_backend_failure_is_a_500_with_the_reason(client):
    with BackgroundServer(create_app(_Broken())) as broken:
        response = client.post(f"{broken.url}/retrieve", json={"queries": ["a"], "topk": 1})
    assert response.status_code == 500
    assert response.json() == {"detail": "search failed: OSError: index file vanished"}
