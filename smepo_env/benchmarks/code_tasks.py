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

import dataclasses
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from smepo_env.benchmarks.code_algorithms import TEMPLATES as ALGORITHM_TEMPLATES
from smepo_env.benchmarks.code_arithmetic import TEMPLATES as ARITHMETIC_TEMPLATES
from smepo_env.benchmarks.code_lists import TEMPLATES as LIST_TEMPLATES
from smepo_env.benchmarks.code_spec import CodeProblem, render_problem
from smepo_env.benchmarks.code_strings import TEMPLATES as STRING_TEMPLATES
from smepo_env.tasks import Task, save_tasks_jsonl

GENERATOR_VERSION = 3
DOMAIN = "code"
BENCHMARK_NAME = "code-functions"
SPLIT_SIZES = {"train": 560, "dev": 80, "test": 200}
GENERATION_ORDER = ("test", "dev", "train")
TEMPLATES = {
    "string": STRING_TEMPLATES,
    "list": LIST_TEMPLATES,
    "arithmetic": ARITHMETIC_TEMPLATES,
    "algorithm": ALGORITHM_TEMPLATES,
}
"""Question type -> templates."""
MAX_DRAWS_PER_TASK = 100
BUILD_THREADS = 4


def generate_problems(size: float = 1.0, seed: int = 0) -> dict[str, list[CodeProblem]]:
    """Draw every split's problems, deterministically from ``size`` and ``seed``.

    Raises:
        ValueError: ``size`` is not positive.
        RuntimeError: the templates cannot supply enough distinct tasks for ``size``.
    """
    if not size > 0:
        raise ValueError(f"size must be positive, got {size!r}")
    rng = random.Random(f"{BENCHMARK_NAME}-{GENERATOR_VERSION}-{seed}")
    seen: set[tuple[str, str]] = set()
    problems: dict[str, list[CodeProblem]] = {}
    for split in GENERATION_ORDER:
        total = max(len(TEMPLATES), round(SPLIT_SIZES[split] * size))
        drawn: list[CodeProblem] = []
        for index, category in enumerate(TEMPLATES):
            quota = total // len(TEMPLATES) + (1 if index < total % len(TEMPLATES) else 0)
            drawn += _draw_category(rng, category, quota, seen)
        rng.shuffle(drawn)
        problems[split] = drawn
    return {split: problems[split] for split in SPLIT_SIZES}


def _draw_category(
    rng: random.Random, category: str, quota: int, seen: set[tuple[str, str]]
) -> list[CodeProblem]:
    drawn: list[CodeProblem] = []
    for _ in range(quota * MAX_DRAWS_PER_TASK):
        if len(drawn) == quota:
            return drawn
        spec = rng.choice(TEMPLATES[category])(rng)
        key = (spec.signature, spec.description)
        if key in seen:
            continue
        problem = render_problem(spec, rng)
        if problem is None:
            continue
        seen.add(key)
        drawn.append(problem)
    raise RuntimeError(f"only {len(drawn)} of {quota} distinct {category} tasks; lower size")


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
    """Build the benchmark's task files into ``directory`` (see :mod:`smepo_env.benchmarks`)."""
    counts: dict[str, Any] = {}
    for split, problems in generate_problems(size, seed).items():
        ids = [f"{BENCHMARK_NAME}-{split}-{i:05d}" for i in range(len(problems))]
        with ThreadPoolExecutor(BUILD_THREADS) as pool:
            played = list(pool.map(_played_task, ids, problems))
        tasks = [task for task in played if task is not None]
        tasks = [
            dataclasses.replace(task, id=f"{BENCHMARK_NAME}-{split}-{i:05d}") for i, task in enumerate(tasks)
        ]
        save_tasks_jsonl(tasks, Path(directory) / f"{split}.jsonl")
        counts[split] = {
            "questions": len(tasks),
            "dropped_unverified": len(played) - len(tasks),
            "by_type": dict(sorted(Counter(t.question_type for t in tasks).items())),
        }
    return {"domain": DOMAIN, "splits": counts}


_per_thread = threading.local()


def _thread_env() -> Any:
    """This build thread's own environment (an env instance is not shared between threads)."""
    if not hasattr(_per_thread, "env"):
        from smepo_env.envs.python_exec import PythonExecEnv

        placeholder = Task(id="placeholder", question="placeholder", answers=("pass",))
        _per_thread.env = PythonExecEnv(tasks=[placeholder], max_turns=2)
    return _per_thread.env


def _played_task(task_id: str, problem: CodeProblem) -> Task | None:
    """Let the expert play ``problem``; the finished task, or ``None`` if its run or tests failed."""
    env = _thread_env()
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
