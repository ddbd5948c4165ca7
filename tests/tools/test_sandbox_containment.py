"""Containment cases of issue 13: memory outside RLIMIT_AS, disk quota, host sockets, host files,
kernel keyrings and leftovers of killed runs.

Each case ran through before the fix (2 GiB held by ``memfd_create`` under a 512 MiB limit,
gold answers read from a 0644 task file, ...). The namespace-only cases skip where namespace
isolation is unavailable: the weaker levels do not claim to contain these.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile

import pytest

from tools.python_sandbox import PythonSandbox, SandboxConfig, available_isolation_levels
from tools.sandbox_host import WORK_DIR_PREFIX, sweep_stale_work_dirs

pytestmark = pytest.mark.skipif(
    "namespace" not in available_isolation_levels(), reason="needs namespace isolation (user namespaces)"
)


@pytest.fixture
def sandbox(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    config = SandboxConfig(timeout_s=15.0, memory_mb=256, disk_mb=16, max_files=256, work_root=str(root))
    yield PythonSandbox(config)
    assert os.listdir(root) == []  # nothing of the run is left on the host disk


SYSCALL = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, number, *args):
    result = libc.syscall(number, *args)
    print(name, 'allowed' if result >= 0 else os.strerror(ctypes.get_errno()))
"""


def test_memory_outside_the_address_space_limit_cannot_be_held(sandbox):
    code = (
        """
import mmap, os
try:
    fd = os.memfd_create('hold')
    os.posix_fallocate(fd, 0, 1 << 30)
    print('memfd held 1 GiB')
except OSError as error:
    print('memfd', error.strerror)
try:
    shared = mmap.mmap(-1, 1 << 30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    print('mmap held 1 GiB')
except (OSError, MemoryError, ValueError) as error:
    print('mmap', type(error).__name__)
"""
        + SYSCALL.replace("import ctypes, os", "import ctypes")
        + """
call('shmget', 29, 0, 1 << 30, 0o1000 | 0o600)
call('msgget', 68, 0, 0o1000 | 0o600)
call('unshare', 272, 0x10000000 | 0x20000)
call('clone-newuser', 56, 0x10000000 | 17, 0, 0, 0, 0)
"""
    )
    if os.uname().machine != "x86_64":
        pytest.skip("the syscall numbers in this case are x86-64's")
    result = sandbox.run(code)
    assert result.exit_code == 0, result
    assert result.memory_guard == "seccomp" and result.isolation_summary == "namespace+seccomp"
    lines = result.stdout.splitlines()
    assert "memfd Operation not permitted" in lines
    assert "mmap MemoryError" in lines or "mmap OSError" in lines
    for name in ("shmget", "msgget", "unshare", "clone-newuser"):
        assert f"{name} Operation not permitted" in lines


def test_threads_and_subprocesses_still_work_under_the_filter(sandbox):
    code = (
        "import threading, subprocess, sys, multiprocessing\n"
        "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
        "child = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True, text=True)\n"
        "print(child.stdout.strip())\n"
    )
    result = sandbox.run(code)
    assert result.ok and result.stdout.split() == ["thread", "42"], result


def test_all_writes_share_one_quota_of_bytes_and_files(sandbox):
    code = """
import os
written = 0
try:
    for index, directory in enumerate(['.', '/tmp', '/dev/shm'] * 4):
        with open(os.path.join(directory, f'chunk{index}'), 'wb') as handle:
            handle.write(b'x' * (3 << 20))
        written += 3
except OSError as error:
    print('bytes stopped at', written, 'MiB:', error.strerror)
for name in list(os.listdir('.')):
    if name.startswith('chunk'):
        os.remove(name)
count = 0
try:
    while count < 100000:
        open(f'/tmp/f{count}', 'w').close()
        count += 1
except OSError as error:
    print('files stopped at', count, error.strerror)
"""
    result = sandbox.run(code)
    assert result.exit_code == 0, result
    bytes_line, files_line = result.stdout.splitlines()
    written_mib = int(bytes_line.split()[3])
    assert written_mib <= 16 and bytes_line.endswith("No space left on device")
    assert int(files_line.split()[3]) < 256 and files_line.endswith("No space left on device")


