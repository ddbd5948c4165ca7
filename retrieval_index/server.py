"""An HTTP retrieval service on Search-R1's ``/retrieve`` protocol, shared by all rollout workers.

One process holds the index; every environment, trainer worker or Search-R1 script on the
machine (or the network) queries it, so the index is loaded once and not once per worker.
The protocol is Search-R1's (see :mod:`retrieval_index.protocol`), so our server and Search-R1's
``retrieval_server.py`` can stand in for each other. Endpoints:

``POST /retrieve``
    Batched search. Malformed requests get a 4xx with ``{"detail": message}``: 400 for a body
    that is not UTF-8 or not JSON (nesting too deep to parse included), 422 for a JSON body of
    the wrong shape or a ``topk`` outside ``1..max_topk``, 413 for a body over
    ``max_body_bytes``, more than ``max_queries`` queries, or more than ``max_hits`` hits
    (queries x topk), 408 for a body that does not arrive within ``body_timeout_s``.
``GET /health``
    ``{"status": "ok", "backend": ..., "passages": ...}``.

Searches run on one worker thread, so a backend never sees two calls at once (pyjnius and the
encoders need no locking), and the event loop stays free for other clients. Requests that
arrive while a search runs are merged into the next ``batch_search`` call (one per ``topk``):
an idle server adds no waiting, a busy one serves many small requests in few batched calls.
A merged call never asks for more than ``max_hits`` hits either, so the memory a search takes
is bounded by the limits, not by the number of clients.

Start it with ``python -m retrieval_index serve --index DIR --port 8000``, or in Python with
:func:`serve`, or :func:`start_in_thread` (tests, notebooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeAlias

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from retrieval_index.base import Retriever, SearchHit
from retrieval_index.protocol import DEFAULT_TOPK, encode_result


class RetrieveRequest(BaseModel):
    """The body of ``POST /retrieve`` (JSON types only: ``"3"`` or ``true`` is not a topk)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    queries: list[str]
    topk: int | None = None
    return_scores: bool = False


@dataclass(frozen=True)
class ServerLimits:
    """What one request may ask for.

    Attributes:
        max_body_bytes: largest request body (413 above).
        max_queries: most queries in one request (413 above). Search-R1 sends a whole rollout
            batch (e.g. 512 × 5) in one request.
        max_topk: largest ``topk`` (422 above).
        default_topk: ``topk`` when a request leaves it out (Search-R1's default is 3).
        max_hits: most hits (queries x topk) one request, and one merged backend call, may
            ask for (413 above): the work and memory of a request grow with it. The default
            serves Search-R1's largest batches (512 x 5 queries at topk 3 is 7,680).
        body_timeout_s: seconds a client has to send the whole body (408 after).
    """

    max_body_bytes: int = 4 * 1024 * 1024
    max_queries: int = 8192
    max_topk: int = 1000
    default_topk: int = DEFAULT_TOPK
    max_hits: int = 65_536
    body_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_queries", "max_topk", "default_topk", "max_hits"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"ServerLimits.{name} must be a positive int, got {getattr(self, name)!r}")
        if not self.body_timeout_s > 0:
            raise ValueError(f"ServerLimits.body_timeout_s must be > 0, got {self.body_timeout_s!r}")


