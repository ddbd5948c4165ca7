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

import random
from collections import Counter
from pathlib import Path
from typing import Any

from smepo_env.benchmarks.math_arithmetic import GENERATORS as ARITHMETIC_GENERATORS
from smepo_env.benchmarks.math_counting import GENERATORS as COUNTING_GENERATORS
from smepo_env.benchmarks.math_equations import GENERATORS as EQUATION_GENERATORS
from smepo_env.benchmarks.math_steps import MathProblem
from smepo_env.tasks import Task, save_tasks_jsonl

GENERATOR_VERSION = 2
DOMAIN = "math"
BENCHMARK_NAME = "math-word"
SPLIT_SIZES = {"train": 2400, "dev": 300, "test": 600}
GENERATION_ORDER = ("test", "dev", "train")
GENERATORS = {**ARITHMETIC_GENERATORS, **EQUATION_GENERATORS, **COUNTING_GENERATORS}
"""Question type -> level -> templates."""
MAX_DRAWS_PER_PROBLEM = 200


def generate_problems(size: float = 1.0, seed: int = 0) -> dict[str, list[MathProblem]]:
    """Draw every split's problems, deterministically from ``size`` and ``seed``.

    Each split is spread evenly over the question types and levels; held-out splits are drawn
    first, and a question text already drawn is never used again.

    Raises:
        ValueError: ``size`` is not positive.
        RuntimeError: the templates cannot supply enough distinct problems for ``size``.
    """
    if not size > 0:
        raise ValueError(f"size must be positive, got {size!r}")
    rng = random.Random(f"{BENCHMARK_NAME}-{GENERATOR_VERSION}-{seed}")
    cells = [(category, level) for category, levels in GENERATORS.items() for level in levels]
    seen: set[str] = set()
    problems: dict[str, list[MathProblem]] = {}
    for split in GENERATION_ORDER:
        total = max(len(cells), round(SPLIT_SIZES[split] * size))
        drawn: list[MathProblem] = []
        for index, (category, level) in enumerate(cells):
            quota = total // len(cells) + (1 if index < total % len(cells) else 0)
            drawn += _draw_cell(rng, category, level, quota, seen)
        rng.shuffle(drawn)
        problems[split] = drawn
    return {split: problems[split] for split in SPLIT_SIZES}


def _draw_cell(
    rng: random.Random, category: str, level: int, quota: int, seen: set[str]
) -> list[MathProblem]:
    templates = GENERATORS[category][level]
    drawn: list[MathProblem] = []
    for _ in range(quota * MAX_DRAWS_PER_PROBLEM):
        if len(drawn) == quota:
            return drawn
        problem = rng.choice(templates)(rng)
        if problem is None or problem.question in seen:
            continue
        seen.add(problem.question)
        drawn.append(problem)
    if len(drawn) < quota:
        raise RuntimeError(
            f"only {len(drawn)} of {quota} distinct {category} level-{level} problems; lower size"
        )
    return drawn


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
    """Build the benchmark's task files into ``directory`` (see :mod:`smepo_env.benchmarks`)."""
    from smepo_env.envs.math_env import MathEnv

    placeholder = Task(id="placeholder", question="placeholder", answers=("0",))
    env = MathEnv(tasks=[placeholder], max_turns=1)
    counts: dict[str, Any] = {}
    for split, problems in generate_problems(size, seed).items():
        tasks: list[Task] = []
        dropped = 0
        for problem in problems:
            task = _played_task(env, f"{BENCHMARK_NAME}-{split}-{len(tasks):05d}", problem)
            if task is None:
                dropped += 1
            else:
                tasks.append(task)
        save_tasks_jsonl(tasks, Path(directory) / f"{split}.jsonl")
        counts[split] = {
            "questions": len(tasks),
            "dropped_unverified": dropped,
            "by_type": dict(sorted(Counter(t.question_type for t in tasks).items())),
            "by_level": {str(k): v for k, v in sorted(Counter(t.metadata["level"] for t in tasks).items())},
        }
    return {"domain": DOMAIN, "splits": counts}


def _played_task(env: Any, task_id: str, problem: MathProblem) -> Task | None:
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
