"""Rejection-sampled collection: output rows, resuming, dropped tasks, SMEPO parquet out and back in."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.loaders import build_distractor_corpus, load_smepo_parquet, read_rows
from smepo_env.tasks import load_tasks_jsonl
from smepo_env.traces import GoldTeacher, collect_traces, write_smepo_parquet

FLASHRAG = Path(__file__).resolve().parents[1] / "fixtures" / "flashrag"
MUSIQUE = FLASHRAG / "musique" / "dev.jsonl"


@pytest.fixture(scope="module")
def env_kwargs(tmp_path_factory) -> dict:
    corpus = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    build_distractor_corpus(MUSIQUE, corpus)
    return {"tasks": str(MUSIQUE), "corpus": str(corpus)}


def _collect(env_kwargs, out, **options):
    return collect_traces(GoldTeacher(), "smepo/SearchQA-v0", env_kwargs, out, show_progress=False, **options)


def test_kept_rows_are_a_task_file_and_a_trace_source(tmp_path, env_kwargs):
    out = tmp_path / "traces.jsonl"
    summary = _collect(env_kwargs, out)
    assert (summary.tasks, summary.tried, summary.kept, summary.keep_rate) == (3, 3, 3, 1.0)
    assert json.loads((tmp_path / "traces.jsonl.summary.json").read_text())["kept"] == 3
    rows = read_rows(out)
    assert {
        "id",
        "question",
        "answers",
        "expert_trace",
        "critical_spans",
        "teacher",
        "attempt",
        "reward",
    } <= set(rows[0])
    tasks = load_tasks_jsonl(out)
    assert [t.id for t in tasks] == [row["id"] for row in rows]
    # the teacher's turns ride along: the evaluation oracle replays them from the traces file alone
    from smepo_env.evaluation.policies import make_scripted_policy
    from smepo_env.evaluation.runner import run_scripted

    replay_env = gym.make("smepo/SearchQA-v0", tasks=str(out), corpus=env_kwargs["corpus"])
    records = run_scripted(replay_env, tasks, make_scripted_policy("oracle", tasks), show_progress=False)
    assert [r["reward"] for r in records] == [1.0, 1.0, 1.0]
    env = gym.make("smepo/SearchQA-v0", **env_kwargs, expert_guidance="full", trace_source=str(out))
    prompt, info = env.reset(options={"task_id": rows[0]["id"]})
    assert rows[0]["expert_trace"] in prompt and info["guidance"]["applied"]


def test_a_rerun_resumes_without_redoing_kept_traces(tmp_path, env_kwargs):
    out = tmp_path / "traces.jsonl"
    first = _collect(env_kwargs, out, limit=2)
    assert first.kept == 2
    with out.open("a") as handle:  # what a kill in the middle of a write leaves
        handle.write('{"id": "musique-2hop__13548_13529", "question": "When')
    second = _collect(env_kwargs, out)
    assert (second.already_done, second.tried, second.kept, second.episodes) == (2, 1, 1, 1)
    rows = read_rows(out)  # the partial line was cut off, every row parses
    assert sorted(row["id"] for row in rows) == sorted(t.id for t in load_tasks_jsonl(out))
    assert len(rows) == 3 and len({row["id"] for row in rows}) == 3
    assert _collect(env_kwargs, out).tried == 0


def test_dropped_tasks_are_recorded_skipped_and_retried_on_request(tmp_path, env_kwargs):
    out = tmp_path / "traces.jsonl"
    summary = _collect(env_kwargs, out, min_reward=2.0, samples=2)  # no episode can earn 2
    assert (summary.kept, summary.dropped, summary.episodes) == (0, 3, 6)
    assert summary.drop_reasons == {"wrong answer": 3}
    dropped = read_rows(tmp_path / "traces.jsonl.dropped.jsonl")
    assert [len(row["reasons"]) for row in dropped] == [2, 2, 2]
    assert _collect(env_kwargs, out).tried == 0
    retried = _collect(env_kwargs, out, retry_dropped=True)
    assert (retried.tried, retried.kept) == (3, 3)


def test_smepo_parquet_round_trip(tmp_path, env_kwargs):
    out = tmp_path / "traces.jsonl"
    _collect(env_kwargs, out)
    parquet = tmp_path / "traces.parquet"
    assert write_smepo_parquet(read_rows(out), parquet, domain="search") == 3
    import pyarrow.parquet as pq

    assert {"question", "reward_model", "teacher_ds"} <= set(pq.read_table(parquet).column_names)
    back = load_smepo_parquet(parquet, domain="search")
    rows = read_rows(out)
    assert [(t.id, t.question, list(t.answers), t.expert_trace) for t in back] == [
        (r["id"], r["question"], r["answers"], r["expert_trace"]) for r in rows
    ]
    env = gym.make("smepo/SearchQA-v0", **env_kwargs, expert_guidance="masked", trace_source=str(parquet))
    prompt, info = env.reset(options={"task_id": rows[0]["id"]})
    assert info["guidance"]["applied"] and "Miquette Giraudy" not in prompt.split("Question:")[-1]
    math = tmp_path / "math.parquet"
    write_smepo_parquet(
        [{"id": "m1", "question": "1+1?", "answers": ["2"], "expert_trace": "<answer>2</answer>"}],
        math,
        "math",
    )
    assert load_smepo_parquet(math, domain="math")[0].answers == ("2",)
    with pytest.raises(ValueError, match="domain must be one of"):
        write_smepo_parquet(read_rows(out), tmp_path / "code.parquet", domain="code")
    with pytest.raises(ValueError, match="lacks"):
        write_smepo_parquet([{"id": "x", "question": "q", "answers": ["a"]}], tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


def test_bad_arguments_are_refused_before_playing(tmp_path, env_kwargs):
    for options in ({"samples": 0}, {"batch_size": 0}, {"limit": 0}):
        with pytest.raises(ValueError, match=next(iter(options))):
            _collect(env_kwargs, tmp_path / "x.jsonl", **options)
    (tmp_path / "corrupt.jsonl").write_text("not json\n")
    with pytest.raises(ValueError, match=r"corrupt\.jsonl:1"):
        _collect(env_kwargs, tmp_path / "corrupt.jsonl")