def test_host_unix_sockets_are_unreachable(sandbox, tmp_path):
    # Outside /tmp, which every namespace run has always had a private copy of.
    public = tempfile.mkdtemp(prefix="smepo-socket-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    os.chmod(public, 0o755)
    path = os.path.join(public, "service.sock")
    servers = [socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)]
    servers[0].bind(path)
    os.chmod(path, 0o777)  # world-writable, as dbus and journald sockets are
    servers[1].bind("\0smepo-abstract-test")
    for server in servers:
        server.listen()
    code = f"""
import os, socket
ADDRESSES = [{path!r}, '\\0smepo-abstract-test', '/run/dbus/system_bus_socket']
for address in ADDRESSES + ['/run/systemd/journal/socket']:
    client = socket.socket(socket.AF_UNIX)
    try:
        client.connect(address)
        print('connected', repr(address))
    except OSError as error:
        print('refused', type(error).__name__)
"""
    try:
        result = sandbox.run(code)
    finally:
        for server in servers:
            server.close()
        os.remove(path)
        os.rmdir(public)
    assert result.exit_code == 0, result
    assert "connected" not in result.stdout and result.stdout.count("refused") == 4


def test_only_the_interpreter_and_system_libraries_are_visible(sandbox):
    here = os.path.dirname(os.path.abspath(__file__))
    code = f"""
import os, sys
HOST = ['/etc/passwd', '/etc/hostname', '/var', '/home', '/work', '/root/.cache', {here!r}, '/run', '/sys']
for path in HOST:
    print(path, os.path.exists(path))
print('root', sorted(os.listdir('/')))
import json, numpy
print('stdlib and packages import')
try:
    open('/usr/newfile', 'w')
except OSError as error:
    print('read-only', error.strerror)
"""
    result = sandbox.run(code)
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert all(line.endswith("False") for line in lines[:9]), lines
    root = eval(lines[9].partition(" ")[2])
    assert set(root) <= {
        ".old",
        "proc",
        "dev",
        "tmp",
        "usr",
        "bin",
        "sbin",
        "lib",
        "lib64",
        "lib32",
        "libx32",
        "etc",
        "root",
        "opt",
    }
    assert "stdlib and packages import" in lines and "read-only Read-only file system" in lines


def test_own_packages_in_site_packages_are_masked():
    from tools.sandbox_host import interpreter_layout

    layout = interpreter_layout()
    for masked in layout.masked_paths:
        assert os.path.basename(masked) in ("smepo_env", "tools", "retrieval_index")
        assert any(masked.startswith(site + "/") for site in layout.site_dirs)


def test_kernel_keyrings_cannot_carry_state_between_runs(sandbox):
    if os.uname().machine != "x86_64":
        pytest.skip("the syscall numbers in this case are x86-64's")
    code = (
        SYSCALL
        + """
call('add_key', 248, b'user', b'smepo-state', b'secret', 6, -3)
call('keyctl', 250, 0, -3, 0)
call('request_key', 249, b'user', b'smepo-state', 0, 0)
"""
    )
    first, second = sandbox.run(code), sandbox.run(code)
    for result in (first, second):
        assert result.exit_code == 0, result
        assert result.stdout.split("\n")[:3] == [
            f"{name} Operation not permitted" for name in ("add_key", "keyctl", "request_key")
        ]


def test_work_dirs_of_dead_processes_are_swept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f"{WORK_DIR_PREFIX}{dead_pid}-abc"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "big.bin").write_bytes(b"x" * 1000)
    alive = tmp_path / f"{WORK_DIR_PREFIX}{os.getpid()}-def"
    alive.mkdir()
    unrelated = tmp_path / "smepo-sandbox-notapid"
    unrelated.mkdir()
    assert sweep_stale_work_dirs(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and alive.exists() and unrelated.exists()
    PythonSandbox(SandboxConfig(work_root=str(tmp_path), timeout_s=10.0)).run("pass")  # sweeps at first use
    assert alive.exists()
