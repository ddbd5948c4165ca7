"""A retriever that queries a retrieval server over HTTP (ours or Search-R1's ``/retrieve``).

:class:`RemoteRetriever` posts ``{"queries", "topk", "return_scores": true}`` and reads the hits
back (:mod:`retrieval_index.protocol`). Each read has a timeout (``timeout_s``) and each search
a total deadline (``deadline_s``, retries and back-off included), checked between the chunks
of an answer, so a server that answers one byte at a time cannot hold a step: the search
ends within ``deadline_s`` plus at most one read timeout. Connection failures, timeouts and
5xx/429 answers are retried with exponential back-off (``backoff_s · 2^attempt``, capped at
``max_backoff_s``) while the deadline allows; then a :class:`RetrievalUnavailableError` is
raised. Answers over ``max_response_bytes`` are refused. A 4xx answer is the caller's mistake and raises
:class:`RetrievalRequestError` at once. Both derive from :class:`RemoteRetrievalError`; the
search tool turns either into an observation for the model, so an outage never ends a rollout.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import httpx

from retrieval_index.base import Retriever, SearchHit, check_k
from retrieval_index.protocol import decode_result
from smepo_env.errors import ProtocolError, RetrievalRequestError, RetrievalUnavailableError

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def retrieve_endpoint(url: str) -> str:
    """The ``/retrieve`` URL of a server given as ``http://host:port`` (or the full endpoint)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"retrieval server URL must start with http:// or https://, got {url!r}")
    url = url.rstrip("/")
    return url if url.endswith("/retrieve") else url + "/retrieve"


class RemoteRetriever(Retriever):
    """Search through a ``/retrieve`` server.

    Args:
        url: ``http://host:port`` or the full ``.../retrieve`` endpoint.
        timeout_s: seconds allowed for each HTTP request.
        retries: extra attempts after a failed one (0: a single attempt).
        backoff_s: wait before the first retry; doubles each retry.
        max_backoff_s: longest wait between attempts.
        max_queries_per_request: larger batches are split into several requests.
        deadline_s: total seconds one ``batch_search`` may take, all its requests, retries
            and back-off included (a read in progress may overshoot it by ``timeout_s``).
        max_hits_per_request: requests are also split so that queries x k stays under this
            (our server's default ``max_hits``).
        max_response_bytes: largest answer read; a bigger one is an error.
    """

    name = "remote"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        max_queries_per_request: int = 1024,
        deadline_s: float = 30.0,
        max_hits_per_request: int = 65_536,
        max_response_bytes: int = 256 << 20,
    ) -> None:
        self.endpoint = retrieve_endpoint(url)
        self.base_url = self.endpoint.removesuffix("/retrieve")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0 or max_queries_per_request < 1:
            raise ValueError(
                f"need timeout_s > 0, retries >= 0, backoff_s >= 0 and max_queries_per_request >= 1; got "
                f"timeout_s={timeout_s!r}, retries={retries!r}, backoff_s={backoff_s!r}, "
                f"max_queries_per_request={max_queries_per_request!r}"
            )
        if not deadline_s > 0 or max_hits_per_request < 1 or max_response_bytes < 1:
            raise ValueError(
                "need deadline_s > 0, max_hits_per_request >= 1 and max_response_bytes >= 1; got "
                f"deadline_s={deadline_s!r}, max_hits_per_request={max_hits_per_request!r}, "
                f"max_response_bytes={max_response_bytes!r}"
            )
        self.deadline_s = float(deadline_s)
        self.max_hits_per_request = int(max_hits_per_request)
        self.max_response_bytes = int(max_response_bytes)
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.max_queries_per_request = int(max_queries_per_request)
        self._client: httpx.Client | None = None
        self._size: int | None = None

    @property
    def client(self) -> httpx.Client:
        """The pooled HTTP client, created on first use (and again after unpickling)."""
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s)
        return self._client

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_client": None}

    def close(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> RemoteRetriever:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read(self, payload: dict[str, Any], deadline: float) -> tuple[int, bytes]:
        """One POST, read in chunks; the status and body, or TimeoutError past ``deadline``."""
        timeout = httpx.Timeout(min(self.timeout_s, max(deadline - time.monotonic(), 0.001)))
        with self.client.stream("POST", self.endpoint, json=payload, timeout=timeout) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no complete answer within the deadline of {self.deadline_s:g} s")
                if len(body) > self.max_response_bytes:
                    raise RetrievalRequestError(
                        f"{self.endpoint} answered with more than {self.max_response_bytes} bytes"
                    )
            return response.status_code, bytes(body)

    def _post(self, payload: dict[str, Any], deadline: float) -> Any:
        last_error, attempts = "", 0
        for attempt in range(self.retries + 1):
            if attempt:
                pause = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
                if time.monotonic() + pause >= deadline:
                    break
                time.sleep(pause)
            if time.monotonic() >= deadline:
                break
            attempts += 1
            try:
                status, body = self._read(payload, deadline)
            except (httpx.TransportError, TimeoutError) as error:  # refused, reset, DNS, timeouts
                last_error = f"{type(error).__name__}: {error}"
                continue
            text = body.decode("utf-8", "replace")
            if status == 200:
                try:
                    return json.loads(text)
                except (ValueError, RecursionError):
                    raise RetrievalRequestError(
                        f"{self.endpoint} answered with non-JSON: {text[:200]!r}"
                    ) from None
            if status in RETRYABLE_STATUS:
                last_error = f"HTTP {status}: {text[:200]}"
                continue
            raise RetrievalRequestError(
                f"{self.endpoint} rejected the request with HTTP {status}: {text[:300]}"
            )
        raise RetrievalUnavailableError(
            f"retrieval server {self.endpoint} unavailable after {attempts} attempt(s): "
            f"{last_error or 'no attempt left'}"
            + (
                ""
                if attempts == self.retries + 1
                else f" (the search deadline of {self.deadline_s:g} s ended retries)"
            )
        )

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        deadline = time.monotonic() + self.deadline_s
        per_request = max(1, min(self.max_queries_per_request, self.max_hits_per_request // k))
        results: list[list[SearchHit]] = []
        for start in range(0, len(queries), per_request):
            chunk = [str(query) for query in queries[start : start + per_request]]
            payload = self._post({"queries": chunk, "topk": k, "return_scores": True}, deadline)
            try:
                results.extend(decode_result(payload, len(chunk)))
            except ProtocolError as error:
                raise RetrievalRequestError(f"{self.endpoint}: {error}") from error
        return results

    def __len__(self) -> int:
        """Passages the server reports on ``/health`` (0 when it has no such endpoint or is down)."""
        if self._size is None:
            try:
                response = self.client.get(self.base_url + "/health")
                self._size = int(response.json().get("passages", 0)) if response.status_code == 200 else 0
            except (httpx.HTTPError, ValueError, AttributeError):
                return 0
        return self._size
