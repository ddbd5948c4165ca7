"""Gold-decomposition traces: played in the env on a distractor-setting corpus, checked, audited."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.evaluation.policies import make_scripted_policy
from smepo_env.evaluation.runner import run_scripted
from smepo_env.loaders import build_distractor_corpus, load_flashrag
from smepo_env.masking.audit import audit_traces
from smepo_env.tasks import load_tasks_jsonl
from smepo_env.traces import GoldTeacher, collect_traces, gold_plan, with_gold_actions

FLASHRAG = Path(__file__).resolve().parents[1] / "fixtures" / "flashrag"
MULTIHOP = ("musique", "2wikimultihopqa", "hotpotqa")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """One distractor-setting corpus over the three multi-hop fixtures."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    tasks = [task for name in MULTIHOP for task in load_flashrag(path=FLASHRAG / name / "dev.jsonl")]
    build_distractor_corpus(tasks, path)
    return path


@pytest.fixture(scope="module")
def gold_traces(tmp_path_factory, corpus) -> dict[str, Path]:
    """The gold teacher's kept traces per dataset."""
    out = tmp_path_factory.mktemp("traces")
    files = {}
    for name in MULTIHOP:
        files[name] = out / f"{name}.jsonl"
        env_kwargs = {"tasks": str(FLASHRAG / name / "dev.jsonl"), "corpus": str(corpus)}
        collect_traces(
            GoldTeacher(), "smepo/SearchQA-v0", env_kwargs, files[name], samples=2, show_progress=False
        )
    return files


def test_the_oracle_plays_a_real_question_on_the_distractor_corpus(corpus):
    tasks = with_gold_actions(load_flashrag(path=FLASHRAG / "musique" / "dev.jsonl"))
    env = gym.make("smepo/SearchQA-v0", tasks=tasks, corpus=str(corpus), expert_guidance="none")
    record = run_scripted(env, tasks[1:2], make_scripted_policy("oracle", tasks), show_progress=False)[0]
    assert record["question"] == "In which country was the husband of Frida Kahlo born?"
    assert record["reward"] == 1.0 and record["tool_calls"] == {"search": 3}
    transcript = record["transcript"]
    # the real retrieved passages, each hop's answer in them, the bridge named in the reasoning
    assert "Doc 1(Title: Frida Kahlo)" in transcript and "Doc 1(Title: Diego Rivera)" in transcript
    assert "The passages say the spouse of Frida Kahlo is Diego Rivera." in transcript
    assert "<search>place of birth of Diego Rivera</search>" in transcript
    assert transcript.rstrip().endswith("<answer>Mexico</answer>")


def test_every_fixture_question_is_kept_with_real_passages_and_critical_spans(gold_traces):
    for name, path in gold_traces.items():
        traces = load_tasks_jsonl(path)
        sources = {task.id: task for task in load_flashrag(path=FLASHRAG / name / "dev.jsonl")}
        assert len(traces) == 3, name
        for trace in traces:
            assert trace.metadata["teacher"] == "gold" and trace.metadata["reward"] == 1.0
            plan = gold_plan(sources[trace.id])
            assert trace.metadata["tool_calls"] == {"search": len(plan.hops)}
            assert trace.expert_trace.count("<information>") == len(plan.hops)
            assert [s["kind"] for s in trace.critical_spans][-1] == "answer"
            for span in trace.critical_spans:
                assert span["text"] in trace.expert_trace
    spans = {t.id: t.critical_spans for t in load_tasks_jsonl(gold_traces["2wikimultihopqa"])}
    assert spans["2wikimultihopqa-a5995da508ab11ebbd82ac1f6bf848b6"] == (
        {"text": "2003", "kind": "value"},
        {"text": "1932", "kind": "value"},
        {"text": "The Mask Of Fu Manchu", "kind": "answer"},
    )


def test_a_hop_whose_answer_is_not_retrieved_is_dropped_with_the_reason(tmp_path):
    tasks_file = FLASHRAG / "musique" / "dev.jsonl"
    tasks = load_flashrag(path=tasks_file)
    corpus = tmp_path / "corpus.jsonl"
    build_distractor_corpus(tasks, corpus)
    # remove the paragraph that names Frida Kahlo's husband: hop 1 can no longer find him
    kept_lines = [line for line in corpus.read_text().splitlines() if "married the muralist" not in line]
    corpus.write_text("\n".join(kept_lines) + "\n")
    out = tmp_path / "traces.jsonl"
    env_kwargs = {"tasks": str(tasks_file), "corpus": str(corpus)}
    summary = collect_traces(
        GoldTeacher(), "smepo/SearchQA-v0", env_kwargs, out, samples=2, show_progress=False
    )
    assert (summary.tried, summary.kept, summary.dropped, summary.episodes) == (
        3,
        2,
        1,
        4,
    )  # 3 first tries, 1 retry
    assert summary.drop_reasons == {"hop answer not retrieved": 1}
    dropped = (tmp_path / "traces.jsonl.dropped.jsonl").read_text()
    assert "hop 1 ('spouse of Frida Kahlo'): 'Diego Rivera' is not in the passages at top-3" in dropped
    assert "hop 1 ('Frida Kahlo')" in dropped  # the retry searched the supporting title


def test_rows_without_a_route_are_dropped_untried(tmp_path, corpus):
    out = tmp_path / "traces.jsonl"
    env_kwargs = {"tasks": str(FLASHRAG / "bamboogle" / "test.jsonl"), "corpus": str(corpus)}
    summary = collect_traces(GoldTeacher(), "smepo/SearchQA-v0", env_kwargs, out, show_progress=False)
    assert (summary.kept, summary.dropped, summary.episodes) == (0, 2, 0)
    assert summary.drop_reasons == {"no gold route": 2}


@pytest.mark.parametrize("name", ["musique", "2wikimultihopqa"])
def test_masking_audit_on_gold_traces(gold_traces, name):
    records = [
        {
            "trace": t.expert_trace,
            "domain": "search",
            "question": t.question,
            "answers": list(t.answers),
            "critical_spans": [dict(s) for s in t.critical_spans],
        }
        for t in load_tasks_jsonl(gold_traces[name])
    ]
    report = audit_traces(records)
    engine, guaranteed, regex = (report.row(m, "search") for m in ("engine", "engine+answers", "regex"))
    assert guaranteed.leakage == 0.0  # the guidance wrapper's setting: no answer readable
    assert engine.leakage == 0.0 and engine.recall >= 0.9  # from the text alone, on real questions
    assert regex.leakage == 1.0 and regex.recall == 0.0  # the reference masker hides nothing in search
