"""Parent side of one sandboxed run: start the launcher, feed stdin, collect bounded output.

The parent never blocks on the child: every wait has a deadline, pipes are read through a
selector, and the launcher runs in its own session so the whole group can be killed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field

LAUNCHER_GRACE_S = 2.0
"""How long past its own deadline the launcher gets before the parent kills its group."""
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
    launcher_returncode: int | None
    duration_s: float


def run_launcher(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdin_data: bytes | None,
    timeout_s: float,
    max_output_bytes: int,
    with_report: bool,
) -> RawRun:
    """Run the launcher command and gather its output under the limits.

    ``argv`` may contain the placeholders ``{status_fd}`` and ``{report_fd}``; they are
    replaced by the write ends of the status pipe and (with ``with_report``) a report pipe.
    """
    started = time.monotonic()
    status_r, status_w = os.pipe()
    report_r, report_w = os.pipe() if with_report else (-1, -1)
    argv = [arg.replace("{report_fd}", str(report_w)).replace("{status_fd}", str(status_w)) for arg in argv]
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
            pass_fds=[fd for fd in (status_w, report_w) if fd >= 0],
        )
    except BaseException:
        for fd in (status_r, status_w, report_r, report_w):
            if fd >= 0:
                os.close(fd)
        raise
    for fd in (status_w, report_w):
        if fd >= 0:
            os.close(fd)
    streams = {
        "stdout": _Stream("head", max_output_bytes),
        "stderr": _Stream("tail", max_output_bytes),
        "status": _Stream("all", 1 << 16),
        "report": _Stream("head", REPORT_LIMIT_BYTES),
    }
    selector = selectors.DefaultSelector()
    assert process.stdout is not None and process.stderr is not None
    selector.register(process.stdout.fileno(), selectors.EVENT_READ, "stdout")
    selector.register(process.stderr.fileno(), selectors.EVENT_READ, "stderr")
    selector.register(status_r, selectors.EVENT_READ, "status")
    if report_r >= 0:
        selector.register(report_r, selectors.EVENT_READ, "report")
    pending_input = memoryview(stdin_data or b"")
    if process.stdin is not None:
        os.set_blocking(process.stdin.fileno(), False)
        selector.register(process.stdin.fileno(), selectors.EVENT_WRITE, "stdin")

    deadline = started + timeout_s + LAUNCHER_GRACE_S
    drain_deadline = float("inf")
    stop_threshold = OUTPUT_STOP_FACTOR * max_output_bytes
    output_stopped = False
    try:
        while selector.get_map():
            remaining = min(deadline, drain_deadline) - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                fd, name = key.fd, key.data
                if name == "stdin":
                    try:
                        written = os.write(fd, pending_input[:_CHUNK])
                        pending_input = pending_input[written:]
                    except BlockingIOError:
                        continue
                    except OSError:
                        pending_input = pending_input[:0]
                    if not pending_input:
                        selector.unregister(fd)
                        process.stdin.close()  # type: ignore[union-attr]
                    continue
                chunk = os.read(fd, _CHUNK)
                if chunk:
                    streams[name].add(chunk)
                    continue
                selector.unregister(fd)
                if name == "status":
                    drain_deadline = time.monotonic() + DRAIN_GRACE_S
            written_total = streams["stdout"].total + streams["stderr"].total
            if written_total > stop_threshold and not output_stopped:
                output_stopped = True
                with contextlib.suppress(OSError):
                    process.send_signal(signal.SIGTERM)  # the launcher stops and cleans up
    finally:
        selector.close()
        killed_by_parent = _finish(process, status_r, report_r)
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
        launcher_returncode=process.returncode,
        duration_s=time.monotonic() - started,
    )


def _finish(process: subprocess.Popen[bytes], *fds: int) -> bool:
    """Close our pipe ends and reap the launcher; kill its group if it is still there.

    Returns:
        True when the parent had to kill the launcher's process group.
    """
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=DRAIN_GRACE_S)
    if process.returncode is not None:
        return False
    # Killed while the launcher is unreaped, so its pid (the group id) cannot be reused.
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=LAUNCHER_GRACE_S)
    return True
