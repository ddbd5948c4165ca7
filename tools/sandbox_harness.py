"""Hidden-test harness that runs *inside* the sandbox (see :mod:`tools.sandbox_tests`).

Executed as ``python -S -s -u -c SOURCE REPORT_FD PER_TEST_TIMEOUT_S``; reads a JSON payload
``{"solution": str, "tests": [[setup, test], ...]}`` from stdin. It never executes the
solution itself: for every test it forks a child that runs solution, setup and test in a
fresh namespace and writes ``ok`` or the error to a pipe private to that child. The harness
writes one JSON line per test to REPORT_FD, which no child holds, and makes itself
non-dumpable so children cannot reopen that fd through ``/proc``.
"""

from __future__ import annotations

import builtins
import ctypes
import json
import os
import select
import signal
import sys

PR_SET_DUMPABLE = 4
MESSAGE_LIMIT = 300


def _run_in_child(solution: object, setup: object, test: object, result_w: int) -> None:
    """Child side: run one test, write ``ok`` or ``fail <error>``; never returns."""
    message = "ok"
    try:
        namespace = {"__name__": "solution", "__builtins__": builtins}
        exec(solution, namespace)
        exec(setup, namespace)
        exec(test, namespace)
    except BaseException as error:
        message = "fail " + (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(result_w, message.encode("utf-8", "replace")[:MESSAGE_LIMIT])
    finally:
        os._exit(0)


def _run_one(solution: object, setup: object, test: object, report_fd: int, timeout_s: float) -> str:
    """Fork a child for one test and wait for its verdict at most ``timeout_s`` seconds."""
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        os.close(report_fd)
        os.setpgid(0, 0)
        _run_in_child(solution, setup, test, result_w)
    os.close(result_w)
    # The child writes its verdict with one write of at most PIPE_BUF bytes, so the first
    # chunk is all of it; waiting for EOF would wait on any process the test left behind.
    ready = select.select([result_r], [], [], timeout_s)[0]
    message = (
        os.read(result_r, MESSAGE_LIMIT) if ready else b"fail TimeoutError: timed out after %g s" % timeout_s
    )
    os.close(result_r)
    for kill in (os.killpg, os.kill):
        try:  # noqa: SIM105 - contextlib would cost start-up time in every sandbox
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _, status = os.waitpid(pid, 0)
    if not message:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {status >> 8}"
        return f"fail the test process ended without a verdict ({how})"
    return message.decode("utf-8", "replace")


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
        solution, load_error = None, f"fail {type(error).__name__}: {error}"
    for index, (setup_source, test_source) in enumerate(payload["tests"]):
        if solution is None:
            verdict = load_error
        else:
            setup = compile(setup_source, f"<test {index} setup>", "exec")
            test = compile(test_source, f"<test {index}>", "exec")
            verdict = _run_one(solution, setup, test, report_fd, per_test_timeout)
        passed = verdict == "ok"
        line = {"index": index, "passed": passed, "error": "" if passed else verdict[5:]}
        os.write(report_fd, (json.dumps(line) + "\n").encode())


if __name__ == "__main__":
    main()
