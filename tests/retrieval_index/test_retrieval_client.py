"""The HTTP client retriever: round trips, retries with back-off, typed errors, outages as observations."""

from __future__ import annotations

import itertools
import pickle
import time
from collections.abc import Iterator

import pytest

from tests.markers import skip_module_without

skip_module_without("server")  # the imports below need FastAPI

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from retrieval_index.http_client import RemoteRetriever, retrieve_endpoint  # noqa: E402
from retrieval_index.server import BackgroundServer, start_in_thread  # noqa: E402
from smepo_env.errors import RetrievalRequestError, RetrievalUnavailableError  # noqa: E402
from tests.retrieval_index.corpus_fixture import PASSAGES, QUERIES, OverlapRetriever  # noqa: E402
from tools.search import SearchTool  # noqa: E402


@pytest.fixture(scope="module")
def local() -> OverlapRetriever:
    return OverlapRetriever(PASSAGES)


@pytest.fixture(scope="module")
def server(local: OverlapRetriever) -> Iterator[BackgroundServer]:
    with start_in_thread(local) as running:
        yield running


def test_remote_results_equal_in_process_results(server, local):
    queries = [query for query, _ in QUERIES]
    with RemoteRetriever(server.url, timeout_s=10) as remote:
        assert remote.batch_search(queries, 3) == local.batch_search(queries, 3)
        assert remote.search(queries[0], 2) == local.search(queries[0], 2)
        assert len(remote) == len(PASSAGES)


def test_large_batches_are_split_into_several_requests(server, local):
    queries = [query for query, _ in QUERIES] * 5
    calls_before = len(local.calls)
    with RemoteRetriever(server.url, max_queries_per_request=7) as remote:
        assert remote.batch_search(queries, 1) == local.batch_search(queries, 1)
    assert sorted(size for size, _ in local.calls[calls_before:-1]) == [5, 7, 7, 7, 7, 7]


def test_endpoint_forms():
    assert retrieve_endpoint("http://h:8000") == "http://h:8000/retrieve"
    assert retrieve_endpoint("http://h:8000/") == "http://h:8000/retrieve"
    assert retrieve_endpoint("https://h/x/retrieve") == "https://h/x/retrieve"
    with pytest.raises(ValueError, match="must start with http"):
        retrieve_endpoint("h:8000")
    with pytest.raises(ValueError, match="retries >= 0"):
        RemoteRetriever("http://h:1", retries=-1)


def _flaky_app(failures: int, status: int) -> tuple[FastAPI, list[float]]:
    """A /retrieve that fails ``failures`` times with ``status`` and then answers; logs call times."""
    app, calls = FastAPI(), []

    @app.post("/retrieve")
    async def retrieve(request: Request) -> JSONResponse:
        calls.append(time.monotonic())
        body = await request.json()
        if len(calls) <= failures:
            return JSONResponse({"detail": "busy"}, status_code=status)
        return JSONResponse({"result": [[] for _ in body["queries"]]})

    return app, calls


def test_server_errors_are_retried_with_exponential_backoff():
    app, calls = _flaky_app(failures=3, status=503)
    with BackgroundServer(app) as flaky, RemoteRetriever(flaky.url, retries=3, backoff_s=0.05) as remote:
        assert remote.batch_search(["q"], 3) == [[]]
    assert len(calls) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2


def test_exhausted_retries_raise_a_typed_error():
    app, calls = _flaky_app(failures=10, status=500)
    with (
        BackgroundServer(app) as flaky,
        RemoteRetriever(flaky.url, retries=2, backoff_s=0.01) as remote,
        pytest.raises(RetrievalUnavailableError, match=r"after 3 attempt\(s\): HTTP 500"),
    ):
        remote.search("q", 3)
    assert len(calls) == 3


def test_client_errors_are_not_retried():
    app, calls = _flaky_app(failures=10, status=422)
    with (
        BackgroundServer(app) as flaky,
        RemoteRetriever(flaky.url, retries=3, backoff_s=0.01) as remote,
        pytest.raises(RetrievalRequestError, match="HTTP 422"),
    ):
        remote.search("q", 3)
    assert len(calls) == 1


def test_timeouts_are_retried_then_reported():
    app = FastAPI()

    @app.post("/retrieve")
    async def slow() -> dict:
        import asyncio

        await asyncio.sleep(0.8)
        return {"result": [[]]}

    with (
        BackgroundServer(app) as stalled,
        RemoteRetriever(stalled.url, timeout_s=0.1, retries=1, backoff_s=0) as remote,
    ):
        started = time.monotonic()
        with pytest.raises(RetrievalUnavailableError, match="ReadTimeout"):
            remote.search("q", 1)
        assert time.monotonic() - started < 0.7


def test_reads_search_r1_bm25_documents_without_ids():
    """Search-R1's BM25 server answers documents as title/text/contents without an id."""
    app = FastAPI()

    @app.post("/retrieve")
    async def search_r1_bm25(request: Request) -> dict:
        body = await request.json()
        document = {
            "title": "Mount Everest",
            "text": "The highest mountain.",
            "contents": '"Mount Everest"\nThe highest mountain.',
        }
        hits = [{"document": document, "score": 12.5}] if body["return_scores"] else [document]
        return {"result": [hits[: body["topk"]] for _ in body["queries"]]}

    with BackgroundServer(app) as search_r1, RemoteRetriever(search_r1.url) as remote:
        (hit,) = remote.search("everest", 1)
    assert (hit.passage.title, hit.passage.text, hit.score) == (
        "Mount Everest",
        "The highest mountain.",
        12.5,
    )
    assert hit.passage.id.startswith("sha1:")
    assert len(remote) == 0  # no /health there


def test_malformed_answer_raises_request_error():
    app = FastAPI()

    @app.post("/retrieve")
    async def wrong() -> dict:
        return {"result": [["not a document"]]}

    with (
        BackgroundServer(app) as broken,
        RemoteRetriever(broken.url, retries=0) as remote,
        pytest.raises(RetrievalRequestError, match="expected a document object"),
    ):
        remote.search("q", 1)


def test_server_stopped_mid_run_becomes_an_observation(local):
    running = start_in_thread(local)
    tool = SearchTool(RemoteRetriever(running.url, timeout_s=1, retries=1, backoff_s=0.01), top_k=2)
    before = tool("highest mountain Everest")
    assert before.error == "" and before.hits[0].passage.id == "everest"
    running.stop()
    after = tool("highest mountain Everest")
    assert after.hits == []
    assert "RetrievalUnavailableError" in after.error and "2 attempt(s)" in after.error
    assert "Search is unavailable" in after.text


def test_remote_retriever_pickles_without_its_connection_pool(server, local):
    remote = RemoteRetriever(server.url)
    remote.search("Titanic iceberg", 1)
    clone = pickle.loads(pickle.dumps(remote))
    assert clone.search("Titanic iceberg", 1) == local.search("Titanic iceberg", 1)
