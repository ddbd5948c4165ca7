"""Tests of the Python sandbox: API, hidden-test runner, and an adversarial suite.

Every adversarial case asserts containment AND that the sandbox afterwards still serves a
run, with no process, work directory or zombie left behind. Hostile programs are written so
that a broken sandbox cannot take the machine down: bounded fork and allocation counts,
``signal.alarm`` in every process they start, and a faulthandler watchdog on each test.
Containment that a weaker isolation level cannot give (network, parent's environment under
``"none"``) is asserted as "contained, or the result reports the weaker level".
"""

from __future__ import annotations

import dataclasses
import faulthandler
import os
import pickle
import signal
import socket
import tempfile
import threading
import uuid

import pytest

from smepo_env.errors import SandboxUnavailableError
from tools.python_sandbox import (
    ExecutionResult,
    PythonSandbox,
    SandboxConfig,
    available_isolation_levels,
    format_result,
)
from tools.sandbox_tests import split_tests

UID_BASE, UID_SLOTS = 61_000, 8  # apart from the default range other sandboxes on the machine use


@pytest.fixture(autouse=True)
def watchdog():
    """Abort the whole test process (with tracebacks) if one test hangs."""
    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def work_root(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    return root


def make_sandbox(work_root, isolation="auto", **limits) -> PythonSandbox:
    settings = dict(timeout_s=10.0, memory_mb=256, max_output_bytes=4096, max_processes=12, max_file_mb=4)
    settings.update(limits)
    config = SandboxConfig(
        isolation=isolation, uid_base=UID_BASE, uid_slots=UID_SLOTS, work_root=str(work_root), **settings
    )
    return PythonSandbox(config)


_PREEXISTING: set[int] = set()


@pytest.fixture(autouse=True)
def _snapshot_existing_processes():
    """Remember the processes alive before each test, so only new ones count as leftovers."""
    _PREEXISTING.clear()
    _PREEXISTING.update(int(entry) for entry in os.listdir("/proc") if entry.isdigit())
    yield


def leftover_processes(token: str | None = None) -> list[str]:
    """Processes a run may have left: our descendants, private-uid processes, or carrying ``token``.

    The sandbox's fork server is a long-lived child of this process and is not a leftover;
    its children (launchers) are.
    """
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                status = dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        table[int(entry)] = (
            int(status["PPid"]),
            int(status["Uid"].split()[0]),
            status["State"].strip(),
            cmdline,
        )
    fork_servers = {
        pid for pid, (ppid, *_, cmd) in table.items() if ppid == os.getpid() and "sandbox_forkserver" in cmd
    }

    def descends_from_us(pid: int) -> bool:
        while pid in table and pid not in fork_servers:
            pid = table[pid][0]
            if pid == os.getpid():
                return True
        return pid in fork_servers

    found = []
    for pid, (_, uid, state, cmdline) in table.items():
        # Processes that were already running when the test started (another module's
        # worker pool, say) are not this run's leftovers.
        mine = pid not in fork_servers and pid not in _PREEXISTING and descends_from_us(pid)
        if mine or UID_BASE <= uid < UID_BASE + UID_SLOTS or (token and token in cmdline):
            found.append(f"{pid} uid={uid} {state} {cmdline[:80]}")
    return found


@pytest.fixture
def hostile(work_root):
    """The sandbox at the strongest level; afterwards checks it serves and left nothing behind."""
    sandbox = make_sandbox(work_root)
    token = f"smepo-leftover-{uuid.uuid4().hex}"
    yield sandbox, token
    follow_up = sandbox.run("print(6 * 7)")
    assert follow_up.ok and follow_up.stdout == "42\n", follow_up
    assert leftover_processes(token) == []
    assert os.listdir(work_root) == []


STRONGEST = available_isolation_levels()[0]


def with_short_timeout(sandbox: PythonSandbox, seconds: float = 1.5) -> PythonSandbox:
    """The same sandbox (same uids, work root) with a short wall-clock limit."""
    return PythonSandbox(dataclasses.replace(sandbox.config, timeout_s=seconds))


# --- configuration and formatting -----------------------------------------------------------


def test_config_rejects_bad_values_with_a_hint():
    with pytest.raises(
        ValueError, match=r"isolation must be one of .*got 'namespaces'\. Did you mean 'namespace'"
    ):
        SandboxConfig(isolation="namespaces")
    with pytest.raises(ValueError, match="timeout_s"):
        SandboxConfig(timeout_s=0)
    with pytest.raises(ValueError, match="memory_mb"):
        SandboxConfig(memory_mb=1)


def test_sandbox_is_picklable_and_keeps_its_config(work_root):
    sandbox = make_sandbox(work_root, timeout_s=3.0)
    clone = pickle.loads(pickle.dumps(sandbox))
    assert clone.config == sandbox.config
    assert clone.run("print('hi')").stdout == "hi\n"


def test_unavailable_explicit_level_raises(work_root, monkeypatch):
    import tools.python_sandbox as module

    monkeypatch.setitem(module._probe_results, "user", "pretend it is missing")
    with pytest.raises(SandboxUnavailableError, match="pretend it is missing"):
        make_sandbox(work_root, isolation="user").run("pass")


def test_format_result_shows_output_then_error_note():
    timed_out = ExecutionResult(
        "partial\n", "", None, True, False, "none", 1.0, "timeout", "Timed out after 1 s"
    )
    assert format_result(timed_out) == "partial\n[Timed out after 1 s]"
    clean = ExecutionResult("", "", 0, False, False, "none", 0.1)
    assert format_result(clean) == "(no output)"
    crash = ExecutionResult(
        "", "Traceback...\nValueError: x\n", 1, False, False, "none", 0.1, "exit", "Exit code 1"
    )
    assert format_result(crash) == "Traceback...\nValueError: x"


def test_split_tests_gives_each_assert_its_preceding_setup():
    pairs = split_tests("import math\nassert f(1) == 1\nx = 2\nassert f(x) == 4\ncheck(f)\n")
    assert pairs == [
        ("import math", "assert f(1) == 1"),
        ("import math\nx = 2", "assert f(x) == 4"),
        ("import math\nx = 2", "check(f)"),
    ]
    with pytest.raises(ValueError, match="not valid Python"):
        split_tests("assert (")


# --- ordinary runs at every available level -------------------------------------------------


@pytest.mark.parametrize("fork_server", [True, False], ids=["fork-server", "popen"])
@pytest.mark.parametrize("level", available_isolation_levels())
def test_each_level_runs_code_with_stdin_and_cleans_up(work_root, level, fork_server):
    sandbox = make_sandbox(work_root, isolation=level, fork_server=fork_server)
    result = sandbox.run("import sys\nprint(sys.stdin.read().upper())\nprint(2 ** 10)", stdin="abc")
    assert result.ok and result.stdout == "ABC\n1024\n" and result.isolation == level
    assert os.listdir(work_root) == []


@pytest.mark.parametrize("level", available_isolation_levels())
def test_each_level_kills_detached_background_processes(work_root, level):
    token = f"smepo-daemon-{uuid.uuid4().hex}"
    code = f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        sleeper = "import signal, time; signal.alarm(20); time.sleep(20)"
        os.execv(sys.executable, [sys.executable, "-c", sleeper, {token!r}])
    os._exit(0)
print("started")
"""
    result = make_sandbox(work_root, isolation=level).run(code)
    assert result.stdout == "started\n"
    assert leftover_processes(token) == []


@pytest.mark.parametrize("level", available_isolation_levels())
def test_each_level_survives_the_program_killing_its_launcher(work_root, level):
    token = f"smepo-orphan-{uuid.uuid4().hex}"
    code = f"""
import os, signal, sys, time
signal.alarm(20)
os.kill(os.getppid(), signal.SIGKILL)  # at "none" the parent is the launcher (same uid)
sleeper = "import signal, time; signal.alarm(20); time.sleep(20)"
os.execv(sys.executable, [sys.executable, "-c", sleeper, {token!r}])
"""
    sandbox = make_sandbox(work_root, isolation=level, timeout_s=3.0)
    result = sandbox.run(code)
    assert not result.ok and result.duration_s < 6.0
    assert leftover_processes(token) == [] and os.listdir(work_root) == []
    assert sandbox.run("print('next')").stdout == "next\n"


def test_a_forked_parent_gets_its_own_working_sandbox(work_root):
    sandbox = make_sandbox(work_root)
    assert sandbox.run("print(1)").ok  # the parent's fork server now exists
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child process
        try:
            os.write(write_end, sandbox.run("print(2 + 2)").stdout.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        assert os.read(read_end, 100) == b"4\n"
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def test_sandbox_recovers_when_its_fork_server_dies(work_root):
    from tools import sandbox_host

    sandbox = make_sandbox(work_root)
    assert sandbox.run("print(1)").ok
    server = sandbox_host.fork_server()
    assert server is not None and server._process is not None
    os.kill(server._process.pid, signal.SIGKILL)
    server._process.wait(10)
    result = sandbox.run("print('after restart')")
    assert result.ok and result.stdout == "after restart\n"


def test_syntax_error_and_traceback_reach_the_model(work_root):
    result = make_sandbox(work_root).run("def f(:\n  pass")
    assert result.exit_code == 1 and result.error_kind == "exit"
    assert "SyntaxError" in format_result(result) and 'main.py", line 1' in result.stderr


def test_large_unread_stdin_does_not_block_the_parent(work_root):
    result = make_sandbox(work_root).run("print('ignored stdin')", stdin="x" * 5_000_000)
    assert result.ok and result.stdout == "ignored stdin\n"


def test_two_threads_run_concurrently_with_their_own_results(work_root):
    sandbox = make_sandbox(work_root)
    results: dict[int, ExecutionResult] = {}

    def worker(number: int) -> None:
        results[number] = sandbox.run(f"import time; time.sleep(0.2); print({number} * 3)")

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {number: result.stdout for number, result in results.items()} == {0: "0\n", 1: "3\n", 2: "6\n"}


# --- hidden-test runner ---------------------------------------------------------------------


def test_run_tests_counts_each_test_despite_junk_exits_and_hangs(work_root):
    sandbox = make_sandbox(work_root)
    solution = "print('PASSED 99/99')\ndef add(a, b):\n    return a + b\n"
    tests = "assert add(1, 2) == 3\nassert add(1, 2) == 4, 'off by one'\nassert add(2, 2) == 4\n"
    report = sandbox.run_tests(solution, tests)
    assert (report.passed, report.total) == (2, 3)
    assert report.outcomes[1].error == "AssertionError: off by one"

    exiting = sandbox.run_tests("import sys\nsys.exit(0)", tests)
    hard_exit = sandbox.run_tests("import os\nos._exit(0)", tests)
    assert exiting.passed == 0 and hard_exit.passed == 0

    hanging = "def add(a, b):\n    while a == 1:\n        pass\n    return a + b\n"
    report = sandbox.run_tests(hanging, tests, per_test_timeout_s=0.5)
    assert [outcome.passed for outcome in report.outcomes] == [False, False, True]
    assert "timed out" in report.outcomes[0].error


def test_run_tests_rejects_invalid_tests(work_root):
    with pytest.raises(ValueError, match="at least one test"):
        make_sandbox(work_root).run_tests("x = 1", [])
    with pytest.raises(ValueError, match="not valid Python"):
        make_sandbox(work_root).run_tests("x = 1", ["assert ("])


# --- adversarial suite (strongest level) ----------------------------------------------------


def test_infinite_loop_is_stopped_at_the_wall_clock_limit(hostile):
    sandbox = with_short_timeout(hostile[0])
    result = sandbox.run(
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"
    )
    assert result.timed_out and result.exit_code is None and result.error_kind == "timeout"
    assert result.duration_s < sandbox.config.timeout_s + 1.5
    assert format_result(result).endswith("[Timed out after 1.5 s]")


def test_fork_bomb_is_capped(hostile):
    sandbox, token = with_short_timeout(hostile[0]), hostile[1]
    code = f"""
import os, signal, time
signal.alarm(10)
made = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        signal.alarm(10)
        time.sleep(10)  # {token}
        os._exit(0)
    made += 1
print("forked", made, flush=True)
time.sleep(10)
"""
    result = sandbox.run(code)
    made = int(result.stdout.split()[1])
    if result.isolation != "none":
        assert made < sandbox.config.max_processes
    assert result.timed_out


def test_memory_bomb_hits_the_memory_limit(hostile):
    sandbox, _ = hostile
    code = "chunks = []\nfor _ in range(64):  # 1 GiB at most\n    chunks.append(bytearray(16 << 20))\n"
    code += "print('allocated', len(chunks))"
    result = sandbox.run(code)
    assert "allocated" not in result.stdout
    assert result.error_kind == "memory" and "MemoryError" in result.stderr


def test_huge_output_is_truncated_and_stopped(hostile):
    sandbox, _ = hostile
    result = sandbox.run("import sys\nsys.stdout.write('x' * 100_000_000)\nsys.stdout.flush()")
    assert result.truncated and result.error_kind == "output_limit"
    assert result.stdout == "x" * sandbox.config.max_output_bytes
    assert "[... stdout truncated: " in format_result(result)
    assert result.duration_s < sandbox.config.timeout_s
    endless = sandbox.run("while True:\n    print('y' * 100)")
    assert endless.truncated and endless.error_kind == "output_limit"


def test_file_size_limit_stops_big_files(hostile):
    sandbox, _ = hostile
    code = "with open('big.bin', 'wb') as handle:\n    handle.write(b'x' * (5 << 20))\nprint('wrote')"
    result = sandbox.run(code)  # max_file_mb=4
    assert "wrote" not in result.stdout and "File too large" in result.stderr


def test_deep_recursion_crashes_only_the_child(hostile):
    sandbox, _ = hostile
    bounded = sandbox.run("def f(n):\n    return f(n + 1)\nf(0)")
    assert "RecursionError" in bounded.stderr and bounded.exit_code == 1
    code = "import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1)\nf(0)"
    unbounded = with_short_timeout(sandbox).run(
        code
    )  # 3.11 keeps Python frames off the C stack: memory or time runs out
    assert unbounded.error_kind in {"memory", "timeout", "signal"}


def test_writes_outside_the_work_dir_do_not_reach_the_host(hostile):
    sandbox, token = hostile
    shared = tempfile.mkdtemp(prefix="smepo-shared-")
    os.chmod(shared, 0o777)
    targets = [os.path.join(shared, "escaped.txt"), f"/etc/{token}", f"../{token}", f"/var/tmp/{token}"]
    code = f"""
for path in {targets!r}:
    try:
        with open(path, "w") as handle:
            handle.write("escaped")
        print("wrote", path)
    except OSError as error:
        print("blocked", path, type(error).__name__)
open("inside.txt", "w").write("fine")
print(open("inside.txt").read())
"""
    try:
        result = sandbox.run(code)
        assert result.ok and result.stdout.endswith("fine\n")
        host_paths = [targets[0], targets[1], os.path.join(sandbox.config.work_root, token), targets[3]]
        escaped = [path for path in host_paths if os.path.exists(path)]
        assert escaped == [] or result.isolation == "none"
    finally:
        for path in (os.path.join(shared, "escaped.txt"), f"/etc/{token}", f"/var/tmp/{token}"):
            if os.path.exists(path):
                os.remove(path)
        os.rmdir(shared)


def test_parent_environment_is_not_visible(hostile, monkeypatch):
    sandbox, token = hostile
    monkeypatch.setenv("SMEPO_FAKE_SECRET", token)
    code = f"""
import os
print(sorted(os.environ.items()))
for pid in [{os.getpid()}, 1, os.getppid(), *[p for p in os.listdir("/proc") if p.isdigit()]]:
    try:
        print(open(f"/proc/{{pid}}/environ", "rb").read())
    except OSError as error:
        print(pid, type(error).__name__)
"""
    result = sandbox.run(code)
    assert result.exit_code == 0
    assert token not in result.stdout + result.stderr or result.isolation == "none"
    assert "SMEPO_FAKE_SECRET" not in result.stdout.split("\n")[0]


def test_signals_do_not_reach_the_parent(hostile):
    sandbox, _ = hostile
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda number, _: received.append(number))
        for sig in (signal.SIGUSR1, signal.SIGTERM)
    }
    try:
        attempts = [f"os.kill({os.getpid()}, signal.SIGUSR1)", "os.kill(os.getppid(), signal.SIGTERM)"]
        if STRONGEST != "none":  # as root without isolation, kill(-1) would hit the whole machine
            attempts += ["os.kill(-1, signal.SIGUSR1)", f"os.killpg({os.getpgid(0)}, signal.SIGUSR1)"]
        code = "import os, signal\n" + "".join(
            f"try:\n    {attempt}\n    print('sent')\nexcept OSError as e:\n    print(type(e).__name__)\n"
            for attempt in attempts
        )
        result = sandbox.run(code)
        assert result.exit_code == 0
        assert received == [] or result.isolation == "none"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_network_connections_fail(hostile):
    sandbox, _ = hostile
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
    print("connected")
except OSError as error:
    print("refused", type(error).__name__)
"""
        result = sandbox.run(code)
        listener.settimeout(0.1)
        try:
            listener.accept()[0].close()
            accepted = True
        except TimeoutError:
            accepted = False
    assert result.stdout.startswith("refused") or result.isolation != "namespace"
    assert not accepted or result.isolation != "namespace"


@pytest.mark.parametrize(
    ("code", "exit_code", "stderr_part"),
    [
        ("import sys\nprint('before')\nsys.exit(3)", 3, ""),
        ("import sys\nsys.exit('fatal message')", 1, "fatal message"),
        ("import os\nprint('unflushed', end='')\nos._exit(7)", 7, ""),
        ("raise SystemExit(0)", 0, ""),
    ],
)
def test_exits_report_their_status(hostile, code, exit_code, stderr_part):
    sandbox, _ = hostile
    result = sandbox.run(code)
    assert result.exit_code == exit_code and stderr_part in result.stderr
    assert result.error_kind == ("" if exit_code == 0 else "exit")


def test_segfault_is_reported_as_a_signal(hostile):
    sandbox, _ = hostile
    result = sandbox.run("import ctypes\nprint('about to crash', flush=True)\nctypes.string_at(0)")
    assert result.exit_code == -signal.SIGSEGV and result.error_kind == "signal"
    assert format_result(result) == "about to crash\n[Killed by SIGSEGV (segmentation fault)]"


def test_background_process_does_not_outlive_the_run(hostile):
    sandbox, token = hostile
    code = f"""
import subprocess, sys
subprocess.Popen(
    [sys.executable, "-c", "import signal, time; signal.alarm(20); time.sleep(20)", {token!r}],
    start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
print("spawned")
"""
    result = sandbox.run(code)
    assert result.ok and result.stdout == "spawned\n"


def test_non_utf8_output_is_decoded_with_replacement(hostile):
    sandbox, _ = hostile
    code = "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe\\x80 end\\n')\n"
    code += "sys.stderr.buffer.write(b'\\xc3(\\n')"
    result = sandbox.run(code)
    assert result.ok
    assert result.stdout.startswith("ok ") and result.stdout.endswith(" end\n") and "\ufffd" in result.stdout
    assert "\ufffd" in result.stderr
    assert isinstance(format_result(result), str)
