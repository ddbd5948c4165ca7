"""The expert-guidance wrapper: what each mode shows, and that nothing else changes."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import smepo_env  # noqa: F401
from smepo_env.envs.search_qa import SearchQAEnv
from smepo_env.guidance import DEFAULT_INTRO, ExpertGuidanceWrapper, cut_prefix

TRACE = (
    "<think>line one</think>\n<search>query two</search>\n\n"
    "<information>Doc 1(Title: T) text</information>\n\n<answer>Gaekuth</answer>"
)
TASK = {
    "id": "t1",
    "question": "Where was Bridith Nouju born?",
    "answers": ["Gaekuth"],
    "expert_trace": TRACE,
}


def _guided(mode: str, **kwargs):
    return ExpertGuidanceWrapper(SearchQAEnv(tasks=[TASK]), mode, **kwargs)


def test_none_is_the_plain_prompt():
    plain, _ = SearchQAEnv(tasks=[TASK]).reset(seed=0)
    guided, info = _guided("none").reset(seed=0)
    assert guided == plain and info["guidance"] == {"mode": "none", "applied": False, "prefix_ratio": 1.0}


def test_full_shows_the_trace_once_between_intro_and_tail():
    plain, _ = SearchQAEnv(tasks=[TASK]).reset(seed=0)
    prompt, info = _guided("full", guidance_tail="Your turn.").reset(seed=0)
    assert prompt == f"{plain}\n\n{DEFAULT_INTRO}\n{TRACE}\nYour turn."
    assert info["messages"] == [{"role": "user", "content": prompt}]
    assert info["guidance"]["applied"] and info["guidance"]["shown_chars"] == len(TRACE)


def test_prefix_cuts_back_to_a_line_boundary():
    prompt, info = _guided("prefix", prefix_ratio=0.5).reset(seed=0)
    shown = cut_prefix(TRACE, 0.5)
    assert shown == "<think>line one</think>\n<search>query two</search>"
    assert shown in prompt and "Gaekuth</answer>" not in prompt
    assert info["guidance"]["shown_chars"] == len(shown)


@pytest.mark.parametrize(
    ("text", "ratio", "expected"),
    [
        ("a\nb\nc\nd", 1.0, "a\nb\nc\nd"),
        ("aaaa\nbbbb\ncccc", 0.6, "aaaa"),
        ("no newline at all here", 0.5, "no newline"),
        ("", 0.5, ""),
    ],
)
def test_cut_prefix(text, ratio, expected):
    assert cut_prefix(text, ratio) == expected


def test_reward_and_steps_are_unchanged_by_guidance():
    outcomes = []
    for mode in ("none", "full", "prefix"):
        env = _guided(mode)
        env.reset(seed=0)
        search = env.step("<search>Bridith Nouju born</search>")
        answer = env.step("<answer>Gaekuth</answer>")
        outcomes.append((search[0], search[1:4], answer[1:4]))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0][2] == (1.0, True, False)


def test_missing_trace_runs_unguided_and_is_counted():
    env = ExpertGuidanceWrapper(SearchQAEnv(tasks=[{"question": "q?", "answers": ["a"]}]), "full")
    plain, _ = SearchQAEnv(tasks=[{"question": "q?", "answers": ["a"]}]).reset(seed=0)
    for expected in (1, 2):
        prompt, info = env.reset(seed=0)
        assert prompt == plain and not info["guidance"]["applied"]
        assert info["guidance"]["missing_traces"] == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "maksed"}, "Did you mean 'masked'"),
        ({"mode": "full", "prefix_ratio": 0}, r"prefix_ratio must be a number in \(0, 1\]"),
        ({"mode": "full", "prefix_ratio": 1.5}, "prefix_ratio"),
        ({"mode": "full", "domain": "chess"}, "domain must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    mode = kwargs.pop("mode")
    with pytest.raises(ValueError, match=message):
        ExpertGuidanceWrapper(SearchQAEnv(tasks=[TASK]), mode, **kwargs)


def test_gym_make_applies_the_wrapper_and_rebuilds_from_its_spec():
    env = gym.make("smepo/SearchQA-v0", expert_guidance="prefix", prefix_ratio=0.3)
    assert env.get_wrapper_attr("mode") == "prefix" and env.get_wrapper_attr("prefix_ratio") == 0.3
    rebuilt = gym.make(env.spec)
    first, second = env.reset(seed=5)[0], rebuilt.reset(seed=5)[0]
    assert first == second and DEFAULT_INTRO in first
    assert str(rebuilt).count("ExpertGuidanceWrapper") == 1


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_traces_from_a_file(tmp_path, fmt):
    rows = [{"question": TASK["question"], "teacher_ds": "TEACHER SAYS search then answer"}]
    if fmt == "jsonl":
        path = tmp_path / "traces.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in rows))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "traces.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    task = {k: v for k, v in TASK.items() if k != "expert_trace"}
    env = ExpertGuidanceWrapper(SearchQAEnv(tasks=[task]), "full", trace_source=path)
    prompt, info = env.reset(seed=0)
    assert "TEACHER SAYS search then answer" in prompt and info["guidance"]["applied"]


def test_guidance_only_right_after_reset():
    env = SearchQAEnv(tasks=[TASK])
    env.reset(seed=0)
    env.step("<search>x</search>")
    with pytest.raises(RuntimeError, match="right after reset"):
        env.apply_guidance("late guidance")
