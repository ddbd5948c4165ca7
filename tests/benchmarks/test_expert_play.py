"""The scripted expert's plumbing: the domain's real env from the registry, split playing, counts."""

from __future__ import annotations

import threading

import pytest

from retrieval_index.store import load_index
from smepo_env.benchmarks.expert_play import (
    PLACEHOLDER_TASK,
    PerThreadEnv,
    expert_env,
    play_split,
    split_counts,
    task_id,
)
from smepo_env.envs.math_env import MathEnv
from smepo_env.envs.python_exec import PythonExecEnv
from smepo_env.envs.search_qa import SearchQAEnv
from smepo_env.errors import ChoiceError
from smepo_env.tasks import Task


def test_expert_env_is_the_bare_env_of_each_domain_with_the_given_arguments(fictional_benchmark):
    math_env = expert_env("math", max_turns=1)
    assert type(math_env) is MathEnv and math_env.max_turns == 1
    assert math_env.tasks == [PLACEHOLDER_TASK]
    assert type(expert_env("code", max_turns=2)) is PythonExecEnv
    retriever = load_index(fictional_benchmark.index_dir())
    search_env = expert_env("search", retriever=retriever, top_k=2, max_turns=3)
    assert type(search_env) is SearchQAEnv and search_env.top_k == 2


def test_the_expert_env_plays_a_real_task():
    env = expert_env("math", max_turns=1)
    task = Task(id="t", question="What is 6 * 7?", answers=("42",))
    env.reset(options={"task": task})
    _, reward, terminated, _, _ = env.step("<think>6 * 7 = 42</think>\n<answer>\\boxed{42}</answer>")
    assert terminated and reward == 1.0


def test_an_unknown_domain_is_named_with_the_choices():
    with pytest.raises(ChoiceError, match=r"domain must be one of \['search', 'math', 'code'\], got 'maths'"):
        expert_env("maths")


def test_per_thread_env_builds_one_env_per_thread():
    built: list[object] = []

    def make():
        built.append(object())
        return built[-1]

    envs = PerThreadEnv(make)  # type: ignore[arg-type]
    assert envs.get() is envs.get()
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(envs.get()))
    thread.start()
    thread.join()
    assert len(built) == 2 and other[0] is not envs.get()


def _play_even(task_id_: str, number: int) -> Task | None:
    """Keeps even numbers (question type by size), drops odd ones."""
    if number % 2:
        return None
    kind = "big" if number > 5 else "small"
    return Task(id=task_id_, question=f"q{number}", answers=(str(number),), question_type=kind)


@pytest.mark.parametrize("threads", [1, 3])
def test_play_split_keeps_solved_tasks_in_order_and_numbers_them(threads):
    tasks, dropped = play_split("bench", "dev", list(range(10)), _play_even, threads=threads)
    assert dropped == 5
    assert [t.question for t in tasks] == ["q0", "q2", "q4", "q6", "q8"]
    assert (
        [t.id for t in tasks]
        == [task_id("bench", "dev", i) for i in range(5)]
        == [f"bench-dev-0000{i}" for i in range(5)]
    )


def test_split_counts_names_the_drop_reason_and_counts_types():
    tasks, dropped = play_split("bench", "test", list(range(10)), _play_even)
    assert split_counts(tasks, dropped, "unverified") == {
        "questions": 5,
        "dropped_unverified": 5,
        "by_type": {"big": 2, "small": 3},
    }
