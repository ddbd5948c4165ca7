"""Issue 13 item 6: the action length limit applies before parsing, and parsing is linear.

Speed itself is measured by ``bench/bench_step_length.py``; these tests pin the behaviour
that makes it linear: the limit is checked first, and the boxed-answer scan gives the same
answers as before on ordinary and degenerate text.
"""

from __future__ import annotations

import pytest

from smepo_env.envs.math_env import MathEnv
from smepo_env.protocol import MAX_ACTION_CHARS, parse_action
from smepo_env.scoring.math import last_boxed_content

MATH_TASK = {"id": "m", "question": "1 + 1?", "answers": ["2"]}


def test_an_action_over_the_limit_is_invalid_before_any_parsing():
    action = "<answer>2</answer>" + "x" * MAX_ACTION_CHARS
    parsed = parse_action(action, allowed=("answer",))
    assert parsed.kind == "invalid" and f"limit is {MAX_ACTION_CHARS}" in parsed.error
    assert parse_action("<answer>2</answer>", allowed=("answer",), max_action_chars=10).kind == "invalid"
    assert parse_action("<answer>2</answer>", allowed=("answer",)).kind == "answer"


def test_math_env_refuses_an_overlong_boxed_action_without_scoring_it():
    env = MathEnv(tasks=[MATH_TASK])
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("\\boxed{2}" + " " * MAX_ACTION_CHARS)
    assert (reward, terminated) == (0.0, False) and "limit" in info["format_error"]
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("so \\boxed{2}")
    assert (reward, terminated) == (1.0, True) and info["answer_from_boxed"]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("a \\boxed{1} b \\boxed{2}", "2"),
        ("\\boxed{a{b}c}", "a{b}c"),
        ("\\boxed{1} \\boxed{2", "1"),
        ("\\boxed{\\boxed{3}}", "3"),
        ("x}} \\boxed{4}}", "4"),
        ("\\fbox { 5 }", "5"),
        ("\\boxed{1}" + "\\boxed{" * 20_000, "1"),
        ("\\boxed{" * 20_000 + "7" + "}" * 20_000, "7"),
        ("no box here", None),
        ("\\boxed{" * 20_000, None),
    ],
)
def test_last_boxed_content_on_ordinary_and_degenerate_text(text, content):
    assert last_boxed_content(text) == content


def test_degenerate_actions_get_invalid_observations_in_every_env():
    env = MathEnv(tasks=[MATH_TASK])
    for unit in ("\\boxed{", "<think>", "<answer>", "</", "{"):
        env.reset(seed=0)
        observation, reward, terminated, _, _ = env.step(unit * 50_000)
        assert "Invalid action" in observation and reward == 0.0 and not terminated
