"""smepo/Math-v0 and the bundled math-word benchmark: reward, tool, bad input, gymnasium conformance."""

from __future__ import annotations

import pickle
from collections import Counter

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.benchmarks import load_benchmark
from smepo_env.benchmarks.math.math_word import GENERATORS, critical_spans, expert_action, generate_problems
from smepo_env.envs.math_env import MathEnv

OWN_TASK = {"id": "own", "question": "What is 1/2 + 1/4?", "answers": ["3/4"]}
GARBAGE = [
    "",
    "   ",
    "<answer>",
    "</answer><answer>",
    "<python>print(1)</python>",
    "<search>x</search>",
    "<answer></answer>",
    "<think>\\boxed{3/4}</think>",
    "\x00\x1f<answer>\x00</answer>",
    "é中文€" * 50,
    "<answer><answer>1</answer></answer>",
    "\\boxed{",
    "<answer>" + "9" * 20000 + "</answer>",
]


@pytest.fixture(scope="module")
def small_benchmark():
    """A tenth-size build of math-word (about 1 s)."""
    return load_benchmark("math-word", size=0.1)


def test_expert_episode_scores_one_and_info_is_complete(small_benchmark):
    env = MathEnv(tasks=small_benchmark.tasks("test"))
    task = small_benchmark.tasks("test")[0]
    observation, info = env.reset(options={"task_id": task.id})
    assert task.question in observation and "<answer>" in observation and "<python>" not in observation
    (action,) = task.metadata["expert_actions"]
    observation, reward, terminated, truncated, info = env.step(action)
    assert (observation, reward, terminated, truncated) == ("", 1.0, True, False)
    assert info["correct"] is True and info["parsed_answer"] and info["verify_error"] == ""
    assert info["question_type"] == task.question_type
    assert "answers" not in info and "ground_truth" not in info
    assert [m["role"] for m in info["messages"]] == ["user", "assistant"]


@pytest.mark.parametrize(
    ("action", "reward"),
    [
        ("<answer>0.75</answer>", 1.0),
        ("<answer>\\boxed{\\frac{3}{4}}</answer>", 1.0),
        ("<answer>75\\%</answer>", 1.0),
        ("<think>1/2 = 2/4</think><answer>So it is \\boxed{6/8}.</answer>", 1.0),
        ("<answer>0.7</answer>", 0.0),
        ("<answer>three quarters</answer>", 0.0),
    ],
)
def test_reward_is_symbolic_equivalence(action, reward):
    env = MathEnv(tasks=[OWN_TASK])
    env.reset(seed=0)
    _, got, terminated, _, info = env.step(action)
    assert (got, terminated, info["correct"]) == (reward, True, bool(reward))


def test_untagged_boxed_answer_counts_and_the_transcript_keeps_the_original():
    env = MathEnv(tasks=[OWN_TASK])
    env.reset(seed=0)
    action = "<think>2/4 + 1/4</think> The sum is \\boxed{0.75}."
    _, reward, terminated, _, info = env.step(action)
    assert (reward, terminated, info["answer_from_boxed"]) == (1.0, True, True)
    assert info["messages"][-1] == {"role": "assistant", "content": action}
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("<think>\\boxed{0.75}</think> no answer yet")
    assert (reward, terminated, info["action_kind"]) == (0.0, False, "invalid")


def test_python_tool_runs_code_in_the_sandbox():
    env = MathEnv(tasks=[OWN_TASK], python_tool=True)
    prompt, _ = env.reset(seed=0)
    assert "<python>" in prompt and env.max_turns == 6
    observation, reward, terminated, _, info = env.step(
        "<python>from fractions import Fraction as F\nprint(F(1, 2) + F(1, 4))</python>"
    )
    assert observation == "\n\n<output>3/4</output>\n\n" and (reward, terminated) == (0.0, False)
    assert info["tool_calls"] == {"python": 1} and info["exit_code"] == 0
    observation, *_ = env.step("<python>print(1/0)</python>")
    assert "ZeroDivisionError" in observation
    _, reward, terminated, _, _ = env.step("<answer>3/4</answer>")
    assert (reward, terminated) == (1.0, True)


def test_python_is_refused_without_the_tool():
    env = MathEnv(tasks=[OWN_TASK])
    env.reset(seed=0)
    observation, reward, terminated, _, info = env.step("<python>print(1)</python>")
    assert "not available" in observation and (reward, terminated) == (0.0, False)
    assert info["tool_calls"] == {}


