"""smepo/SearchQA-v0: the episode, the reward, the info a trainer needs, and bad input."""

from __future__ import annotations

import pickle

import gymnasium as gym
import pytest
from gymnasium.error import ResetNeeded

import smepo_env  # noqa: F401
from smepo_env.envs.search_qa import SearchQAEnv
from smepo_env.scoring.qa import exact_match, f1_score, normalize_answer

OWN_TASK = {"question": "Where was Bridith Nouju born?", "answers": ["Nowhere", "Gaekuth"]}


@pytest.fixture()
def birthplace_task(fictional_benchmark):
    """A bundled single-hop birthplace question, as a plain dict of the user's own."""
    task = next(
        t
        for t in fictional_benchmark.tasks("test")
        if t.question.startswith("Where was") and t.question_type == "single-hop"
    )
    return {"question": task.question, "answers": ["Nowhere", task.answers[0]]}


@pytest.fixture()
def env(fictional_benchmark):
    environment = gym.make("smepo/SearchQA-v0", split="test")
    yield environment
    environment.close()


def test_expert_episode_scores_one(env, fictional_benchmark):
    task = fictional_benchmark.tasks("test")[0]
    observation, info = env.reset(options={"task_id": task.id})
    assert task.question in observation and "<search>" in observation
    assert info["task_id"] == task.id and info["turn"] == 0
    assert info["messages"] == [{"role": "user", "content": observation}]
    actions = task.metadata["expert_actions"]
    for action in actions[:-1]:
        observation, reward, terminated, truncated, info = env.step(action)
        assert observation.startswith("\n\n<information>Doc 1(Title: ")
        assert (reward, terminated, truncated) == (0.0, False, False)
        assert info["tool_latency_s"] >= 0.0 and len(info["retrieved_ids"]) == 3
    observation, reward, terminated, truncated, info = env.step(actions[-1])
    assert (observation, reward, terminated, truncated) == ("", 1.0, True, False)
    assert info["exact_match"] == 1.0 and info["f1"] == 1.0 and info["answer"] == task.answers[0]
    assert info["num_searches"] == len(actions) - 1
    assert [m["role"] for m in info["messages"]] == ["user"] + ["assistant", "user"] * (len(actions) - 1) + [
        "assistant"
    ]


def test_users_own_task_and_normalized_reward(env, birthplace_task):
    person = birthplace_task["question"].removeprefix("Where was ").removesuffix(" born?")
    city = birthplace_task["answers"][1]
    env.reset(options={"task": birthplace_task})
    observation, *_ = env.step(f"<search>{person} born</search>")
    assert f"{person} was born in {city}" in observation
    _, reward, terminated, _, info = env.step(f"<answer> the {city.upper()}. </answer>")
    assert reward == 1.0 and terminated and info["task_id"] == "custom"
    env.reset(options={"task": birthplace_task})
    _, reward, _, _, info = env.step(f"<answer>{city} city</answer>")
    assert reward == 0.0 and info["f1"] == pytest.approx(2 / 3)


def test_max_turns_truncates_with_zero_reward():
    env = gym.make("smepo/SearchQA-v0", max_turns=2)
    env.reset(seed=1)
    _, _, terminated, truncated, _ = env.step("<search>anything</search>")
    assert not terminated and not truncated
    observation, reward, terminated, truncated, _ = env.step("no tags at all")
    assert (observation, reward, terminated, truncated) == ("", 0.0, False, True)
    with pytest.raises(ResetNeeded):
        env.unwrapped.step("<answer>late</answer>")


BAD_ACTIONS = [
    "",
    "plain prose with no tags",
    "<search>unclosed",
    "<search><answer>nested</answer></search>",
    "<search></search>",
    "<search>" + "q" * 100_000 + "</search>",
    "\x00\x01\x02\xff binary-looking \ufffd",
    "<python>print(1)</python>",
    "<search>查询 ünïcödé 🚀</search>",
    "<search>a</search><search>b</search><answer>c</answer>",
]


