"""smepo/PythonExec-v0 and the bundled code-functions benchmark.

Each sandbox run costs about 0.1 s, so these tests use hand-written tasks and a few generated
ones; building the whole benchmark and replaying its oracle is marked slow.
"""

from __future__ import annotations

import pickle
import time
from collections import Counter

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import smepo_env
from smepo_env.benchmarks.code.code_functions import (
    TEMPLATES,
    _played_task,
    expert_actions,
    generate_problems,
)
from smepo_env.envs.python_exec import PythonExecEnv
from smepo_env.scoring.code import extract_code, stdio_test
from tools.sandbox_test_plan import StdioTest

ADD_TASK = {
    "id": "add",
    "question": "Write `add(a, b)` returning a + b.",
    "answers": ["def add(a, b):\n    return a + b\n"],
    "metadata": {
        "entry_point": "add",
        "tests": [
            "assert add(1, 2) == 3",
            "assert add(-1, 1) == 0",
            "assert add(2, 2) == 4",
            "assert add(0, 5) == 5",
        ],
    },
}
FAST_SANDBOX = {"timeout_s": 2.0}


@pytest.fixture()
def env():
    return PythonExecEnv(tasks=[ADD_TASK], sandbox=FAST_SANDBOX, test_timeout_s=1.0)


def test_tool_turns_then_a_passing_submission(env):
    prompt, _ = env.reset(seed=0)
    assert "<python>" in prompt and "add(a, b)" in prompt
    observation, reward, terminated, _, info = env.step("<python>print(sum(range(5)))</python>")
    assert observation == "\n\n<output>10</output>\n\n" and (reward, terminated) == (0.0, False)
    assert info["exit_code"] == 0 and info["tool_calls"] == {"python": 1}
    observation, *_ = env.step("<python>def f(:\n  pass</python>")
    assert "SyntaxError" in observation
    _, reward, terminated, _, info = env.step(
        "<answer>\n```python\ndef add(a, b):\n    return a + b\n```\n</answer>"
    )
    assert (reward, terminated) == (1.0, True)
    assert info["tests_passed"] == info["tests_total"] == 4 and info["pass_fraction"] == 1.0
    assert "assert" not in str(info["test_errors"])


@pytest.mark.parametrize(
    ("submission", "passed"),
    [
        ("def add(a, b):\n    return a + b", 4),  # bare code
        ("Here:\n```py\ndef add(a, b):\n    return abs(a) + b\n```", 3),  # partly right: reward 0
        (
            "```python\ndef add(a, b):\n    return 0\n```\nand\n```python\ndef add(a, b):\n    return a + "
            "b\n```",
            4,
        ),  # last block
        ("def add(a, b) return a + b", 0),  # syntax error
        ("def plus(a, b):\n    return a + b", 0),  # wrong name
    ],
)
def test_reward_needs_every_hidden_test(env, submission, passed):
    env.reset(seed=0)
    _, reward, _, _, info = env.step(f"<answer>{submission}</answer>")
    assert info["tests_passed"] == passed and info["tests_total"] == 4
    assert reward == (1.0 if passed == 4 else 0.0) and info["correct"] is (passed == 4)


def test_hanging_code_and_submissions_are_cut_off():
    task = {**ADD_TASK, "metadata": {"tests": ["assert add(1, 2) == 3"]}}
    env = PythonExecEnv(tasks=[task], sandbox={"timeout_s": 1.0}, test_timeout_s=0.5)
    env.reset(seed=0)
    started = time.perf_counter()
    observation, *_ = env.step("<python>while True:\n    pass</python>")
    # The CPU limit defaults to the wall limit (1 s), so either may stop a busy loop first.
    assert "Timed out" in observation or "CPU time limit exceeded" in observation
    _, reward, _, _, info = env.step("<answer>def add(a, b):\n    while True:\n        pass</answer>")
    assert reward == 0.0 and info["tests_passed"] == 0
    assert time.perf_counter() - started < 8


def test_submitted_code_never_runs_in_the_env_process(env):
    env.reset(seed=0)
    escape = (
        "try:\n    import smepo_env\n    smepo_env.SANDBOX_ESCAPED = True\nexcept ImportError:\n    pass\n"
        "def add(a, b):\n    return a + b\n"
    )
    _, reward, *_ = env.step(f"<answer>{escape}</answer>")
    assert reward == 1.0 and not hasattr(smepo_env, "SANDBOX_ESCAPED")


