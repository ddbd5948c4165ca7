"""Math answer checking by symbolic equivalence (math-verify), made safe to call from anywhere.

:func:`verify_math_answer` decides whether a model's final answer equals a gold answer the way
a grader would: ``3/4``, ``0.75``, ``\\frac{3}{4}`` and ``75\\%`` are the same number; ``12
dollars``, ``\\$12`` and ``12\\text{ cm}`` are 12; ``\\{1,2\\}`` equals ``\\{2,1\\}``; intervals,
tuples, roots and symbolic expressions are compared by sympy. The answer text is the content of
the last ``\\boxed{…}`` when there is one, else the whole text.

math-verify bounds each parse and each comparison with ``signal.alarm``, which only works in
the main thread of the main interpreter (elsewhere it raises ``ValueError``), and it cannot
interrupt a thread at all. This module therefore:

* in the main thread, calls math-verify in-process with its own timeouts
  (``parsing_timeout`` and ``timeout_seconds`` set to ``ceil(timeout_s)``): about a
  millisecond a call, and each parse or comparison is cut at ``timeout_s``;
* in any other thread (a trainer's thread pool, an async reward server), sends the call to a
  worker process (``python -c 'serve_worker()'``) where math-verify runs in its main thread.
  The caller waits at most :data:`WORKER_DEADLINE_FACTOR` × ``timeout_s``; a worker that does
  not answer by then is killed and replaced, and the call returns ``correct=False,
  error="timeout"``. Workers are pooled (one per concurrently calling thread) and exit when
  the process does.

In the main thread math-verify owns ``SIGALRM`` during a call (it installs its handler and
cancels any pending ``alarm``); a program that uses ``SIGALRM`` itself should score from another
thread, which takes the worker path.

Nothing here raises on bad input: a non-string, an unparsable answer, a timeout or a crashed
worker all give ``correct=False`` with the reason in :attr:`MathVerdict.error`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import math
import os
import queue
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from smepo_env.scoring.verdict import Verdict

DEFAULT_TIMEOUT_S = 5.0
WORKER_DEADLINE_FACTOR = 4.0
"""A worker call's hard wall-clock limit, in multiples of ``timeout_s``."""
WORKER_START_TIMEOUT_S = 60.0
MAX_ANSWER_CHARS = 2000
"""Longer answers are not parsed (``error="too long"``): no real final answer is this long."""

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"[{}]")
_DELIMITED = re.compile(r"^\s*(\$\$|\$|\\\(|\\\[)(.*?)(\$\$|\$|\\\)|\\\])\s*$", re.DOTALL)
_CURRENCY = re.compile(r"\\?\$(?=\s*[-+]?\d)")
_HAS_MATH_DELIMITERS = re.compile(r"\$|\\\(|\\\[")
_SCIENTIFIC = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d{1,3}")


@dataclass(frozen=True)
class MathVerdict:
    """The outcome of checking one answer.

    Attributes:
        correct: the answer equals one of the gold answers.
        extracted: the answer text that was parsed (the last ``\\boxed{}`` content, or the text).
        parsed: the parsed answer as math-verify normalised it (``""`` when nothing parsed).
        error: why the answer could not be checked (``""`` when it was): ``"empty"``,
            ``"too long"``, ``"unparsable"``, ``"timeout"``, ``"worker failed: …"``.
    """

    correct: bool
    extracted: str = ""
    parsed: str = ""
    error: str = ""


def last_boxed_content(text: str) -> str | None:
    """The content of the last ``\\boxed{…}`` (or ``\\fbox{…}``) in ``text``, braces balanced.

    Returns ``None`` when there is no complete boxed expression. One pass over ``text`` with
    a stack of open braces, so degenerate text (thousands of unclosed ``\\boxed{``) costs
    linear time.
    """
    openers = {match.end() - 1 for match in _BOXED.finditer(text)}
    if not openers:
        return None
    stack: list[int] = []
    last: tuple[int, int] | None = None  # (start, end) of the complete boxed that starts last
    for match in _BRACE.finditer(text):
        position = match.start()
        if text[position] == "{":
            stack.append(position)
        elif stack:
            opened = stack.pop()
            if opened in openers and (last is None or opened > last[0]):
                last = (opened, position)
    return None if last is None else text[last[0] + 1 : last[1]].strip()