class RequestError(Exception):
    """A malformed request; becomes an HTTP error with a message."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


Waiter: TypeAlias = "asyncio.Future[list[list[SearchHit]]]"


class CoalescingSearcher:
    """Runs searches on one thread, merging requests that queue up meanwhile into one call."""

    def __init__(self, retriever: Retriever, max_hits: int | None = None) -> None:
        self.retriever = retriever
        self.max_hits = max_hits
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval")
        self._pending: list[tuple[list[str], int, Waiter]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def search(self, queries: list[str], k: int) -> list[list[SearchHit]]:
        """Top-``k`` hits for each query, computed on the search thread."""
        future: Waiter = asyncio.get_running_loop().create_future()
        self._pending.append((queries, k, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                by_k: dict[int, list[tuple[list[str], Waiter]]] = defaultdict(list)
                for queries, k, future in batch:
                    by_k[k].append((queries, future))
                for k, all_requests in by_k.items():
                    for requests in self._groups(all_requests, k):
                        await self._search_group(loop, requests, k)
        finally:
            self._drainer = None

    def _groups(
        self, requests: list[tuple[list[str], Waiter]], k: int
    ) -> list[list[tuple[list[str], Waiter]]]:
        """Split requests into merged calls of at most ``max_hits`` hits (a request is never split)."""
        groups: list[list[tuple[list[str], Waiter]]] = [[]]
        hits = 0
        for request in requests:
            size = len(request[0]) * k
            if groups[-1] and self.max_hits is not None and hits + size > self.max_hits:
                groups.append([])
                hits = 0
            groups[-1].append(request)
            hits += size
        return groups

    async def _search_group(
        self, loop: asyncio.AbstractEventLoop, requests: list[tuple[list[str], Waiter]], k: int
    ) -> None:
        """Run one merged backend call and hand each request its share of the results."""
        merged = [query for queries, _ in requests for query in queries]
        try:
            results = await loop.run_in_executor(self._executor, self.retriever.batch_search, merged, k)
            if len(results) != len(merged):
                raise RuntimeError(f"backend returned {len(results)} result lists for {len(merged)}")
        except Exception as error:  # the backend failed: every waiting request gets the error
            for _, future in requests:
                if not future.done():
                    future.set_exception(error)
            return
        start = 0
        for queries, future in requests:
            if not future.done():
                future.set_result(results[start : start + len(queries)])
            start += len(queries)

    def close(self) -> None:
        """Stop the search thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"request body of {int(declared)} bytes exceeds the limit of {limit} bytes")
    chunks, size = [], 0

    async def read_all() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(413, f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(read_all(), timeout_s)
    except TimeoutError:
        raise RequestError(
            408, f"request body not received within {timeout_s:g} s ({size} bytes came)"
        ) from None
    return b"".join(chunks)


def _describe_validation(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(step) for step in problem["loc"]) or "body"
        parts.append(f"{where}: {problem['msg']}")
    return (
        "invalid request: "
        + "; ".join(parts)
        + ' (expected {"queries": [str, ...], "topk": int, "return_scores": bool})'
    )


def parse_request(body: bytes, limits: ServerLimits) -> tuple[list[str], int, bool]:
    """Validate a ``/retrieve`` body and return (queries, topk, return_scores).

    Raises:
        RequestError: the body is not UTF-8 JSON of the right shape, or breaks a limit.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(400, f"request body is not UTF-8 (byte {error.start})") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(
            400, f"request body is not valid JSON: {error.msg} at line {error.lineno}"
        ) from None
    except RecursionError:
        raise RequestError(400, "request body is nested too deeply to parse") from None
    try:
        request = RetrieveRequest.model_validate(payload)
    except ValidationError as error:
        raise RequestError(422, _describe_validation(error)) from None
    # as Search-R1's server: a missing, null or 0 topk means the default
    topk = request.topk or limits.default_topk
    if not 1 <= topk <= limits.max_topk:
        raise RequestError(422, f"topk must be between 1 and {limits.max_topk}, got {topk}")
    if len(request.queries) > limits.max_queries:
        raise RequestError(
            413, f"{len(request.queries)} queries in one request; the limit is {limits.max_queries}"
        )
    if len(request.queries) * topk > limits.max_hits:
        raise RequestError(
            413,
            f"{len(request.queries)} queries x topk {topk} = {len(request.queries) * topk} hits in one "
            f"request; the limit is {limits.max_hits} (send fewer queries per request or a smaller topk)",
        )
    return request.queries, topk, request.return_scores


def create_app(
    retriever: Retriever, *, backend: str | None = None, limits: ServerLimits | None = None
) -> FastAPI:
    """The FastAPI application serving ``retriever``.

    Args:
        retriever: any backend (an index loaded from disk, a hybrid, even a remote one).
        backend: the name ``/health`` reports (default: the retriever's ``name``).
        limits: request limits.
    """
    limits = limits or ServerLimits()
    searcher = CoalescingSearcher(retriever, max_hits=limits.max_hits)
    backend_name = backend or retriever.name

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        searcher.close()

    app = FastAPI(title="smepo retrieval server", description=__doc__.split("\n\n")[0], lifespan=lifespan)
    app.state.searcher = searcher

    @app.exception_handler(RequestError)
    async def _request_error(_: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    @app.post("/retrieve")
    async def retrieve(request: Request) -> Response:
        """Search-R1's batched retrieval endpoint."""
        queries, topk, return_scores = parse_request(
            await _read_body(request, limits.max_body_bytes, limits.body_timeout_s), limits
        )
        try:
            results = await searcher.search(queries, topk) if queries else []
        except Exception as error:  # a backend failure: a 500 the client may retry, with the reason
            detail = f"search failed: {type(error).__name__}: {error}"[:500]
            return JSONResponse({"detail": detail}, status_code=500)
        body = json.dumps(encode_result(results, return_scores), ensure_ascii=False)
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness, the backend and its passage count."""
        return {"status": "ok", "backend": backend_name, "passages": len(retriever)}

    return app


def serve(
    retriever: Retriever,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    backend: str | None = None,
    limits: ServerLimits | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``retriever`` until interrupted (one process; the index is loaded once)."""
    import uvicorn

    app = create_app(retriever, backend=backend, limits=limits)
    print(
        f"serving {backend or retriever.name} ({len(retriever)} passages) on http://{host}:{port}", flush=True
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


class BackgroundServer:
    """A server running in a thread of this process, on a free loopback port.

    Use as a context manager or call :meth:`stop`. ``url`` is ``http://127.0.0.1:PORT``.
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 10.0) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="retrieval-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"retrieval server on {self.url} did not start within {timeout_s} s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    retriever: Retriever, *, limits: ServerLimits | None = None, port: int = 0
) -> BackgroundServer:
    """Serve ``retriever`` from a background thread on 127.0.0.1 (``port=0``: a free port)."""
    return BackgroundServer(create_app(retriever, limits=limits), port=port)
