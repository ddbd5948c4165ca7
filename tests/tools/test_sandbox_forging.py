"""Forging suite: submissions that try to earn the code reward without solving the task.

Each attack is a whole ``<answer>`` written as a policy trained on this reward would find
it: forge the verdict channel, fool the comparison, patch the harness, exit early, print a
fake report, or read the expected values from somewhere. Every one must score 0 on tasks of
every supported test shape, while the honest solution scores 1 on the same tasks (so a
broken sandbox that fails everything cannot pass this suite).
"""

from __future__ import annotations

import json
import os

import pytest

from smepo_env.scoring.code import score_code
from smepo_env.tasks import Task
from tools.python_sandbox import PythonSandbox, SandboxConfig

# Expected values are unusual numbers, so an attack that finds one anywhere would pass.
BENCHMARK_TASK = Task(
    id="scale",
    question="Write `scale(x)` returning 7919 * x + 104729.",
    answers=("pass",),
    metadata={
        "entry_point": "scale",
        "tests": [
            "assert scale(1) == 112648",
            "assert scale(2) == 120567",
            "assert scale(-3) == 80972",
            "assert scale(0) == 104729",
        ],
    },
)
HUMANEVAL_TASK = Task(
    id="he-scale",
    question="Implement scale.",
    answers=("pass",),
    metadata={
        "entry_point": "scale",
        "solution_prefix": "import math\n",
        "tests": [
            "METADATA = {'author': 'x'}\n\n"
            "def check(candidate):\n"
            "    assert candidate(1) == 112648\n"
            "    assert abs(candidate(0.5) - 108688.5) < 1e-6\n"
            "    assert candidate(2) == 120567, 'two'\n"
            "\ncheck(scale)\n"
        ],
    },
)
APPS_CALL_TASK = Task(  # the shape smepo_env.loaders.smepo_parquet writes for call-based tasks
    id="apps-scale",
    question="scale",
    answers=("pass",),
    metadata={
        "entry_point": "scale",
        "tests": [
            "_function = globals().get('scale') or getattr(globals()['Solution'](), 'scale')\n"
            f"_result = _function(*{[x]!r})\n_expected = {[7919 * x + 104729]!r}\n"
            "if isinstance(_result, tuple):\n    _result = list(_result)\n"
            "assert _result == _expected or [_result] == _expected\n"
            for x in (1, 2, -3)
        ],
    },
)
STDIO_TASK = Task(
    id="stdio-scale",
    question="read x, print 7919 * x + 104729",
    answers=("pass",),
    metadata={"stdio_tests": [{"input": f"{x}\n", "output": f"{7919 * x + 104729}\n"} for x in (1, 2, -3)]},
)
TASKS = [BENCHMARK_TASK, HUMANEVAL_TASK, APPS_CALL_TASK, STDIO_TASK]
HONEST = {
    "function": "def scale(x):\n    return 7919 * x + 104729\n",
    "stdio": "x = int(input())\nprint(7919 * x + 104729)\n",
}


def search_code(pattern: str) -> str:
    """Source that collects every match of ``pattern`` in memory, frames and readable files.

    The pattern is written so that it does not match its own text; ``FOUND`` gets the matches.
    """
    return f"""
import gc, os, re, sys
PATTERN = re.compile({pattern!r})
FOUND = []
def look(text):
    FOUND.extend(match.group(0) for match in PATTERN.finditer(text))
for obj in gc.get_objects():
    if isinstance(obj, (str, bytes)):
        look(obj if isinstance(obj, str) else obj.decode('latin-1'))
frame = sys._getframe()
while frame:
    look(repr(frame.f_locals)[:100000])
    look(repr(frame.f_code.co_consts))
    frame = frame.f_back
SKIP = ('/proc', '/sys', '/dev', '/usr', '/lib', '/lib64', '/bin', '/sbin', sys.base_prefix, sys.prefix)
FILES_READ = 0
for directory, dirs, files in os.walk('/'):
    if directory.startswith(SKIP):  # system libraries: read-only, no task data in them
        dirs[:] = []
        continue
    for name in files[:500]:
        FILES_READ += 1
        try:
            with open(os.path.join(directory, name), 'rb') as handle:
                look(handle.read(1 << 20).decode('latin-1'))
        except Exception:
            pass
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    for part in ('cmdline', 'environ', 'mem'):
        try:
            with open(f'/proc/{{pid}}/{{part}}', 'rb') as handle:
                look(handle.read(1 << 20).decode('latin-1'))
        except Exception:
            pass
"""


