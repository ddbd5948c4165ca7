"""The fictional-world benchmark: deterministic, big enough, answerable, and not a shortcut."""

from __future__ import annotations

from collections import Counter

import pytest

from smepo_env.benchmarks.search.fictional_world import build_world, generate
from smepo_env.evaluation.policies import make_scripted_policy
from smepo_env.evaluation.report import summarize
from smepo_env.evaluation.runner import run_scripted

QUESTION_TYPES = {"single-hop", "two-hop", "comparison", "three-hop"}


def test_generation_is_deterministic():
    passages_a, plans_a = generate(0.2, seed=3)
    passages_b, plans_b = generate(0.2, seed=3)
    assert passages_a == passages_b and plans_a == plans_b
    assert generate(0.2, seed=4)[0] != passages_a


def test_size_scales_the_corpus():
    small, large = build_world(0.5), build_world(2.0)
    assert len(large.people) > 3 * len(small.people)


def test_world_has_look_alike_distractors():
    world = build_world(1.0)
    names = {p.name for p in world.people}
    twins = [
        n
        for n in names
        if any(n[:-k] + c + n[-k + 1 :] in names for k in range(1, 4) for c in "aeiou" if n[-k] != c)
    ]
    assert len(twins) > 100


def test_splits_sizes_and_types(fictional_benchmark):
    splits = {split: fictional_benchmark.tasks(split) for split in ("train", "dev", "test")}
    assert len(splits["train"]) >= 2000 and len(splits["test"]) >= 500 and len(splits["dev"]) >= 100
    for tasks in splits.values():
        assert {t.question_type for t in tasks} == QUESTION_TYPES
    ids = [t.id for tasks in splits.values() for t in tasks]
    assert len(ids) == len(set(ids))
    assert fictional_benchmark.manifest["domain"] == "search"


def test_held_out_people_are_not_in_training_questions(fictional_benchmark):
    train_text = " ".join(t.question for t in fictional_benchmark.tasks("train"))
    single_hop_test = [t for t in fictional_benchmark.tasks("test") if t.question_type == "single-hop"]
    people = [
        t.question.split(" born?")[0].removeprefix("Where was ")
        for t in single_hop_test
        if t.question.endswith("born?")
    ]
    assert people and not any(person in train_text for person in people)


def test_traces_carry_their_critical_spans(fictional_benchmark):
    for task in fictional_benchmark.tasks("dev"):
        assert task.expert_trace.endswith(f"<answer>{task.answers[0]}</answer>")
        kinds = Counter(span["kind"] for span in task.critical_spans)
        assert kinds["answer"] == 1 or task.question_type == "comparison"
        for span in task.critical_spans:
            assert span["text"] in task.expert_trace
        if task.question_type in ("two-hop", "three-hop"):
            assert kinds["bridge"] >= 1


@pytest.mark.parametrize("split", ["dev", "test"])
def test_oracle_is_perfect_and_heuristics_stay_far_below(fictional_benchmark, split):
    import gymnasium as gym

    env = gym.make("smepo/SearchQA-v0", split=split)
    tasks = fictional_benchmark.tasks(split)
    train = fictional_benchmark.tasks("train")
    scores = {}
    for name in ("oracle", "no-search", "first-entity", "last-entity", "frequent-entity"):
        records = run_scripted(env, tasks, make_scripted_policy(name, train), show_progress=False)
        scores[name] = summarize(records)["all"]["exact_match"]
    assert scores["oracle"] == 1.0
    for name in ("no-search", "first-entity", "last-entity", "frequent-entity"):
        assert scores[name] < 0.2, scores
