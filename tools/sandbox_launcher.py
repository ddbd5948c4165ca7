"""Child-side launcher of the Python sandbox: sets up isolation, runs one program, cleans up.

This file is executed as a script (``python -I -S sandbox_launcher.py MODE key=value... -- ARGV``)
by :mod:`tools.python_sandbox`; it imports nothing outside the standard library (and its
sibling ``sandbox_seccomp``, stdlib-only too) and never imports the ``tools`` package, so it
starts in a few milliseconds. It runs as the caller's user (root on CI), and only the program
it finally executes (``ARGV``) is untrusted.

Process tree per run (names used in comments below)::

    parent (environment) -> L launcher (this script, caller's uid; session leader)
        namespace mode:  L -> C init (pid 1 of a new pid namespace) -> U untrusted program
        user/none mode:  L -> U untrusted program

* ``namespace``: L unshares mount, network, pid and IPC namespaces (with a user namespace
  too when not root), builds a new root on a tmpfs with read-only binds of the ``bind=``
  paths only, one quota tmpfs for ``/tmp``, ``/dev/shm`` and the work directory (into which
  it copies the run's input files), and switches to it with ``pivot_root``. C mounts a fresh ``/proc``
  and detaches the old root. When C exits, the kernel kills everything left in the pid
  namespace.
* ``user``: root only; U switches to the run's private uid. L sweeps that uid afterwards.
* ``none``: U keeps the caller's uid; L is a child subreaper and kills what is left under it.

In every mode U sets the resource limits, its own process group and ``no_new_privs``, drops
to the run's uid when given, installs the seccomp filter (:mod:`sandbox_seccomp`, reported as
``guard seccomp``) and ``execv``'s ``ARGV``. L enforces the wall-clock limit and
treats SIGTERM from the parent as "stop now". Outcome lines go to the status pipe, which U
never holds after ``exec``: ``exit N``, ``signal N``, ``timeout``, ``stopped``, ``error TEXT``
(plus ``pid N``, U's process group, in user and none mode).
"""

from __future__ import annotations

import _signal as signal  # the C module: ``signal`` imports enum, which slows start-up ~3x
import ctypes
import os
import resource
import sys
import time

import sandbox_seccomp

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
SYS_MOUNT_SETATTR = 442  # same number on every architecture (added in Linux 5.12)
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("null", "zero", "full", "random", "urandom")
"""Device nodes the sandbox sees (bound read-write from the host's /dev)."""
DEVICE_LINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
}

LIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
    "nofile": resource.RLIMIT_NOFILE,
}

_libc = ctypes.CDLL(None, use_errno=True)
try:
    _SECCOMP_PROGRAM = sandbox_seccomp.filter_program()  # built once; the fork server keeps it
except OSError:
    _SECCOMP_PROGRAM = b""


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def encode(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    _check(
        _libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}"
    )


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def _quietly(function, *args) -> None:  # type: ignore[no-untyped-def]
    """Call ``function``, ignoring OSError (contextlib costs start-up time here)."""
    try:  # noqa: SIM105
        function(*args)
    except OSError:
        pass


def _report(status_fd: int, line: str) -> None:
    _quietly(os.write, status_fd, (line.replace("\n", " ") + "\n").encode())


def _parse(argv: list[str]) -> tuple[str, dict[str, list[str]], list[str]]:
    split = argv.index("--")
    options: dict[str, list[str]] = {}
    for item in argv[1:split]:
        key, _, value = item.partition("=")
        options.setdefault(key, []).append(value)
    return argv[0], options, argv[split + 1 :]


def _set_mount_attributes(path: str, attr_set: int, attr_clear: int, recursive: bool) -> None:
    attr = _MountAttr(attr_set, attr_clear, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    result = _libc.syscall(
        SYS_MOUNT_SETATTR, AT_FDCWD, os.fsencode(path), flags, ctypes.byref(attr), ctypes.sizeof(attr)
    )
    _check(result, f"mount_setattr {path}")


def _write_id_maps(uid: int, gid: int) -> None:
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def _open_bind_sources(paths: list[str]) -> list[tuple[str, int, str]]:
    """``(path, O_PATH fd, symlink target or "")`` for every host path to show in the sandbox."""
    sources = []
    for path in paths:
        try:
            if os.path.islink(path):
                sources.append((path, -1, os.readlink(path)))
            else:
                sources.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC), ""))
        except OSError:
            continue  # a path this machine does not have (/lib32, say)
    return sources