def final_answer_text(text: str) -> str:
    """The part of an answer that is the final answer: the last boxed content, else the text."""
    boxed = last_boxed_content(text)
    return (boxed if boxed is not None else text).strip()


def _math_candidates(answer: str) -> tuple[str, str | None]:
    """The text to parse as LaTeX and, for plain-text answers, the raw text as a fallback."""
    delimited = _DELIMITED.match(answer)
    if delimited and not _HAS_MATH_DELIMITERS.search(delimited.group(2)):
        answer = delimited.group(2).strip()
    if _SCIENTIFIC.fullmatch(answer):
        answer = format(Decimal(answer), "f")  # "1e3" would parse as 1 * e * 3
    without_currency = _CURRENCY.sub("", answer)
    if _HAS_MATH_DELIMITERS.search(without_currency):
        return answer, None  # math-verify finds the delimited parts itself
    return f"${without_currency}$", without_currency


def _has_free_symbols(parsed: list[Any]) -> bool:
    return bool(parsed) and bool(getattr(parsed[0], "free_symbols", None))


def _parse(text: str, timeout: int) -> list[Any]:
    from math_verify import parse

    return parse(text, parsing_timeout=timeout)


@functools.lru_cache(maxsize=4096)
def _parse_gold(gold: str, timeout: int) -> tuple[Any, ...]:
    latex, raw = _math_candidates(final_answer_text(gold))
    parsed = _parse(latex, timeout)
    if not parsed and raw is not None:
        parsed = _parse(raw, timeout)
    return tuple(parsed)


def _verify_in_process(prediction: str, golds: Sequence[str], timeout_s: float) -> MathVerdict:
    """Check ``prediction`` against ``golds`` here, with math-verify's signal timeouts."""
    from math_verify import verify
    from math_verify.errors import TimeoutException

    timeout = max(1, math.ceil(timeout_s))
    extracted = final_answer_text(prediction)
    try:
        latex, raw = _math_candidates(extracted)
        parsed = _parse(latex, timeout)
        candidates = [parsed] if parsed else []
        gold_parses = [list(_parse_gold(gold, timeout)) for gold in golds]
        gold_is_symbolic = any(_has_free_symbols(g) for g in gold_parses)
        if raw is not None and (not parsed or (_has_free_symbols(parsed) and not gold_is_symbolic)):
            fallback = _parse(raw, timeout)
            if fallback:
                candidates.append(fallback)
        if not candidates:
            return MathVerdict(False, extracted, "", "unparsable")
        for candidate in candidates:
            for gold in gold_parses:
                if gold and verify(gold, candidate, timeout_seconds=timeout):
                    return MathVerdict(True, extracted, _shown(candidate))
        return MathVerdict(False, extracted, _shown(candidates[0]))
    except TimeoutException:
        return MathVerdict(False, extracted, "", "timeout")
    except Exception as error:  # math-verify and sympy raise many types on odd input
        return MathVerdict(False, extracted, "", f"{type(error).__name__}: {error}"[:200])


def _shown(parsed: list[Any]) -> str:
    """math-verify's normalised text of the parse (its second element), never ``str(sympy)``."""
    return str(parsed[-1]) if parsed and isinstance(parsed[-1], str) else ""