@pytest.mark.parametrize("action", BAD_ACTIONS)
def test_any_text_is_legal_input(env, action):
    env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step(action)
    assert isinstance(observation, str) and reward == 0.0 and not (terminated or truncated)
    assert info["turn"] == 1
    if info["action_kind"] == "invalid":
        assert observation.strip().startswith("Invalid action:") and len(observation) < 300
        assert info["format_error"]
    else:
        assert info["action_kind"] == "search"


def test_gold_answer_never_shown_to_the_policy(fictional_benchmark):
    env = gym.make("smepo/SearchQA-v0", split="test")
    # Comparison questions name both candidates, so their answer is in the question by design.
    for task in [t for t in fictional_benchmark.tasks("test") if t.question_type != "comparison"][:50]:
        observation, info = env.reset(options={"task_id": task.id})
        _, _, _, _, step_info = env.step("<answer>wrong guess</answer>")
        for answer in task.answers:
            assert answer not in observation
            assert answer not in repr(info) and answer not in repr(step_info)


def test_seeded_resets_repeat(env):
    first = [env.reset(seed=seed)[0] for seed in range(5)]
    second = [env.reset(seed=seed)[0] for seed in range(5)]
    assert first == second
    assert len(set(first)) > 1


def test_pickle_round_trip_keeps_behaviour(env):
    env.reset(seed=4)
    expected = env.step("<search>Blue Harbor director</search>")[0]
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    clone.reset(seed=4)
    assert clone.step("<search>Blue Harbor director</search>")[0] == expected


def test_sync_vector_env():
    vector_env = gym.vector.SyncVectorEnv([lambda: gym.make("smepo/SearchQA-v0") for _ in range(3)])
    observations, _ = vector_env.reset(seed=0)
    assert isinstance(observations, tuple) and len(observations) == 3
    _, rewards, terminated, _, _ = vector_env.step(("<search>x y</search>", "<answer>z</answer>", "oops"))
    assert list(terminated) == [False, True, False] and list(rewards) == [0.0, 0.0, 0.0]
    vector_env.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_k": 0}, "top_k must be a positive integer"),
        ({"max_turns": 0}, "max_turns must be a positive integer"),
        ({"split": "validation"}, "has no split 'validation'"),
        ({"benchmark": "fictional_world"}, "Did you mean 'fictional-world'"),
        ({"tasks": [{"question": "", "answers": ["x"]}]}, "non-empty string"),
        ({"tasks": [{"question": "q?", "answers": []}]}, "non-empty list"),
        ({"retriever": "bm26", "index": "/nonexistent"}, "Did you mean 'bm25'"),
        ({"retriever": "dense"}, "needs index=DIR"),
    ],
)
def test_bad_construction_arguments_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        env = SearchQAEnv(**kwargs)
        env.reset(seed=0)
        env.step("<search>x</search>")


def test_bad_reset_options(env):
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"taskid": "x"})
    with pytest.raises(ValueError, match="task_index must be"):
        env.reset(options={"task_index": 10**9})


def test_retriever_failure_becomes_an_observation():
    from retrieval_index.base import Retriever

    class Broken(Retriever):
        def batch_search(self, queries, k):
            raise ConnectionError("index server down")

    env = SearchQAEnv(tasks=[OWN_TASK], retriever=Broken())
    env.reset(seed=0)
    observation, _, terminated, truncated, info = env.step("<search>x</search>")
    assert "Search is unavailable" in observation and not (terminated or truncated)
    assert "index server down" in info["tool_error"]


def test_render_ansi():
    env = SearchQAEnv(tasks=[OWN_TASK], render_mode="ansi")
    env.reset(seed=0)
    env.step("<answer>x</answer>")
    assert "[assistant] <answer>x</answer>" in env.render()


@pytest.mark.parametrize(
    ("prediction", "golds", "em", "f1"),
    [
        ("The Eiffel Tower!", ["eiffel tower"], 1.0, 1.0),
        ("Paris, France", ["Paris"], 0.0, 2 / 3),
        ("", ["x"], 0.0, 0.0),
        ("São Paulo", ["sao paulo", "São Paulo"], 1.0, 1.0),
    ],
)
def test_qa_scoring(prediction, golds, em, f1):
    assert exact_match(prediction, golds) == em
    assert f1_score(prediction, golds) == pytest.approx(f1)
    assert normalize_answer("  An  Apple. ") == "apple"