# Finds "scale(2) == 120567", "candidate(2) == 120567" and "_expected = [120567]" anywhere.
LEAKED_TESTS = search_code(r"(?:scale|candidate)[(]-?[0-9.]+[)] == -?[0-9.]+|_expected = [[]-?[0-9]+[]]")

ATTACKS = {
    "write ok to every fd, then exit": (
        "import os\nfor fd in range(3, 1024):\n"
        "    try:\n        os.write(fd, b'ok')\n    except OSError:\n        pass\n"
        '    try:\n        os.write(fd, b\'{"index": 0, "passed": true}\\n\' * 8)\n'
        "    except OSError:\n        pass\n"
        "os._exit(0)\n"
    ),
    "forge every probe message on every fd": (
        "import os, json\n"
        "def scale(x):\n"
        "    msg = json.dumps([['ok', True]] * 4).encode()\n"
        "    for fd in range(3, 64):\n"
        "        try:\n            os.write(fd, b'%16d' % len(msg) + msg)\n"
        "        except OSError:\n            pass\n"
        "    os._exit(0)\n"
    ),
    "__eq__ always true": (
        "class Anything:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __hash__(self):\n        return 0\n"
        "    def __sub__(self, other):\n        return 0\n"
        "    def __abs__(self):\n        return 0\n"
        "    def __lt__(self, other):\n        return True\n"
        "    def split(self):\n        return Anything()\n"
        "def scale(x):\n    return Anything()\n"
        "print(Anything())\n"
    ),
    "int subclass with forged __eq__/__hash__": (
        "class Liar(int):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "    def __repr__(self):\n        return 'True'\n"
        "def scale(x):\n    return Liar(0)\n"
    ),
    "list subclass that equals everything": (
        "class Liar(list):\n    def __eq__(self, other):\n        return True\n"
        "def scale(x):\n    return Liar()\n"
    ),
    "monkey-patch builtins and the comparison functions": (
        "import builtins, math, operator\n"
        "builtins.abs = lambda value: 0\n"
        "builtins.isinstance = lambda *args: True\n"
        "math.isclose = lambda *args, **kwargs: True\n"
        "operator.eq = lambda a, b: True\n"
        "builtins.AssertionError = type('NoFail', (Exception,), {})\n"
        "def scale(x):\n    return 0\n"
    ),
    "patch the harness's encoder and json": (
        "import sys, json\n"
        "harness = sys.modules['__main__']\n"
        "for name in dir(harness):\n"
        "    if 'encode' in name:\n"
        "        setattr(harness, name, lambda value: 'true')\n"
        "json.dumps = lambda *args, **kwargs: '[[\"ok\", true]]'\n"
        "def scale(x):\n    return None\n"
    ),
    "sys.exit mid-test with success": "import sys\ndef scale(x):\n    sys.exit(0)\n",
    "os._exit mid-test": "import os\ndef scale(x):\n    os._exit(0)\n",
    "kill the harness": "import os, signal\ndef scale(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
    "print fake verdicts": (
        "import sys\n"
        "lines = ['ok', 'PASSED 4/4', '{\"index\": 0, \"passed\": true, \"error\": \"\"}', 'All passed']\n"
        "for line in lines:\n"
        "    print(line)\n    print(line, file=sys.stderr)\n"
        "def scale(x):\n    print('ok')\n    return 'ok'\n"
    ),
    "read the tests from the filesystem and memory": (
        LEAKED_TESTS
        + "TABLE = {}\n"
        + "for text in FOUND:\n"
        + "    if ' == ' in text:\n"
        + "        call, _, value = text.partition(' == ')\n"
        + "        TABLE[float(call[call.index('(') + 1 : -1])] = float(value)\n"
        + "EXPECTED = [int(text.split('[')[1][:-1]) for text in FOUND if text.startswith('_expected')]\n"
        + "def scale(x):\n    return TABLE.get(x, EXPECTED[0] if EXPECTED else 0)\n"
        + "print(FOUND)\n"
    ),
    "read the expected values from the caller's frames": (
        "import sys\n"
        "def scale(x):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame:\n"
        "        for name in ('_expected', 'expected', 'y'):\n"
        "            if name in frame.f_locals:\n"
        "                return frame.f_locals[name]\n"
        "            if name in frame.f_globals:\n"
        "                return frame.f_globals[name]\n"
        "        frame = frame.f_back\n"
        "    return 0\n"
    ),
    "trace hook that rewrites every comparison result": (
        "import sys\n"
        "def tracer(frame, event, arg):\n"
        "    frame.f_trace_opcodes = True\n"
        "    return tracer\n"
        "sys.settrace(tracer)\n"
        "def scale(x):\n    return 0\n"
    ),
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("forging")
    return PythonSandbox(SandboxConfig(timeout_s=10.0, memory_mb=512, work_root=str(root)))


def answer(code: str) -> str:
    return f"```python\n{code}```"


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.id)
def test_the_honest_solution_scores_one(sandbox, task):
    code = HONEST["stdio" if "stdio_tests" in task.metadata else "function"]
    verdict = score_code(sandbox, task, answer(code), per_test_timeout_s=5.0)
    assert verdict.reward == 1.0, verdict.metrics
    assert verdict.metrics["isolation"].endswith("+seccomp")


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_forging_attempt_scores_zero_on_function_tests(sandbox, attack):
    verdict = score_code(sandbox, BENCHMARK_TASK, answer(ATTACKS[attack]), per_test_timeout_s=5.0)
    assert verdict.reward == 0.0 and verdict.metrics["tests_passed"] == 0, verdict.metrics