def verify_math_answer(
    prediction: object, golds: str | Sequence[str], timeout_s: float = DEFAULT_TIMEOUT_S
) -> MathVerdict:
    """Check a final answer against gold answers by symbolic equivalence; never raises.

    Args:
        prediction: the model's answer text (an ``<answer>`` body); may hold ``\\boxed{}``.
        golds: the gold answer or answers; any one counts.
        timeout_s: the limit for each parse and each comparison (see the module docstring for
            how it is enforced in and outside the main thread).

    Returns:
        A :class:`MathVerdict`.

    Raises:
        ValueError: ``golds`` is empty or ``timeout_s`` is not positive (caller errors, not
            answer errors).
    """
    gold_list = [golds] if isinstance(golds, str) else [str(g) for g in golds]
    if not gold_list:
        raise ValueError("golds must hold at least one gold answer, got an empty list")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
    if isinstance(prediction, bytes):
        prediction = prediction.decode("utf-8", errors="replace")
    if not isinstance(prediction, str) or not prediction.strip():
        return MathVerdict(False, error="empty")
    if len(prediction) > MAX_ANSWER_CHARS:
        return MathVerdict(False, prediction[:80], "", "too long")
    if threading.current_thread() is threading.main_thread() and os.name == "posix":
        return _verify_in_process(prediction, gold_list, timeout_s)
    return _WORKERS.verify(prediction, gold_list, timeout_s)


def score_math(
    prediction: object, golds: str | Sequence[str], timeout_s: float = DEFAULT_TIMEOUT_S
) -> Verdict:
    """Score a math answer: reward 1.0 when equivalent to a gold answer; the parse in the metrics."""
    verdict = verify_math_answer(prediction, golds, timeout_s=timeout_s)
    return Verdict(
        float(verdict.correct),
        verdict.correct,
        {
            "extracted_answer": verdict.extracted,
            "parsed_answer": verdict.parsed,
            "verify_error": verdict.error,
        },
    )


# ----- worker processes for calls outside the main thread ---------------------------------------


class _VerifierWorker:
    """One worker process speaking JSON lines over its stdin/stdout."""

    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from smepo_env.scoring.math import serve_worker; serve_worker()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._buffer = b""
        if self._read_line(WORKER_START_TIMEOUT_S) != b"ready":
            self.close()
            raise RuntimeError("the math-verify worker did not start")

    def _read_line(self, timeout_s: float) -> bytes | None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout_s
        descriptor = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([descriptor], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def call(self, prediction: str, golds: list[str], timeout_s: float) -> MathVerdict | None:
        """The worker's verdict, or ``None`` when it did not answer in time (then it is dead)."""
        assert self.process.stdin is not None
        request = json.dumps({"prediction": prediction, "golds": golds, "timeout_s": timeout_s})
        try:
            self.process.stdin.write(request.encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            return None
        line = self._read_line(timeout_s * WORKER_DEADLINE_FACTOR)
        if line is None:
            return None
        return MathVerdict(**json.loads(line))

    def close(self) -> None:
        """Stop the worker (kill it if it does not exit on end of input)."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _WorkerPool:
    """Idle workers; a calling thread takes one (or starts one) and returns it afterwards."""

    def __init__(self) -> None:
        self._idle: queue.LifoQueue[_VerifierWorker] = queue.LifoQueue()
        self._pid = os.getpid()

    def verify(self, prediction: str, golds: list[str], timeout_s: float) -> MathVerdict:
        extracted = final_answer_text(prediction)
        if self._pid != os.getpid():  # a forked child must not share its parent's worker pipes
            self._idle, self._pid = queue.LifoQueue(), os.getpid()
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            try:
                worker = _VerifierWorker()
            except (OSError, RuntimeError) as error:
                return MathVerdict(False, extracted, "", f"worker failed: {error}"[:200])
        verdict = worker.call(prediction, golds, timeout_s)
        if verdict is None:
            worker.process.kill()
            worker.close()
            return MathVerdict(False, extracted, "", "timeout")
        self._idle.put(worker)
        return verdict

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


_WORKERS = _WorkerPool()
atexit.register(_WORKERS.close)


def serve_worker() -> None:
    """The worker's main loop: one JSON request per stdin line, one verdict per stdout line."""
    import math_verify  # noqa: F401  (import before saying ready, so the first call is fast)

    output = sys.stdout.buffer
    output.write(b"ready\n")
    output.flush()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            verdict = _verify_in_process(request["prediction"], request["golds"], float(request["timeout_s"]))
        except Exception as error:  # a malformed request must not kill the worker
            verdict = MathVerdict(False, "", "", f"bad request: {error}"[:200])
        output.write(json.dumps(asdict(verdict)).encode() + b"\n")
        output.flush()
