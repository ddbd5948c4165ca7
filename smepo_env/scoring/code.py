"""Code scoring: a submission's hidden tests, run in the sandbox, decide the reward.

The ``<answer>`` body is a fenced (```` ```python ````) or bare code block; the last fenced block
counts, a python one preferred (:func:`extract_code`). The task's tests (see
:mod:`smepo_env.envs.python_exec` for where a task keeps them) run after the solution in the
sandbox (:mod:`tools.python_sandbox`), never in this process: the sandbox only computes the
values the tests need from the submission (sent back as plain data), and every comparison with
an expected value is made here, so a submission cannot forge its verdict
(:mod:`tools.sandbox_test_plan` lists the supported test shapes). The reward is 1.0 when every
hidden test passes; the metrics carry ``tests_passed``, ``tests_total``, ``pass_fraction``,
the exception types of failures (never the tests themselves) and the sandbox's ``isolation``.
"""

from __future__ import annotations

import re
from typing import Any

from smepo_env.scoring.verdict import Verdict
from smepo_env.tasks import Task
from tools.sandbox_test_plan import StdioTest

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_code(answer: str) -> str:
    """The code of an ``<answer>`` body: the last fenced block (a python one preferred), else the text."""
    blocks = [(language.lower(), body) for language, body in _FENCE.findall(answer)]
    if not blocks:
        return answer.strip("`\n ") + "\n"
    python_blocks = [body for language, body in blocks if language in ("python", "py", "python3")]
    return (python_blocks or [body for _, body in blocks])[-1].rstrip() + "\n"


def stdio_test(stdin: str, expected: str) -> StdioTest:
    """A whole-program test: the submission, run as ``__main__`` on ``stdin``, must print
    ``expected`` (compared token by token, on the host)."""
    return StdioTest(stdin, expected)


def run_hidden_tests(
    sandbox: Any, task: Task, code: str, per_test_timeout_s: float | None = None
) -> dict[str, Any]:
    """Run ``code`` against ``task``'s hidden tests in the sandbox; the metrics for ``info``.

    Returns ``tests_passed``, ``tests_total``, ``pass_fraction``, ``correct`` and
    ``test_errors`` (exception type per failed test); a task without tests, or a sandbox that
    fails, gives ``tests_total`` 0 or a ``tool_error`` and counts as not passed. Never raises.
    """
    metadata = task.metadata
    stdio_cases = list(metadata.get("stdio_tests") or ())
    try:
        if stdio_cases:
            program = str(metadata.get("solution_prefix") or "") + "\n" + code
            tests = [stdio_test(str(case["input"]), str(case["output"])) for case in stdio_cases]
            report = sandbox.run_tests(program, tests, per_test_timeout_s=per_test_timeout_s)
        else:
            tests = [str(test) for test in metadata.get("tests") or ()]
            if not tests:
                return {
                    "tests_passed": 0,
                    "tests_total": 0,
                    "pass_fraction": 0.0,
                    "correct": False,
                    "tool_error": "the task has no hidden tests",
                }
            solution = str(metadata.get("solution_prefix") or "") + "\n" + code
            report = sandbox.run_tests(
                solution,
                tests,
                setup=str(metadata.get("test_setup") or ""),
                per_test_timeout_s=per_test_timeout_s,
            )
    except Exception as error:  # bad test data or an unavailable sandbox: report, do not crash
        return {
            "tests_passed": 0,
            "tests_total": 0,
            "pass_fraction": 0.0,
            "correct": False,
            "tool_error": f"{type(error).__name__}: {error}"[:300],
        }
    errors = [outcome.error.partition(":")[0] for outcome in report.outcomes if not outcome.passed]
    return {
        "tests_passed": report.passed,
        "tests_total": report.total,
        "pass_fraction": report.fraction,
        "correct": report.all_passed,
        "test_errors": errors,
        "isolation": report.execution.isolation_summary,
    }


def score_code(sandbox: Any, task: Task, answer: str, per_test_timeout_s: float | None = None) -> Verdict:
    """Score an ``<answer>`` body against ``task``'s hidden tests; never raises."""
    metrics = run_hidden_tests(sandbox, task, extract_code(answer), per_test_timeout_s)
    correct = bool(metrics.pop("correct"))
    return Verdict(float(correct), correct, metrics)
