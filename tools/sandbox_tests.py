"""Hidden-test runner of the code benchmark, host side: what goes into the sandbox, and the verdict.

:meth:`tools.python_sandbox.PythonSandbox.run_tests` runs a solution against hidden tests. This
module does the two halves that happen on the host, and imports nothing of the sandbox:

* :func:`prepare_tests` splits each test into sandbox steps and host checks
  (:mod:`tools.sandbox_test_plan`) and builds the payload of the in-sandbox harness
  (:mod:`tools.sandbox_harness`): the solution and, per test, only the statements and the
  expressions whose values are needed, never an expected value;
* :func:`judge_tests` reads the values the harness sent back (plain data,
  :mod:`tools.sandbox_plain`) and evaluates every check here.

Each test runs in its own process, forked inside the sandbox, as ``solution; setup; test`` in
a fresh namespace whose ``__name__`` is ``"solution"``. One test failing, hanging (per-test
timeout), crashing or calling ``sys.exit`` does not affect the others. A test without values
counts as failed, so killing the harness, exiting, printing, writing to any file descriptor,
or returning objects with a forged ``__eq__`` cannot raise the count: a submission passes a
test only by returning the expected values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from tools.sandbox_config import ExecutionResult
from tools.sandbox_plain import NotPlainData, decode_results
from tools.sandbox_test_plan import StdioTest, TestPlan, plan_stdio_test, plan_test

HARNESS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_harness.py")
STARTUP_ALLOWANCE_S = 2.0
"""Wall-clock time allowed on top of the tests' own timeouts (interpreter start, clean-up)."""

__all__ = [
    "STARTUP_ALLOWANCE_S",
    "StdioTest",
    "TestOutcome",
    "TestReport",
    "harness_source",
    "judge_tests",
    "prepare_tests",
    "split_tests",
]


@dataclass(frozen=True)
class TestOutcome:
    """The verdict on one test.

    Attributes:
        test: the test's source (without its setup).
        passed: whether every check of the test held.
        error: for a failed test, ``"ExceptionType: message"`` or why it has no verdict.
    """

    __test__ = False  # not a pytest test class, despite the name

    test: str
    passed: bool
    error: str = ""


@dataclass(frozen=True)
class TestReport:
    """The result of running hidden tests.

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
    import ast

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
def harness_source() -> str:
    """The source of the in-sandbox harness, run as ``python -c``."""
    with open(HARNESS_PATH, encoding="utf-8") as handle:
        return handle.read()


def prepare_tests(
    code: str, tests: str | Sequence[str | StdioTest], setup: str = ""
) -> tuple[list[TestPlan], bytes]:
    """Plan every test and build the harness's stdin payload.

    Args:
        code: the solution's source (any text; a syntax error fails every test).
        tests: assert-style test code, split by :func:`split_tests`, or a sequence of tests,
            each a test source or a :class:`StdioTest`.
        setup: code run before every source test (after the solution).

    Raises:
        ValueError: ``tests`` is empty, a test is neither text nor a :class:`StdioTest`,
            or a test or the setup is not valid Python.
    """
    if isinstance(tests, str):
        plans = [plan_test(test_setup, test) for test_setup, test in split_tests(tests)]
    else:
        plans = []
        for index, test in enumerate(tests):
            if isinstance(test, StdioTest):
                plans.append(plan_stdio_test(test))
            elif isinstance(test, str):
                try:
                    plans.append(plan_test(setup, test))
                except ValueError as error:
                    raise ValueError(f"test {index}: {error}") from error
            else:
                raise ValueError(
                    f"test {index} must be a source string or a StdioTest, got {type(test).__name__}"
                )
    if not plans:
        raise ValueError("tests must contain at least one test, got none")
    payload = {"solution": code, "tests": [[list(step) for step in plan.steps] for plan in plans]}
    return plans, json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogateescape")


def judge_tests(plans: Sequence[TestPlan], report: bytes, execution: ExecutionResult) -> TestReport:
    """Decide every test here from the values in the harness's ``report`` (one JSON line per test)."""
    lines: dict[int, dict[str, object]] = {}
    for line in report.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
            index = entry["index"]
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
        if type(index) is int and isinstance(entry, dict):
            lines.setdefault(index, entry)
    missing = f"no values: the run ended early ({execution.error or 'harness exited'})"
    outcomes = []
    for index, plan in enumerate(plans):
        entry = lines.get(index)
        if plan.unsupported:
            passed, error = plan.judge([])
        elif entry is None:
            passed, error = False, missing
        elif "values" in entry:
            try:
                results = decode_results(str(entry["values"]))
            except NotPlainData as refused:
                passed, error = False, f"NotPlainData: {refused}"
            else:
                passed, error = plan.judge(results)
        else:
            passed, error = False, str(entry.get("error", "no values"))[:300]
        outcomes.append(TestOutcome(plan.source, passed, error))
    return TestReport(sum(outcome.passed for outcome in outcomes), len(plans), tuple(outcomes), execution)