def test_stdio_tasks_compare_printed_output():
    task = {
        "question": "Read two ints, print their sum.",
        "answers": ["pass"],
        "metadata": {"stdio_tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5", "output": "10"}]},
    }
    env = PythonExecEnv(tasks=[task], sandbox=FAST_SANDBOX)
    env.reset(seed=0)
    program = "a, b = map(int, input().split())\nif __name__ == '__main__':\n    print(a + b)\n"
    _, reward, _, _, info = env.step(f"<answer>```python\n{program}```</answer>")
    assert reward == 1.0 and info["tests_total"] == 2
    env.reset(seed=0)
    _, reward, _, _, info = env.step("<answer>print(3)</answer>")
    assert reward == 0.0 and info["tests_passed"] == 1
    assert stdio_test("1 2\n", "3") == StdioTest("1 2\n", "3")


def test_a_task_without_tests_scores_zero_with_a_reason():
    env = PythonExecEnv(tasks=[{"question": "anything", "answers": ["pass"]}], sandbox=FAST_SANDBOX)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("<answer>pass</answer>")
    assert (reward, terminated) == (0.0, True) and "no hidden tests" in info["tool_error"]


def test_extract_code_variants():
    assert extract_code("```python\nx = 1\n```") == "x = 1\n"
    assert extract_code("```\ny = 2\n```") == "y = 2\n"
    assert extract_code("```python\nz = 3\n") == "z = 3\n"  # unclosed fence
    assert extract_code("plain = 4") == "plain = 4\n"
    assert extract_code("```text\nno\n```\n```python\nyes = 1\n```") == "yes = 1\n"


def test_garbage_actions_get_observations_never_exceptions(env):
    env.reset(seed=0)
    for action in [
        "",
        "<answer>",
        "<python></python>",
        "<python>" + "x" * 20000 + "</python>",
        "<search>q</search>",
        "\x00<python>print(1)\x00</python>",
        "<answer>```</answer>",
        None,
        3.5,
    ]:
        observation, reward, terminated, truncated, _ = env.step(action)  # type: ignore[arg-type]
        assert isinstance(observation, str) and reward in (0.0, 1.0)
        if terminated or truncated:
            env.reset(seed=0)


def test_gymnasium_conformance_seeding_and_pickle():
    env = gym.make("smepo/PythonExec-v0", tasks=[ADD_TASK, {**ADD_TASK, "id": "add2"}], sandbox=FAST_SANDBOX)
    check_env(env.unwrapped, skip_render_check=True)
    first, _ = env.reset(seed=11)
    assert env.reset(seed=11)[0] == first
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert clone.reset(seed=11)[0] == first
    assert clone.step("<python>print('pickled')</python>")[0].strip() == "<output>pickled</output>"


def test_constructor_errors():
    with pytest.raises(TypeError, match="sandbox"):
        PythonExecEnv(tasks=[ADD_TASK], sandbox=42)
    with pytest.raises(ValueError, match="test_timeout_s"):
        PythonExecEnv(tasks=[ADD_TASK], test_timeout_s=0)
    with pytest.raises(ValueError, match="code-functions"):
        PythonExecEnv(benchmark="code-function")


def test_generation_is_deterministic_varied_and_disjoint():
    first = generate_problems(size=0.1, seed=0)
    assert first == generate_problems(size=0.1, seed=0)
    assert set(Counter(p.category for p in first["test"])) == set(TEMPLATES)
    assert all(len(templates) >= 10 for templates in TEMPLATES.values())
    specs = {split: {p.question.split("\n")[0] for p in problems} for split, problems in first.items()}
    assert not specs["train"] & specs["test"] and not specs["dev"] & specs["test"]
    for problem in first["test"]:
        assert len(problem.tests) >= 4 and all(
            t.startswith(f"assert {problem.entry_point}(") for t in problem.tests
        )
        assert problem.entry_point in problem.question and "Examples:" in problem.question


def test_expert_plays_the_env_with_real_tool_output():
    problem = generate_problems(size=0.05, seed=1)["test"][0]
    task = _played_task("t-0", problem)
    assert task is not None
    assert task.expert_trace.startswith(expert_actions(problem)[0])
    assert "\n\n<output>" in task.expert_trace and task.metadata["expert_actions"] == expert_actions(problem)
    assert {span["kind"] for span in task.critical_spans} == {"code", "output"}
    assert all(span["text"] in task.expert_trace for span in task.critical_spans)


@pytest.mark.slow
def test_full_benchmark_sizes_and_oracle():
    from smepo_env.benchmarks import load_benchmark

    benchmark = load_benchmark("code-functions")
    assert len(benchmark.tasks("train")) >= 500 and len(benchmark.tasks("test")) >= 200
    env = gym.make("smepo/PythonExec-v0", split="test")
    for task in benchmark.tasks("test"):
        env.reset(options={"task_id": task.id})
        rewards = [env.step(action)[1] for action in task.metadata["expert_actions"]]
        assert rewards[-1] == 1.0, task.id
