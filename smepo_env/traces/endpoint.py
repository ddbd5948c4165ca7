"""A turn generator backed by an OpenAI-compatible chat-completions endpoint (vLLM, hosted models).

Each active episode's running transcript is sent as chat messages (the prompt and every
observation as ``user`` turns, the teacher's earlier turns as ``assistant`` turns, read back by
:class:`~smepo_env.traces.codec.TextCodec`) to ``POST {base_url}/chat/completions`` with the
protocol's closing tags as ``stop`` strings. The API leaves a matched stop string out of the
content, so the closing tag of the call the turn opened is put back. Requests of one turn run
concurrently (at most ``max_concurrency`` at a time), each with a timeout; connection errors,
timeouts, 429 and 5xx answers are retried with exponential back-off (``Retry-After`` honoured).
A request that still fails ends its episode with an empty turn (the episode is then dropped,
its error counted); when every request of a turn fails the endpoint is declared unavailable.
The API key is read from an environment variable (``OPENAI_API_KEY`` by default) and sent as a
bearer token when set; a local ``vllm serve`` needs none.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from smepo_env.errors import TeacherUnavailableError
from smepo_env.protocol import CALL_TAGS, STOP_STRINGS
from smepo_env.rollout.generation import GeneratedTurn
from smepo_env.traces.codec import TextCodec

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass
class EndpointUsage:
    """What the endpoint was asked for and answered.

    Attributes:
        requests: chat-completion calls that succeeded.
        failures: calls that failed after every retry.
        retries: retried attempts.
        prompt_tokens / completion_tokens: the endpoint's own ``usage`` counts.
        last_error: the last failure's message.
    """

    requests: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def close_open_call(text: str) -> tuple[str, bool]:
    """Put back the closing tag the API dropped: ``"<search>q"`` -> ``"<search>q</search>"``.

    Returns the text and whether a call tag was closed (the turn stopped on a stop string).
    """
    opened = max(((text.rfind(f"<{tag}>"), tag) for tag in CALL_TAGS), default=(-1, ""))
    position, tag = opened
    if position >= 0 and f"</{tag}>" not in text[position:]:
        return f"{text}</{tag}>", True
    return text, False


class ChatEndpointGenerator:
    """:class:`~smepo_env.rollout.generation.TurnGenerator` over a chat-completions endpoint.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the ``model`` field of each request.
        codec: the episodes' :class:`TextCodec` (shared with :func:`run_episodes`).
        api_key_env: environment variable holding the API key (unset: no key sent).
        temperature / top_p: sampling settings.
        max_concurrency: requests in flight at once.
        timeout_s: per-request timeout.
        max_retries: retries per request after the first attempt.
        backoff_s: first back-off; doubled per retry, capped at 30 s.
        transport: an ``httpx`` transport (tests only).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        codec: TextCodec,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if max_concurrency < 1 or max_retries < 0 or timeout_s <= 0:
            raise ValueError(
                "max_concurrency must be >= 1, max_retries >= 0 and timeout_s > 0, got "
                f"{max_concurrency}, {max_retries}, {timeout_s}"
            )
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.codec = codec
        self.temperature = temperature
        self.top_p = top_p
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.usage = EndpointUsage()
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency),
        )
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="teacher")

    def close(self) -> None:
        """Close the connection pool and the worker threads."""
        self._pool.shutdown(wait=True)
        self._client.close()

    def generate_turns(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        """One chat completion per sequence, ``max_concurrency`` at a time."""
        chats = [self.codec.messages(sequence) for sequence in sequences]
        replies = list(self._pool.map(lambda chat: self._complete(chat, max_new_tokens), chats))
        if replies and all(reply is None for reply in replies):
            raise TeacherUnavailableError(
                f"every request to {self.url} failed; last error: {self.usage.last_error}"
            )
        turns = []
        for reply in replies:
            if reply is None:  # ends the episode; the collector records it as a teacher error
                turns.append(GeneratedTurn([], None, "eos"))
                continue
            content, finish_reason = reply
            text, closed = close_open_call(content)
            reason = "length" if finish_reason == "length" else ("stop" if closed else "eos")
            turns.append(GeneratedTurn(self.codec.encode_assistant(text), None, reason))
        return turns

    def _complete(self, messages: list[dict[str, str]], max_new_tokens: int) -> tuple[str, str] | None:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(STOP_STRINGS),
        }
        error = ""
        for attempt in range(self.max_retries + 1):
            delay = min(30.0, self.backoff_s * 2**attempt)
            try:
                response = self._client.post(self.url, json=body)
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            else:
                if response.status_code == 200:
                    parsed = self._parse(response)
                    if parsed is not None:
                        return parsed
                    error = f"unexpected response body: {response.text[:200]!r}"
                    break  # a malformed 200 will not get better by asking again
                error = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in RETRY_STATUSES:
                    break
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.replace(".", "", 1).isdigit():
                    delay = min(30.0, float(retry_after))
            if attempt < self.max_retries:
                with self.usage.lock:
                    self.usage.retries += 1
                time.sleep(delay)
        with self.usage.lock:
            self.usage.failures += 1
            self.usage.last_error = error
        return None

    def _parse(self, response: httpx.Response) -> tuple[str, str] | None:
        try:
            payload = response.json()
            choice = payload["choices"][0]
            content = choice["message"].get("content") or ""
            finish_reason = str(choice.get("finish_reason") or "stop")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        with self.usage.lock:
            self.usage.requests += 1
            self.usage.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.usage.completion_tokens += int(usage.get("completion_tokens") or 0)
        return str(content), finish_reason
