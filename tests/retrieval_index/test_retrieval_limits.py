"""Issue 13 items 7 and 9: the retrieval server bounds each request's work, answers deeply
nested JSON with 400 and times out slow bodies; the client gives each search a total deadline.

Real servers run on 127.0.0.1: our uvicorn app, and raw-socket servers written here that
misbehave the way an attacker or a broken proxy would (trickling a byte at a time).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.markers import skip_module_without

skip_module_without("server")  # the imports below need FastAPI

from retrieval_index.http_client import RemoteRetriever  # noqa: E402
from retrieval_index.server import BackgroundServer, CoalescingSearcher, ServerLimits, create_app  # noqa: E402
from smepo_env.errors import RetrievalUnavailableError  # noqa: E402
from tests.retrieval_index.corpus_fixture import PASSAGES, OverlapRetriever  # noqa: E402

LIMITS = ServerLimits(max_queries=500, max_topk=100, max_hits=1000, body_timeout_s=1.0)


@pytest.fixture(scope="module")
def retriever() -> OverlapRetriever:
    return OverlapRetriever(PASSAGES)


@pytest.fixture(scope="module")
def server(retriever) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(retriever, limits=LIMITS)) as running:
        yield running


def test_queries_times_topk_is_bounded_per_request(server, retriever):
    with httpx.Client(timeout=10) as client:
        ok = client.post(server.url + "/retrieve", json={"queries": ["paris"] * 10, "topk": 100})
        assert ok.status_code == 200 and len(ok.json()["result"]) == 10
        refused = client.post(server.url + "/retrieve", json={"queries": ["paris"] * 11, "topk": 100})
    assert refused.status_code == 413
    assert (
        "11 queries x topk 100 = 1100 hits" in refused.json()["detail"] and "1000" in refused.json()["detail"]
    )
    assert (11, 100) not in retriever.calls


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deeply_nested_json_is_a_400_not_a_500(server, depth):
    body = '{"queries": ["x"], "extra": ' + "[" * depth + "]" * depth + "}"
    with httpx.Client(timeout=10) as client:
        response = client.post(server.url + "/retrieve", content=body.encode())
    assert response.status_code in (400, 413), response.text
    if len(body) <= ServerLimits().max_body_bytes:
        assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]


def _raw_request(url: str, head: bytes, body_chunks: list[bytes], pause_s: float) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head)
        for chunk in body_chunks:
            if select.select([connection], [], [], pause_s)[0]:
                break  # the server answered before the body was complete
            connection.sendall(chunk)
        connection.settimeout(10)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"}" in answer:
                break
        return answer


def test_a_slow_request_body_times_out_with_408(server):
    body = b'{"queries": ["paris"], "topk": 3}'
    head = (
        b"POST /retrieve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    started = time.monotonic()
    answer = _raw_request(server.url, head, [body[i : i + 1] for i in range(len(body))], pause_s=0.2)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"not received within 1 s" in answer
    assert time.monotonic() - started < 5


def test_merged_backend_calls_stay_under_max_hits():
    import asyncio

    retriever = OverlapRetriever(PASSAGES)
    searcher = CoalescingSearcher(retriever, max_hits=100)

    async def burst() -> list:
        return await asyncio.gather(*(searcher.search(["paris"] * 10, 5) for _ in range(6)))

    results = asyncio.run(burst())
    searcher.close()
    assert [len(hits) for hits in results] == [10] * 6
    assert all(count * k <= 100 for count, k in retriever.calls) and sum(c for c, _ in retriever.calls) == 60


def test_server_limits_are_validated():
    with pytest.raises(ValueError, match="max_hits"):
        ServerLimits(max_hits=0)
    with pytest.raises(ValueError, match="body_timeout_s"):
        ServerLimits(body_timeout_s=0)


class TricklingServer:
    """Answers every request with a valid head, then one body byte every ``pause_s``."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        body = b'{"result": [[]]}' + b" " * 10_000
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body))
                for index in range(len(body)):
                    if self._stop.is_set():
                        return
                    connection.sendall(body[index : index + 1])
                    time.sleep(self.pause_s)
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


def test_a_server_answering_one_byte_at_a_time_cannot_hold_a_search():
    trickler = TricklingServer(pause_s=0.05)  # every read succeeds well within timeout_s
    try:
        remote = RemoteRetriever(trickler.url, timeout_s=2.0, deadline_s=1.0, retries=3, backoff_s=0.01)
        started = time.monotonic()
        with pytest.raises(RetrievalUnavailableError, match="deadline"):
            remote.search("paris", 3)
        elapsed = time.monotonic() - started
        remote.close()
    finally:
        trickler.close()
    assert elapsed < 1.0 + 2.0  # the deadline plus at most one read timeout


def test_client_splits_requests_by_hits(server, retriever):
    retriever.calls.clear()
    remote = RemoteRetriever(server.url, max_hits_per_request=1000)
    results = remote.batch_search(["paris"] * 25, 100)
    remote.close()
    assert len(results) == 25
    assert all(count * k <= 1000 for count, k in retriever.calls)
