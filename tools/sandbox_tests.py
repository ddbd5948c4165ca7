"""Hidden-test runner of the code benchmark: a solution against assert-style tests, in the sandbox.

Each test runs in its own process, forked inside the sandbox by the harness
(:mod:`tools.sandbox_harness`), as ``solution; setup; test`` in a fresh namespace whose
``__name__`` is ``"solution"`` (so ``if __name__ == "__main__":`` blocks do not run). One test
failing, hanging (per-test timeout), crashing or calling ``sys.exit`` / ``os._exit`` does not
affect the others.

What the count can be trusted for: ``passed`` comes only from the harness's report pipe, never
from the program's output, and every test missing from the report counts as failed. Printing,
exiting, crashing, hanging, killing the harness or writing files cannot raise the count.
The harness never runs solution code itself and is non-dumpable, so its report fd cannot be
reached from a test process. A test process *can* forge its own verdict (it shares its
process with the solution, which could write ``ok`` to its verdict pipe or return objects
whose ``__eq__`` is always true): the count is robust to accidents and to junk, not to code
written to fool this harness. Test sources are in the test process's memory, so they are not
secret from a solution that inspects frames either.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from tools.sandbox_config import ExecutionResult

if TYPE_CHECKING:
    from tools.python_sandbox import PythonSandbox

HARNESS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_harness.py")
STARTUP_ALLOWANCE_S = 2.0
"""Wall-clock time allowed on top of the tests' own timeouts (interpreter start, clean-up)."""


@dataclass(frozen=True)
class TestOutcome:
    """The verdict on one test.

    Attributes:
        test: the test's source (without its setup).
        passed: whether it ran to the end without raising.
        error: for a failed test, ``"ExceptionType: message"`` or why it has no verdict.
    """

    __test__ = False  # not a pytest test class, despite the name

    test: str
    passed: bool
    error: str = ""


@dataclass(frozen=True)
class TestReport:
    """The result of :func:`run_tests`.

    Attributes:
        passed: tests that passed.
        total: tests given.
        outcomes: one :class:`TestOutcome` per test, in order.
        execution: the sandbox run of the harness (its stdout holds what the solution printed).
    """

    __test__ = False  # not a pytest test class, despite the name

    passed: int
    total: int
    outcomes: tuple[TestOutcome, ...]
    execution: ExecutionResult

    @property
    def fraction(self) -> float:
        """Share of tests passed (0.0 when there are no tests)."""
        return self.passed / self.total if self.total else 0.0

    @property
    def all_passed(self) -> bool:
        """True when there is at least one test and every test passed."""
        return self.total > 0 and self.passed == self.total


def split_tests(test_code: str) -> list[tuple[str, str]]:
    """Split assert-style test code into ``(setup, test)`` pairs.

    Every top-level ``assert`` is a test, run after all non-assert statements before it
    (imports, helpers, fixtures). Non-assert statements after the last assert form one more
    test (so a HumanEval-style ``check(candidate)`` call counts); code with no top-level
    assert is a single test.

    Raises:
        ValueError: ``test_code`` is not valid Python.
    """
    try:
        module = ast.parse(test_code)
    except SyntaxError as error:
        raise ValueError(f"test code is not valid Python: {error}") from error
    pairs: list[tuple[str, str]] = []
    setup: list[str] = []
    trailing: list[str] = []
    for statement in module.body:
        source = ast.get_source_segment(test_code, statement) or ast.unparse(statement)
        if isinstance(statement, ast.Assert):
            setup.extend(trailing)
            trailing = []
            pairs.append(("\n".join(setup), source))
        else:
            trailing.append(source)
    if trailing:
        pairs.append(("\n".join(setup), "\n".join(trailing)))
    return pairs


@cache
def _harness_source() -> str:
    with open(HARNESS_PATH, encoding="utf-8") as handle:
        return handle.read()


def run_tests(
    sandbox: PythonSandbox,
    code: str,
    tests: str | Sequence[str],
    *,
    setup: str = "",
    per_test_timeout_s: float | None = None,
) -> TestReport:
    """Run ``code`` against hidden tests in ``sandbox``; each test in its own process.

    Args:
        sandbox: the sandbox (its config gives the limits and isolation).
        code: the solution's source; any text (a syntax error fails every test).
        tests: assert-style test code, split by :func:`split_tests`, or a sequence of test
            sources, each one test.
        setup: code run before every test (after the solution), for sequences of tests.
        per_test_timeout_s: wall-clock limit per test; ``None`` means the config's timeout.

    Raises:
        ValueError: ``tests`` is empty or not valid Python.
    """
    pairs = split_tests(tests) if isinstance(tests, str) else [(setup, test) for test in tests]
    if not pairs:
        raise ValueError("tests must contain at least one test, got none")
    for index, (setup_source, test) in enumerate(pairs):
        for what, source in (("setup", setup_source), (f"test {index}", test)):
            try:
                ast.parse(source)
            except SyntaxError as error:
                raise ValueError(f"{what} is not valid Python: {error}") from error
    per_test = per_test_timeout_s if per_test_timeout_s is not None else sandbox.config.timeout_s
    if not per_test > 0:
        raise ValueError(f"per_test_timeout_s must be > 0, got {per_test_timeout_s!r}")
    payload = json.dumps({"solution": code, "tests": pairs}, ensure_ascii=False)
    execution, report = sandbox._execute(
        sandbox.isolation,
        program=["-c", _harness_source(), "{report_fd}", f"{per_test:g}"],
        files={},
        stdin=payload.encode("utf-8", "surrogateescape"),
        timeout_s=per_test * len(pairs) + STARTUP_ALLOWANCE_S,
        with_report=True,
    )
    verdicts: dict[int, tuple[bool, str]] = {}
    for line in report.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
            verdicts.setdefault(int(entry["index"]), (entry["passed"] is True, str(entry["error"])))
        except (ValueError, KeyError, TypeError):
            continue
    missing = f"no verdict: the run ended early ({execution.error or 'harness exited'})"
    outcomes = tuple(
        TestOutcome(test, *verdicts.get(index, (False, missing))) for index, (_, test) in enumerate(pairs)
    )
    return TestReport(sum(outcome.passed for outcome in outcomes), len(pairs), outcomes, execution)
