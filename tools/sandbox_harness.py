"""Hidden-test harness that runs *inside* the sandbox (see :mod:`tools.sandbox_tests`).

Executed as ``python -S -s -u -c SOURCE REPORT_FD PER_TEST_TIMEOUT_S``; reads a JSON payload
``{"solution": str, "tests": [[[kind, text], ...], ...]}`` from stdin: per test, the steps of
its :class:`tools.sandbox_test_plan.TestPlan`. For every test it forks a child that runs the
solution, then the steps: ``exec`` statements, ``probe`` expressions whose values it records,
``stdio`` runs of the solution as ``__main__`` whose printed output it records. The child
sends the recorded values, encoded as plain data (see :mod:`tools.sandbox_plain`), to a pipe
of its own; the harness forwards them, one JSON line per test, to REPORT_FD.

Nothing here decides whether a test passed: the expected values are not in the sandbox, and
the host compares. A submission can therefore only change the values it is judged on, which
is what it is asked to produce anyway. This file is stdlib-only and never imports ``tools``.
"""

from __future__ import annotations

import builtins
import ctypes
import io
import json
import os
import select
import signal
import sys
import time

PR_SET_DUMPABLE = 4
MAX_VALUES_BYTES = 1 << 20
"""Most bytes of encoded values one test may send (the host refuses more too)."""
MAX_DEPTH = 64
MAX_NODES = 1_000_000
_HEADER = 16


class NotPlainData(Exception):
    """A value that is not plain data (or too big or deep to send)."""


class _Encoder:
    """Tagged-JSON encoding of plain data (the format :mod:`tools.sandbox_plain` decodes)."""

    def __init__(self) -> None:
        self.nodes = 0

    def encode(self, value: object, depth: int = 0) -> object:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise NotPlainData("value too large or nested too deeply")
        kind = type(value)
        if value is None or kind is bool or kind is str or kind is int or kind is float:
            return value
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, (bytes, bytearray)):
            return {"b": bytes(value).hex()}
        if isinstance(value, complex):
            return {"c": [complex.__complex__(value).real, complex.__complex__(value).imag]}
        if isinstance(value, dict):
            return {
                "d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in dict.items(value)]
            }
        for base, tag in ((list, "l"), (tuple, "t"), (set, "s"), (frozenset, "f")):
            if isinstance(value, base):
                return {tag: [self.encode(item, depth + 1) for item in base.__iter__(value)]}
        if kind.__module__ == "numpy" and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
            return self.encode(value.item(), depth + 1)  # a numpy scalar
        raise NotPlainData(f"a {kind.__name__} is not plain data")


def encode_plain(value: object) -> str:
    """``value`` as tagged JSON text.

    Raises:
        NotPlainData: the value (or a part of it) is not plain data, or is too big or deep.
    """
    return json.dumps(_Encoder().encode(value))


def _describe(error: BaseException) -> str:
    text = str(error)
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:300]


def _run_stdio(solution: object, stdin_text: str) -> str:
    """Run the solution as ``__main__`` on ``stdin_text``; an encoded ``["ok", output]`` result."""
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin_text.encode("utf-8")), encoding="utf-8")
    captured = io.StringIO()
    sys.stdout = captured
    try:
        exec(solution, {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit:
        pass
    finally:
        sys.stdout = sys.__stdout__
    return '["ok", ' + encode_plain(captured.getvalue()) + "]"


def _run_steps(solution: object, steps: list, result_w: int) -> None:
    """Child side: run the solution and the steps, send the probes' values; never returns."""
    results: list[str] = []
    size = 0
    probes_left = sum(kind in ("probe", "stdio") for kind, _ in steps)
    try:
        namespace = {"__name__": "solution", "__builtins__": builtins}
        if not any(kind == "stdio" for kind, _ in steps):
            exec(solution, namespace)
        for kind, text in steps:
            if kind == "exec":
                exec(compile(text, "<test>", "exec"), namespace)
                continue
            probes_left -= 1
            try:
                if kind == "stdio":
                    entry = _run_stdio(solution, text)
                else:
                    entry = '["ok", ' + encode_plain(eval(compile(text, "<test>", "eval"), namespace)) + "]"
            except BaseException as error:  # the submission's error is this probe's value
                entry = json.dumps(["error", _describe(error)])
            if size + len(entry) > MAX_VALUES_BYTES:
                entry = json.dumps(["error", f"ValueTooLarge: values over {MAX_VALUES_BYTES} bytes"])
            size += len(entry)
            results.append(entry)
    except BaseException as error:  # the solution or a statement failed: later probes fail with it
        results += [json.dumps(["error", _describe(error)])] * probes_left
    try:
        sys.stdout = sys.__stdout__
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    data = ("[" + ", ".join(results) + "]").encode("utf-8", "surrogatepass")
    message = b"%*d" % (_HEADER, len(data)) + data
    try:
        while message:
            message = message[os.write(result_w, message) :]
    finally:
        os._exit(0)


def _read_message(result_r: int, timeout_s: float) -> tuple[bytes | None, str]:
    """The child's length-prefixed message, or ``None`` and why it did not come."""
    deadline = time.monotonic() + timeout_s
    data = b""
    expected = None
    while expected is None or len(data) < expected:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([result_r], [], [], remaining)[0]:
            return None, "timeout"
        chunk = os.read(result_r, 1 << 16)
        if not chunk:
            return None, "ended"
        data += chunk
        if expected is None and len(data) >= _HEADER:
            try:
                expected = _HEADER + int(data[:_HEADER])
            except ValueError:
                return None, "garbled"
            if expected > _HEADER + MAX_VALUES_BYTES + 4096:
                return None, "garbled"
    return data[_HEADER:expected], ""


def _run_one(solution: object, steps: list, report_fd: int, timeout_s: float) -> dict:
    """Fork a child for one test; its values, or why there are none."""
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        os.close(report_fd)
        os.setpgid(0, 0)
        _run_steps(solution, steps, result_w)
    os.close(result_w)
    message, missing = _read_message(result_r, timeout_s)
    os.close(result_r)
    for kill in (os.killpg, os.kill):
        try:  # noqa: SIM105 - contextlib would cost start-up time in every sandbox
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _, status = os.waitpid(pid, 0)
    if message is not None:
        return {"values": message.decode("utf-8", "replace")}
    if missing == "timeout":
        return {"error": f"TimeoutError: timed out after {timeout_s:g} s"}
    if missing == "garbled":
        return {"error": "NoValues: the test process sent a malformed message"}
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.WEXITSTATUS(status)}"
    return {"error": f"NoValues: the test process ended without sending values ({how})"}


def main() -> None:
    """Run every test of the payload on stdin; write one JSON line per test to REPORT_FD."""
    report_fd, per_test_timeout = int(sys.argv[1]), float(sys.argv[2])
    os.set_inheritable(report_fd, False)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    payload = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    try:
        solution = compile(payload["solution"], "solution.py", "exec")
        load_error = ""
    except (SyntaxError, ValueError) as error:
        solution, load_error = None, _describe(error)
    for index, steps in enumerate(payload["tests"]):
        if solution is None:
            line = {"error": load_error}
        else:
            line = _run_one(solution, steps, report_fd, per_test_timeout)
        line["index"] = index
        os.write(report_fd, (json.dumps(line) + "\n").encode())


if __name__ == "__main__":
    main()