def test_garbage_actions_get_observations_never_exceptions():
    env = MathEnv(tasks=[OWN_TASK], max_turns=len(GARBAGE) + 1)
    env.reset(seed=0)
    for action in [*GARBAGE, None, 17, b"\xff"]:
        observation, reward, terminated, truncated, _ = env.step(action)  # type: ignore[arg-type]
        assert isinstance(observation, str) and reward in (0.0, 1.0)
        if terminated or truncated:
            env.reset(seed=0)


def test_max_turns_truncates():
    env = MathEnv(tasks=[OWN_TASK], max_turns=2)
    env.reset(seed=0)
    assert env.step("thinking")[2:4] == (False, False)
    observation, reward, terminated, truncated, _ = env.step("still thinking")
    assert (observation, reward, terminated, truncated) == ("", 0.0, False, True)


def test_constructor_errors_name_the_value(small_benchmark):
    with pytest.raises(ValueError, match="python_tool"):
        MathEnv(tasks=[OWN_TASK], python_tool="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="math-word"):
        MathEnv(benchmark="math-wrod")
    with pytest.raises(ValueError, match="answer_timeout_s"):
        MathEnv(tasks=[OWN_TASK], answer_timeout_s=0)


@pytest.mark.parametrize("python_tool", [False, True])
def test_gymnasium_conformance_seeding_and_pickle(small_benchmark, python_tool):
    env = gym.make("smepo/Math-v0", tasks=small_benchmark.tasks("dev"), python_tool=python_tool)
    check_env(env.unwrapped, skip_render_check=True)
    first, _ = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    assert first == again
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert clone.reset(seed=7)[0] == first
    assert clone.step("<answer>1</answer>")[2] is True


def test_guidance_shows_the_expert_trace(small_benchmark):
    env = gym.make("smepo/Math-v0", tasks=small_benchmark.tasks("dev"), expert_guidance="full")
    task = small_benchmark.tasks("dev")[3]
    prompt, _ = env.reset(options={"task_id": task.id})
    assert task.expert_trace in prompt


def test_benchmark_is_deterministic_and_splits_are_disjoint():
    first, second = generate_problems(size=0.05, seed=3), generate_problems(size=0.05, seed=3)
    assert first == second
    assert generate_problems(size=0.05, seed=4)["test"] != first["test"]
    texts = {split: {p.question for p in problems} for split, problems in first.items()}
    assert (
        not texts["train"] & texts["test"]
        and not texts["dev"] & texts["test"]
        and not texts["train"] & texts["dev"]
    )


def test_bundled_tasks_carry_traces_spans_levels_and_replay_to_one(small_benchmark):
    env = MathEnv(tasks=small_benchmark.tasks("test"))
    tasks = small_benchmark.tasks("test")
    assert set(Counter(t.question_type for t in tasks)) == set(GENERATORS)
    assert {t.metadata["level"] for t in tasks} == {1, 2, 3}
    for task in tasks:
        assert task.expert_trace == "".join(task.metadata["expert_actions"])
        assert all(span["text"] in task.expert_trace for span in task.critical_spans)
        assert [s["kind"] for s in task.critical_spans][-1] == "answer"
        env.reset(options={"task_id": task.id})
        assert env.step(task.metadata["expert_actions"][0])[1] == 1.0, task.id


def test_expert_solution_lists_intermediate_values_not_question_numbers():
    problem = generate_problems(size=0.05, seed=0)["train"][0]
    spans = critical_spans(problem)
    action = expert_action(problem)
    values = [s["text"] for s in spans if s["kind"] == "value"]
    assert all(value in action for value in values)
    assert spans[-1]["kind"] == "answer" and f"\\boxed{{{problem.answer_latex}}}" in action


@pytest.mark.slow
def test_full_benchmark_sizes_and_oracle():
    benchmark = load_benchmark("math-word")
    sizes = {split: len(benchmark.tasks(split)) for split in ("train", "dev", "test")}
    assert sizes["train"] >= 2000 and sizes["test"] >= 500
    env = gym.make("smepo/Math-v0", split="test")
    for task in benchmark.tasks("test"):
        env.reset(options={"task_id": task.id})
        assert env.step(task.metadata["expert_actions"][0])[1] == 1.0, task.id
