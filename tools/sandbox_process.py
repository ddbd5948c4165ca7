"""Parent side of one sandboxed run: start the launcher, feed stdin, collect bounded output.

The parent never blocks on the child: every wait has a deadline, pipes are read through a
selector, and the launcher runs in its own session. The launcher is started either by a
warm fork server (:mod:`tools.sandbox_forkserver`, signalled through a pidfd) or by
``subprocess.Popen``; both give it the same pipes, session and environment.
"""

from __future__ import annotations

import contextlib
import os
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tools.sandbox_forkserver import ForkServer

LAUNCHER_GRACE_S = 2.0
"""How long past its own deadline the launcher gets before the parent kills it."""
DRAIN_GRACE_S = 0.25
"""How long stdout/stderr may stay open after the launcher has exited."""
OUTPUT_STOP_FACTOR = 64
"""A program that writes more than this many times ``max_output_bytes`` is stopped."""
REPORT_LIMIT_BYTES = 4 << 20
"""Most bytes of the optional report pipe that are kept."""
_CHUNK = 65536


@dataclass
class _Stream:
    """Bytes read from one pipe: a head (stdout), a tail (stderr) or everything (status, report)."""

    keep: str
    limit: int
    data: bytearray = field(default_factory=bytearray)
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.keep == "head":
            room = self.limit - len(self.data)
            if room > 0:
                self.data += chunk[:room]
        else:
            self.data += chunk
            if len(self.data) > 2 * self.limit:
                del self.data[: len(self.data) - self.limit]

    def kept(self) -> bytes:
        return bytes(self.data[-self.limit :] if self.keep == "tail" else self.data)


@dataclass(frozen=True)
class RawRun:
    """What the parent observed of one launcher run, before interpretation."""

    stdout: bytes
    stderr: bytes
    stdout_total: int
    stderr_total: int
    status_lines: tuple[str, ...]
    report: bytes
    output_stopped: bool
    killed_by_parent: bool
    duration_s: float


class _Launcher:
    """The started launcher: a ``Popen`` or a pidfd from the fork server."""

    def __init__(self, process: subprocess.Popen[bytes] | None = None, pidfd: int = -1) -> None:
        self.process, self.pidfd = process, pidfd

    def signal(self, number: int) -> None:
        with contextlib.suppress(OSError):
            if self.process is not None:
                self.process.send_signal(number)
            elif self.pidfd >= 0:
                signal.pidfd_send_signal(self.pidfd, number)

    def wait(self, timeout_s: float) -> bool:
        """Wait until the launcher has exited; True if it did within ``timeout_s``."""
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout_s)
            return self.process.returncode is not None
        return self.pidfd < 0 or bool(select.select([self.pidfd], [], [], timeout_s)[0])

    def kill(self) -> None:
        """SIGKILL the launcher (and, for Popen, its process group while its pid is held)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.signal(signal.SIGKILL)

    def close(self) -> None:
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def _start(
    command: Sequence[str],
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    fds: list[int],
    fork_server: ForkServer | None,
) -> _Launcher:
    if fork_server is not None:
        return _Launcher(pidfd=fork_server.spawn(argv, env, cwd, fds))
    stdin, stdout, stderr, *extra = fds
    tokens = {"status_fd={status_fd}": f"status_fd={extra[0]}"}
    if len(extra) > 1:
        tokens["{report_fd}"] = str(extra[1])
    process = subprocess.Popen(
        [*command, *(tokens.get(arg, arg) for arg in argv)],
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
        close_fds=True,
        pass_fds=extra,
    )
    return _Launcher(process=process)


def run_launcher(
    command: Sequence[str],
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdin_data: bytes | None,
    timeout_s: float,
    max_output_bytes: int,
    with_report: bool,
    fork_server: ForkServer | None,
) -> RawRun:
    """Run the launcher with arguments ``argv`` and gather its output under the limits.

    ``command`` starts the launcher when there is no ``fork_server``. The arguments
    ``status_fd={status_fd}`` and ``{report_fd}`` of ``argv`` are replaced by the write ends
    of the status pipe and (with ``with_report``) of a report pipe.
    """
    started = time.monotonic()
    names = ["stdin", "stdout", "stderr", "status", *(["report"] if with_report else [])]
    ours: dict[str, int] = {}
    theirs: list[int] = []
    try:
        for name in names:
            if name == "stdin" and stdin_data is None:
                theirs.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
                continue
            read_end, write_end = os.pipe()
            ours[name], their_end = (write_end, read_end) if name == "stdin" else (read_end, write_end)
            theirs.append(their_end)
        launcher = _start(command, argv, env, cwd, theirs, fork_server)
    except BaseException:
        for fd in [*ours.values(), *theirs]:
            os.close(fd)
        raise
    for fd in theirs:
        os.close(fd)
    try:
        streams, output_stopped = _collect(launcher, ours, stdin_data, started + timeout_s, max_output_bytes)
    finally:
        for fd in ours.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        killed_by_parent = not launcher.wait(DRAIN_GRACE_S)
        if killed_by_parent:
            launcher.kill()
            launcher.wait(LAUNCHER_GRACE_S)
        launcher.close()
    status_text = streams["status"].kept().decode("utf-8", "replace")
    return RawRun(
        stdout=streams["stdout"].kept(),
        stderr=streams["stderr"].kept(),
        stdout_total=streams["stdout"].total,
        stderr_total=streams["stderr"].total,
        status_lines=tuple(line for line in status_text.splitlines() if line),
        report=streams["report"].kept(),
        output_stopped=output_stopped,
        killed_by_parent=killed_by_parent,
        duration_s=time.monotonic() - started,
    )


def _collect(
    launcher: _Launcher, fds: dict[str, int], stdin_data: bytes | None, deadline: float, max_output_bytes: int
) -> tuple[dict[str, _Stream], bool]:
    """Feed stdin and read every pipe until the launcher is done or the backstop deadline."""
    streams = {
        "stdout": _Stream("head", max_output_bytes),
        "stderr": _Stream("tail", max_output_bytes),
        "status": _Stream("all", 1 << 16),
        "report": _Stream("head", REPORT_LIMIT_BYTES),
    }
    pending_input = memoryview(stdin_data or b"")
    backstop = deadline + LAUNCHER_GRACE_S
    drain_deadline = float("inf")
    stop_threshold = OUTPUT_STOP_FACTOR * max_output_bytes
    output_stopped = False
    with selectors.DefaultSelector() as selector:
        for name, fd in fds.items():
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_WRITE if name == "stdin" else selectors.EVENT_READ, name)
        while selector.get_map():
            remaining = min(backstop, drain_deadline) - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                if key.data == "stdin":
                    try:
                        pending_input = pending_input[os.write(key.fd, pending_input[:_CHUNK]) :]
                    except BlockingIOError:
                        continue
                    except OSError:  # the program closed its stdin or ended
                        pending_input = pending_input[:0]
                    if not pending_input:
                        selector.unregister(key.fd)
                        os.close(fds.pop("stdin"))
                    continue
                try:
                    chunk = os.read(key.fd, _CHUNK)
                except BlockingIOError:
                    continue
                if chunk:
                    streams[key.data].add(chunk)
                    continue
                selector.unregister(key.fd)
                if key.data == "status":
                    drain_deadline = time.monotonic() + DRAIN_GRACE_S
            written = streams["stdout"].total + streams["stderr"].total
            if written > stop_threshold and not output_stopped:
                output_stopped = True
                launcher.signal(signal.SIGTERM)  # the launcher stops the program and cleans up
    return streams, output_stopped