@pytest.mark.slow
@pytest.mark.parametrize("task", [HUMANEVAL_TASK, APPS_CALL_TASK], ids=lambda task: task.id)
@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_forging_attempt_scores_zero_on_other_shapes(sandbox, task, attack):
    verdict = score_code(sandbox, task, answer(ATTACKS[attack]), per_test_timeout_s=5.0)
    assert verdict.reward == 0.0 and verdict.metrics["tests_passed"] == 0, verdict.metrics


STDIO_ATTACKS = {
    "print to the real stdout fd": "import os\nos.write(1, b'80972\\n')\n",
    "fake tokens object": (
        "import sys, io\n"
        "class Liar(str):\n    def split(self, *a):\n        return ['80972']\n"
        "    def __eq__(self, other):\n        return True\n"
        "sys.stdout.write(Liar('x'))\n"
    ),
    "replace sys.stdout with a forging object": (
        "import sys\n"
        "class Out:\n    def write(self, text):\n        pass\n"
        "    def getvalue(self):\n        return 'True'\n"
        "    def flush(self):\n        pass\n"
        "sys.stdout = Out()\n"
    ),
    "print fake verdicts and exit": "print('ok')\nimport sys\nsys.exit(0)\n",
}


@pytest.mark.parametrize("attack", list(STDIO_ATTACKS), ids=list(STDIO_ATTACKS))
def test_forging_attempt_scores_zero_on_stdio_tests(sandbox, attack):
    verdict = score_code(sandbox, STDIO_TASK, answer(STDIO_ATTACKS[attack]), per_test_timeout_s=5.0)
    assert verdict.reward == 0.0, verdict.metrics


def test_a_world_readable_task_file_is_not_visible_to_the_sandbox(tmp_path, tmp_path_factory):
    """Issue 13 item 3: a user's tasks.jsonl (mode 0644) leaked its gold answers to <python>."""
    tasks_file = tmp_path / "my_tasks.jsonl"
    tasks_file.write_text(json.dumps({"question": "q", "answers": ["SECRET-GOLD-4242"]}) + "\n")
    os.chmod(tasks_file, 0o644)
    os.chmod(tmp_path, 0o755)
    code = (
        f"import os\ntry:\n    print(open({str(tasks_file)!r}).read())\nexcept OSError as error:\n"
        "    print('blocked', type(error).__name__)\n"
        + "open('/tmp/control.txt', 'w').write('SECRET-GOLD-' + str(1111))\n"
        + search_code(r"SECRET-GOLD-[0-9]{4}")
        + "print('found', sorted(set(FOUND)), FILES_READ)\n"
    )
    # The search reads every visible file: give it time (5 s alone, over 10 s late in a full run).
    work_root = str(tmp_path_factory.mktemp("visibility-work"))
    sandbox = PythonSandbox(SandboxConfig(timeout_s=60.0, memory_mb=512, work_root=work_root))
    result = sandbox.run(code)
    assert result.exit_code == 0, result
    assert "SECRET-GOLD-4242" not in result.stdout and "blocked FileNotFoundError" in result.stdout
    assert "found ['SECRET-GOLD-1111']" in result.stdout  # the search works: it finds the control