def _show(root: str, path: str, fd: int, link: str) -> None:
    """Make host ``path`` (open as ``fd``, or a symlink to ``link``) appear at ``root + path``."""
    target = root + path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if link:
        if not os.path.lexists(target):
            os.symlink(link, target)
        return
    if os.path.isdir(f"/proc/self/fd/{fd}"):
        os.makedirs(target, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    else:
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND)


def _copy_inputs(work_fd: int, destination: str, uid: int | None) -> None:
    """Copy the run's input files (``main.py``) from the host work dir into the sandbox's."""
    for name in os.listdir(work_fd):
        source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=work_fd)
        try:
            target = os.open(os.path.join(destination, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                while chunk := os.read(source, 1 << 16):
                    os.write(target, chunk)
                if uid is not None:
                    os.fchown(target, uid, uid)
            finally:
                os.close(target)
        finally:
            os.close(source)


def _enter_namespaces(options: dict[str, list[str]]) -> None:
    """Unshare namespaces and build the sandbox's file system (in L, before the fork of C).

    The new root is an empty tmpfs holding only read-only binds of the ``bind=`` paths (the
    interpreter, its libraries, a few ``/etc`` files), ``/dev``'s harmless devices, an empty
    ``/proc`` (C mounts a fresh one) and one scratch tmpfs of ``disk_mb`` MiB and ``inodes``
    files that holds ``/tmp``, ``/dev/shm`` and the work directory, so every write of the
    run shares one quota and disappears with the mount namespace. The old root stays at
    ``/.old`` until C has mounted ``/proc`` (a user namespace may only mount a proc while a
    full one is visible), then C detaches it.
    """
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    if os.geteuid() != 0:
        flags |= CLONE_NEWUSER
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(flags), "unshare")
    if flags & CLONE_NEWUSER:
        _write_id_maps(uid, gid)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    host_work = options["workdir"][0]
    work_fd = os.open(host_work, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    sources = _open_bind_sources(options.get("bind", []))
    devices = _open_bind_sources([f"/dev/{name}" for name in DEVICES])
    run_uid = int(options["uid"][0]) if "uid" in options else None
    root = host_work  # the new root is mounted over the host work dir (it exists, and is ours)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
    for path, fd, link in sources:
        if not path.startswith("/tmp/"):
            _show(root, path, fd, link)
    for path in options.get("mask", []):  # our own packages: not readable by the program
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0555,size=4k,nr_inodes=1")
    scratch = root + "/tmp"
    os.makedirs(scratch, exist_ok=True)
    quota = f"mode=1777,size={options['disk_mb'][0]}m,nr_inodes={options['inodes'][0]}"
    _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, quota)
    for path, fd, link in sources:  # an interpreter living in /tmp (a virtualenv) stays visible
        if path.startswith("/tmp/"):
            _show(root, path, fd, link)
    for path, fd, link in devices:
        _show(root, path, fd, link)
    for name, link in DEVICE_LINKS.items():
        os.symlink(link, f"{root}/dev/{name}")
    os.makedirs(f"{root}/dev/shm")
    os.makedirs(f"{scratch}/.shm", mode=0o1777)
    os.chmod(f"{scratch}/.shm", 0o1777)
    _mount(f"{scratch}/.shm", f"{root}/dev/shm", None, MS_BIND)
    mountpoint = options["mountpoint"][0]
    os.makedirs(root + mountpoint, mode=0o700)
    _copy_inputs(work_fd, root + mountpoint, run_uid)
    if run_uid is not None:
        os.chown(root + mountpoint, run_uid, run_uid)
    for directory in ("/proc", "/.old"):
        os.makedirs(root + directory, exist_ok=True)
    _check(
        _libc.syscall(SYS_PIVOT_ROOT[os.uname().machine], os.fsencode(root), os.fsencode(root + "/.old")),
        "pivot_root",
    )
    os.chdir("/")
    _set_mount_attributes("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, recursive=True)
    for path in ("/tmp", "/dev/shm"):
        _set_mount_attributes(path, 0, MOUNT_ATTR_RDONLY, recursive=False)
    os.chdir(mountpoint)
    for fd in [work_fd, *(fd for _, fd, _ in sources + devices if fd >= 0)]:
        os.close(fd)


def _exec_untrusted(options: dict[str, list[str]], argv: list[str], status_fd: int) -> None:
    """Become U: limits, process group, uid, no_new_privs, then exec. Never returns."""
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.setpgid(0, 0)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for key, which in LIMITS.items():
            if key in options:
                soft = int(options[key][0])
                hard = soft + 1 if key == "cpu" else soft
                resource.setrlimit(which, (soft, hard))
        if "uid" in options:
            uid = int(options["uid"][0])
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        if "seccomp" in options:
            sandbox_seccomp.install(_SECCOMP_PROGRAM)
            _report(status_fd, "guard seccomp")
        os.execv(argv[0], argv)
    except BaseException as error:
        _report(status_fd, f"error exec: {error}")
    os._exit(127)


def _describe(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        return f"signal {os.WTERMSIG(wait_status)}"
    return f"exit {os.waitstatus_to_exitcode(wait_status)}"


def _run_init(options: dict[str, list[str]], argv: list[str], status_fd: int) -> None:
    """Be C, pid 1 of the new pid namespace: mount /proc, start U, reap until U exits.

    C dies with L (parent-death signal); if L died before that was set, C is still in L's
    process group, which the parent kills when it sees L gone.
    """
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # Best effort: without a fresh /proc the sandbox has an empty one.
    _quietly(_mount, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    try:
        _check(_libc.umount2(b"/.old", MNT_DETACH), "umount /.old")  # the host's root: gone for good
    except OSError as error:
        _report(status_fd, f"error setup: {error}")
        os._exit(1)
    untrusted = os.fork()
    if untrusted == 0:
        _exec_untrusted(options, argv, status_fd)
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if pid == untrusted:
            _report(status_fd, _describe(wait_status))
            os._exit(0)  # the kernel now kills every process left in the namespace


def _sweep_uid(uid: int) -> None:
    """Kill every process of ``uid`` (from a helper that becomes that uid: kill(-1) spares it)."""
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def _sweep_children() -> None:
    """Kill and reap every descendant left under L (L is a child subreaper)."""
    children_file = f"/proc/self/task/{os.getpid()}/children"
    for _ in range(500):
        try:
            with open(children_file) as handle:
                children = [int(pid) for pid in handle.read().split()]
        except OSError:
            children = []
        for pid in children:
            _quietly(os.kill, pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        time.sleep(0.001)


def _supervise(child: int, mode: str, options: dict[str, list[str]], status_fd: int) -> None:
    """Wait for C or U until the deadline or SIGTERM, then kill and sweep what is left."""
    deadline = time.monotonic() + float(options["timeout"][0])
    if mode != "namespace":
        _report(status_fd, f"pid {child}")  # U's process group, for the parent if L is killed
    wait_status, ending = None, ""
    while wait_status is None:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            wait_status = status
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            ending = "timeout"
        else:
            received = signal.sigtimedwait({signal.SIGCHLD, signal.SIGTERM}, remaining)
            if received is not None and received.si_signo == signal.SIGTERM:
                ending = "stopped"
        if ending:
            _kill_tree(child, mode)
            os.waitpid(child, 0)
            break
    if mode == "user":
        _sweep_uid(int(options["uid"][0]))
    if mode != "namespace":
        _sweep_children()
        if wait_status is not None:
            _report(status_fd, _describe(wait_status))
    if ending:
        _report(status_fd, ending)


def _kill_tree(child: int, mode: str) -> None:
    if mode != "namespace":
        _quietly(os.killpg, child, signal.SIGKILL)
    _quietly(os.kill, child, signal.SIGKILL)


def exit_fast(code: int) -> None:
    """Exit without interpreter finalization (saves milliseconds; nothing is left to flush)."""
    os._exit(code)


def main(argv: list[str]) -> int:
    """Run one sandboxed program; see the module docstring for the command line."""
    mode, options, untrusted_argv = _parse(argv)
    status_fd = int(options["status_fd"][0])
    os.set_inheritable(status_fd, False)
    if mode not in ("namespace", "user", "none", "sweep"):
        _report(status_fd, f"error unknown mode {mode!r}")
        return 2
    if mode == "sweep":
        _sweep_uid(int(options["uid"][0]))
        return 0
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD, signal.SIGTERM})
    try:
        if mode == "namespace":
            _enter_namespaces(options)
        else:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
    except OSError as error:
        _report(status_fd, f"error setup: {error}")
        return 1
    child = os.fork()
    if child == 0:
        if mode == "namespace":
            _run_init(options, untrusted_argv, status_fd)
        _exec_untrusted(options, untrusted_argv, status_fd)
    _supervise(child, mode, options, status_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))  # pragma: no cover - the parent imports the module instead
