"""Warm fork server for the sandbox launcher: saves an interpreter start-up per run.

The server is one long-lived process per parent process, started on first use as
``python -I -S -c ...`` with an empty environment. For every run the parent sends it, over a
``SOCK_SEQPACKET`` socket, the launcher's command line, environment and working directory
plus the run's pipe ends (``SCM_RIGHTS``); the server forks, and the child *becomes* the
launcher (:func:`sandbox_launcher.main`) exactly as if it had been started by ``Popen``: new
session, pipes on fds 0-2, nothing else open. The program itself is still ``exec``'d fresh
by the launcher, so isolation per run is unchanged. The server answers with a pidfd of the
launcher, which the parent uses to signal it and to see it exit without any pid-reuse race;
the server's children are reaped automatically (SIGCHLD ignored).

The server ends when the parent's socket closes (parent exit). A parent that forks gets its
own server in the child (servers are keyed by pid). This module is stdlib-only: the server
imports it as the top-level module ``sandbox_forkserver``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading

_MESSAGE_LIMIT = 1 << 20
REPLY_TIMEOUT_S = 10.0
"""How long the parent waits for the server to fork; a server that takes longer is replaced."""


def _encode(argv: list[str], env: dict[str, str], cwd: str) -> bytes:
    fields = [cwd, str(len(env)), *(f"{key}={value}" for key, value in env.items()), *argv]
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def _decode(message: bytes) -> tuple[list[str], dict[str, str], str]:
    fields = message.decode("utf-8", "surrogateescape").split("\0")
    cwd, count = fields[0], int(fields[1])
    env = dict(item.partition("=")[::2] for item in fields[2 : 2 + count])
    return fields[2 + count :], env, cwd


class ForkServer:
    """Client of one fork server; thread-safe, restarts the server if it died."""

    def __init__(self, server_command: list[str]) -> None:
        """``server_command`` starts the server; the socket's fd number is appended to it."""
        self._command = server_command
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [*self._command, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={},
                start_new_session=True,
                pass_fds=[theirs.fileno()],
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.settimeout(REPLY_TIMEOUT_S)
        self._socket = ours

    def close(self) -> None:
        """Close the socket (the server then exits) and reap the server; safe to call twice."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1.0)
            self._process = None

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str, fds: list[int]) -> int:
        """Start a launcher with ``fds`` as stdin, stdout, stderr, status[, report].

        In ``argv``, ``status_fd={status_fd}`` and ``{report_fd}`` are filled in with the fd
        numbers the launcher gets. Returns a pidfd of the launcher (the caller closes it),
        or -1 when the launcher had already exited.

        Raises:
            OSError: the server could not be reached twice in a row, did not answer, or
                could not fork.
        """
        message = _encode(argv, env, cwd)
        with self._lock:
            for _attempt in range(2):
                if self._socket is None:
                    self._start()
                assert self._socket is not None
                try:
                    socket.send_fds(self._socket, [message], fds)
                except OSError:
                    self.close()  # the server was gone before it got the request: retry once
                    continue
                try:
                    reply, reply_fds, _, _ = socket.recv_fds(self._socket, 4096, 1)
                except OSError:
                    reply, reply_fds = b"", []
                if reply.startswith(b"P") and reply_fds:
                    return reply_fds[0]
                for fd in reply_fds:
                    os.close(fd)
                if reply.startswith(b"X"):
                    return -1
                if reply.startswith(b"E"):
                    raise OSError(reply[1:].decode("utf-8", "replace"))
                # It may have forked before failing, so the request must not be sent twice.
                self.close()
                raise OSError("the sandbox fork server did not answer")
            raise OSError("the sandbox fork server could not be reached")


def _become_launcher(server: socket.socket, message: bytes, fds: list[int]) -> None:
    """In the forked child: take the run's fds, session, environment and cwd, then run main."""
    import _signal

    import sandbox_launcher

    code = 1
    try:
        server.close()
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        os.setsid()
        argv, env, cwd = _decode(message)
        stdin, stdout, stderr, *extra = fds
        for target, fd in zip((0, 1, 2), (stdin, stdout, stderr), strict=True):
            os.dup2(fd, target)
        for fd in (stdin, stdout, stderr):
            if fd > 2:
                os.close(fd)
        tokens = {"status_fd={status_fd}": f"status_fd={extra[0]}"}
        if len(extra) > 1:
            tokens["{report_fd}"] = str(extra[1])
            os.set_inheritable(extra[1], True)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        code = sandbox_launcher.main([tokens.get(arg, arg) for arg in argv])
    finally:
        os._exit(code)


def serve(socket_fd: int) -> None:
    """Server loop: one fork per request until the parent's end of the socket closes."""
    import _signal

    import sandbox_launcher  # loaded once here, so every forked launcher starts warm

    server = socket.socket(fileno=socket_fd)
    _signal.signal(_signal.SIGCHLD, _signal.SIG_IGN)  # launchers are reaped automatically
    # Orphans of a launcher that was killed come here (and are reaped at once) rather than
    # to an init that may never reap them.
    sandbox_launcher._prctl(sandbox_launcher.PR_SET_CHILD_SUBREAPER, 1)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(server, _MESSAGE_LIMIT, 8)
        except OSError:
            return
        if not message:
            return
        try:
            pid = os.fork()
        except OSError as error:
            reply, reply_fds = b"E" + str(error).encode(), []
        else:
            if pid == 0:
                _become_launcher(server, message, fds)
            try:
                reply, reply_fds = b"P", [os.pidfd_open(pid)]
            except ProcessLookupError:  # already exited (and reaped): nothing left to signal
                reply, reply_fds = b"X", []
        for fd in fds:
            os.close(fd)
        try:
            socket.send_fds(server, [reply], reply_fds)
        except OSError:
            return
        finally:
            for fd in reply_fds:
                os.close(fd)


if __name__ == "__main__":  # pragma: no cover - started through ForkServer
    serve(int(sys.argv[1]))
