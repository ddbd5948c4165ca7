"""The math-word benchmark: generated math problems with step-by-step expert solutions.

Four question types, each at difficulty levels 1 to 3 (``metadata["level"]``), drawn from
templates with random numbers, names and contexts:

* ``arithmetic``: multi-step word problems (packs and trays, change, wages, orchards, buses);
* ``fractions-percentages``: percent of, discounts, successive changes, adding fractions,
  working backwards from what is left;
* ``linear-equations``: ``ax + b = c`` up to two-unknown word problems (tickets, coins, ages);
* ``combinatorics``: product rule, orderings, committees, arrangements with repeated letters.

The expert writes one action: numbered steps inside ``<think>``, each computing one
intermediate value, and the answer as ``<answer>\\boxed{…}</answer>``. It plays that action in
a real :class:`~smepo_env.envs.math_env.MathEnv`, so the trace is a transcript of the
environment and the answer is checked by the same math-verify reward (a problem the reward
does not accept is dropped and counted). Held-out splits are drawn first and no question text
repeats across splits. ``size`` scales the split sizes (1.0: 2,400 train, 300 dev, 600 test).
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from pathlib import Path
from typing import Any

import gymnasium as gym

from smepo_env.benchmarks.expert_play import expert_env, play_split, split_counts
from smepo_env.benchmarks.math.arithmetic_templates import GENERATORS as ARITHMETIC_GENERATORS
from smepo_env.benchmarks.math.counting_templates import GENERATORS as COUNTING_GENERATORS
from smepo_env.benchmarks.math.equation_templates import GENERATORS as EQUATION_GENERATORS
from smepo_env.benchmarks.math.worked_problem import MathProblem
from smepo_env.benchmarks.split_quotas import Cell, draw_splits
from smepo_env.tasks import Task, save_tasks_jsonl

GENERATOR_VERSION = 2
DOMAIN = "math"
BENCHMARK_NAME = "math-word"
SPLIT_SIZES = {"train": 2400, "dev": 300, "test": 600}
"""Problems per split at size 1.0: multiples of the 12 cells (4 types by 3 levels), so every type
and level gets the same count."""
GENERATORS = {**ARITHMETIC_GENERATORS, **EQUATION_GENERATORS, **COUNTING_GENERATORS}
"""Question type -> level -> templates."""
MAX_DRAWS_PER_PROBLEM = 200
"""Template draws allowed per problem of a cell's quota: a template rejects numbers that give no
clean problem, and repeats of a question are skipped, so some draws are wasted."""


def generate_problems(size: float = 1.0, seed: int = 0) -> dict[str, list[MathProblem]]:
    """Draw every split's problems, deterministically from ``size`` and ``seed``.

    Each split is spread evenly over the question types and levels; held-out splits are drawn
    first, and a question text already drawn is never used again
    (see :func:`~smepo_env.benchmarks.split_quotas.draw_splits`).

    Raises:
        ValueError: ``size`` is not positive.
        RuntimeError: the templates cannot supply enough distinct problems for ``size``.
    """
    cells = [
        Cell(f"{category} level-{level}", templates)
        for category, levels in GENERATORS.items()
        for level, templates in levels.items()
    ]
    return draw_splits(
        random.Random(f"{BENCHMARK_NAME}-{GENERATOR_VERSION}-{seed}"),
        cells,
        SPLIT_SIZES,
        size,
        key=lambda problem: problem.question,
        finish=lambda problem, _rng: problem,
        max_draws_per_item=MAX_DRAWS_PER_PROBLEM,
    )


def expert_action(problem: MathProblem) -> str:
    """The expert's one action: numbered steps in ``<think>``, the boxed answer in ``<answer>``."""
    lines = [f"Step {number}: {step.text}" for number, step in enumerate(problem.steps, start=1)]
    lines.append(f"So the answer is {problem.answer}.")
    return "<think>" + "\n".join(lines) + f"</think>\n<answer>\\boxed{{{problem.answer_latex}}}</answer>"


def critical_spans(problem: MathProblem) -> list[dict[str, str]]:
    """The ground-truth critical spans: each step's value, then the answer (and its LaTeX form)."""
    answers = {problem.answer, problem.answer_latex}
    spans: list[dict[str, str]] = []
    seen: set[str] = set()
    for step in problem.steps:
        if step.value and step.value not in seen and step.value not in answers:
            spans.append({"text": step.value, "kind": "value"})
            seen.add(step.value)
    spans += [
        {"text": text, "kind": "answer"} for text in dict.fromkeys((problem.answer, problem.answer_latex))
    ]
    return spans


def build(directory: Path, size: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Build the benchmark's task files into ``directory`` (see :mod:`smepo_env.benchmarks.cache`)."""
    env = expert_env(DOMAIN, max_turns=1)
    counts: dict[str, Any] = {}
    for split, problems in generate_problems(size, seed).items():
        tasks, dropped = play_split(BENCHMARK_NAME, split, problems, functools.partial(_played_task, env))
        save_tasks_jsonl(tasks, Path(directory) / f"{split}.jsonl")
        levels = Counter(task.metadata["level"] for task in tasks)
        counts[split] = {
            **split_counts(tasks, dropped, "unverified"),
            "by_level": {str(level): count for level, count in sorted(levels.items())},
        }
    return {"domain": DOMAIN, "splits": counts}


def _played_task(env: gym.Env[str, str], task_id: str, problem: MathProblem) -> Task | None:
    """Let the expert play ``problem`` in ``env``; the finished task, or ``None`` if it failed."""
    task = Task(
        id=task_id,
        question=problem.question,
        answers=(problem.answer,),
        question_type=problem.category,
        benchmark=BENCHMARK_NAME,
    )
    action = expert_action(problem)
    env.reset(options={"task": task})
    observation, reward, terminated, _, _ = env.step(action)
    if not terminated or reward != 1.0:
        return None
    trace = action + observation
    spans = critical_spans(problem)
    if any(span["text"] not in trace for span in spans):
        raise AssertionError(f"a critical span of {task_id} is not in its trace: {spans}")
    return Task(
        id=task_id,
        question=problem.question,
        answers=(problem.answer,),
        question_type=problem.category,
        benchmark=BENCHMARK_NAME,
        expert_trace=trace,
        critical_spans=tuple(spans),
        metadata={"level": problem.level, "expert_actions": [action]},
    )
