"""The code-functions benchmark: function-writing tasks with hidden tests and a tool-using expert.

Four question types, each from a dozen templates with random parameters (a letter, a shift, a
divisor, a coin set, a bracket set, ...), so no two tasks ask for the same function:

* ``string``: counting, shifting, padding, run-length encoding, masking, word operations;
* ``list``: filtering, chunking, rotating, running sums, windows, de-duplication, merging;
* ``arithmetic``: digit sums, base conversion, divisibility counts, sequences, primes;
* ``algorithm``: binary search, bracket matching, coin change, stair climbing, islands.

The question gives the signature, the specification and two examples; five or six hidden
tests (assertions, edge cases included, never all with the same expected value) decide the
reward. Expected values come from the reference solution. The expert plays a real
:class:`~smepo_env.envs.python_exec.PythonExecEnv`: it states its plan, runs the reference
solution on the two examples with ``<python>`` (the trace holds the sandbox's real
``<output>``), checks the printed values against the examples, then submits the code in
``<answer>``; a task whose submission does not pass all hidden tests is dropped.
Held-out splits are drawn first; a function specification never repeats across splits.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from smepo_env.benchmarks.code.algorithm_templates import TEMPLATES as ALGORITHM_TEMPLATES
from smepo_env.benchmarks.code.arithmetic_templates import TEMPLATES as ARITHMETIC_TEMPLATES
from smepo_env.benchmarks.code.function_spec import CodeProblem, FunctionSpec, render_problem
from smepo_env.benchmarks.code.list_templates import TEMPLATES as LIST_TEMPLATES
from smepo_env.benchmarks.code.string_templates import TEMPLATES as STRING_TEMPLATES
from smepo_env.benchmarks.expert_play import PerThreadEnv, expert_env, play_split, split_counts
from smepo_env.benchmarks.split_quotas import Cell, draw_splits
from smepo_env.tasks import Task, save_tasks_jsonl

GENERATOR_VERSION = 3
DOMAIN = "code"
BENCHMARK_NAME = "code-functions"
SPLIT_SIZES = {"train": 560, "dev": 80, "test": 200}
"""Tasks per split at size 1.0: multiples of the 4 question types, so each gets the same count."""
TEMPLATES = {
    "string": STRING_TEMPLATES,
    "list": LIST_TEMPLATES,
    "arithmetic": ARITHMETIC_TEMPLATES,
    "algorithm": ALGORITHM_TEMPLATES,
}
"""Question type -> templates."""
MAX_DRAWS_PER_TASK = 100
"""Template draws allowed per task of a type's quota: a repeated specification, or one whose
random tests a constant could pass, is skipped."""
BUILD_THREADS = 4
"""Tasks played at once: the expert's runs wait on the sandbox's subprocesses, not on Python."""
EXPERT_MAX_TURNS = 2
"""The expert's episode: one test run on the examples, then the submission."""

_expert_envs = PerThreadEnv(lambda: expert_env(DOMAIN, max_turns=EXPERT_MAX_TURNS))


def generate_problems(size: float = 1.0, seed: int = 0) -> dict[str, list[CodeProblem]]:
    """Draw every split's problems, deterministically from ``size`` and ``seed``.

    Each split is spread evenly over the question types; held-out splits are drawn first, and a
    function specification already drawn is never used again
    (see :func:`~smepo_env.benchmarks.split_quotas.draw_splits`).

    Raises:
        ValueError: ``size`` is not positive.
        RuntimeError: the templates cannot supply enough distinct tasks for ``size``.
    """
    return draw_splits(
        random.Random(f"{BENCHMARK_NAME}-{GENERATOR_VERSION}-{seed}"),
        [Cell(category, templates) for category, templates in TEMPLATES.items()],
        SPLIT_SIZES,
        size,
        key=_specification,
        finish=render_problem,
        max_draws_per_item=MAX_DRAWS_PER_TASK,
    )


def _specification(spec: FunctionSpec) -> tuple[str, str]:
    """What makes two tasks the same: the signature and what the function must do."""
    return spec.signature, spec.description


def expert_test_program(problem: CodeProblem) -> str:
    """The expert's ``<python>`` body: the solution, then the examples printed with ``repr``."""
    prints = "\n".join(f"print(repr({call}))" for call, _ in problem.examples)
    return f"{problem.solution}\n\n{prints}"


def expert_actions(problem: CodeProblem) -> list[str]:
    """The expert's two actions: its plan and a test run on the examples, then the submission."""
    test_run = (
        f"<think>{problem.plan} Let me test it on the examples first.</think>\n"
        f"<python>\n{expert_test_program(problem)}\n</python>"
    )
    submission = (
        "<think>The printed values match the expected results of both examples, so the function is "
        f"correct. I will submit it.</think>\n<answer>\n```python\n{problem.solution}```\n</answer>"
    )
    return [test_run, submission]


def build(directory: Path, size: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Build the benchmark's task files into ``directory`` (see :mod:`smepo_env.benchmarks.cache`)."""
    counts: dict[str, Any] = {}
    for split, problems in generate_problems(size, seed).items():
        tasks, dropped = play_split(BENCHMARK_NAME, split, problems, _played_task, threads=BUILD_THREADS)
        save_tasks_jsonl(tasks, Path(directory) / f"{split}.jsonl")
        counts[split] = split_counts(tasks, dropped, "unverified")
    return {"domain": DOMAIN, "splits": counts}


def _played_task(task_id: str, problem: CodeProblem) -> Task | None:
    """Let the expert play ``problem``; the finished task, or ``None`` if its run or tests failed."""
    env = _expert_envs.get()
    metadata: dict[str, Any] = {"entry_point": problem.entry_point, "tests": problem.tests}
    task = Task(
        id=task_id,
        question=problem.question,
        answers=(problem.solution,),
        question_type=problem.category,
        benchmark=BENCHMARK_NAME,
        metadata=metadata,
    )
    test_run, submission = expert_actions(problem)
    env.reset(options={"task": task})
    observation, _, terminated, truncated, _ = env.step(test_run)
    expected = "\n".join(repr(value) for _, value in problem.examples)
    if terminated or truncated or observation.strip() != f"<output>{expected}</output>":
        return None
    _, reward, terminated, _, _ = env.step(submission)
    if not terminated or reward != 1.0:
        return None
    # The signature is given in the question, so the critical code is the body under it.
    head, _, body = problem.solution.strip().partition(":\n")
    spans = ({"text": body if body else head, "kind": "code"}, {"text": expected, "kind": "output"})
    return Task(
        id=task_id,
        question=problem.question,
        answers=(problem.solution,),
        question_type=problem.category,
        benchmark=BENCHMARK_NAME,
        expert_trace=test_run + observation + submission,
        critical_spans=spans,
        metadata={**metadata, "expert_actions": [test_run, submission]},
    )
