"""The OpenAI-compatible endpoint teacher, end to end against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from smepo_env.loaders import build_distractor_corpus, load_flashrag, read_rows
from smepo_env.protocol import STOP_STRINGS
from smepo_env.traces import EndpointTeacher, collect_traces, gold_plan
from smepo_env.traces.endpoint import TeacherUnavailableError, close_open_call
from tests.traces.openai_server import ChatServer

ROOT = Path(__file__).resolve().parents[2]
MUSIQUE = ROOT / "tests" / "fixtures" / "flashrag" / "musique" / "dev.jsonl"
PLANS = {task.question: gold_plan(task) for task in load_flashrag(path=MUSIQUE)}
WRONG_FIRST = "When was the performer of Hotel California formed?"


class ScriptedModel:
    """A teacher that knows each question's gold route, but answers one question wrong on its first try."""

    def __init__(self) -> None:
        self.tries: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> str:
        messages = body["messages"]
        question = messages[0]["content"].rsplit("Question:", 1)[-1].strip()
        turn = sum(m["role"] == "assistant" for m in messages)
        if turn == 0:
            with self.lock:
                self.tries[question] += 1
        actions = PLANS[question].actions()
        if question == WRONG_FIRST and self.tries[question] == 1 and turn == len(actions) - 1:
            return "<think>I guess.</think>\n<answer>1980</answer>"
        return actions[min(turn, len(actions) - 1)]


@pytest.fixture(scope="module")
def env_kwargs(tmp_path_factory) -> dict:
    corpus = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    build_distractor_corpus(MUSIQUE, corpus)
    return {"tasks": str(MUSIQUE), "corpus": str(corpus)}


def _collect(teacher, env_kwargs: dict, out: Path, **options):
    return collect_traces(teacher, "smepo/SearchQA-v0", env_kwargs, out, show_progress=False, **options)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_close_open_call_puts_back_the_dropped_stop_string():
    assert close_open_call("<think>x</think>\n<search>who") == (
        "<think>x</think>\n<search>who</search>",
        True,
    )
    assert close_open_call("<search>a</search> then <answer>b") == (
        "<search>a</search> then <answer>b</answer>",
        True,
    )
    assert close_open_call("just prose") == ("just prose", False)


def test_rejection_sampling_against_a_real_server(tmp_path, env_kwargs, monkeypatch):
    monkeypatch.setenv("TEST_TEACHER_KEY", "sk-test-123")
    out = tmp_path / "traces.jsonl"
    with ChatServer(ScriptedModel()) as server:
        teacher = EndpointTeacher(
            server.base_url, "teacher-7b", api_key_env="TEST_TEACHER_KEY", temperature=0.7
        )
        try:
            summary = collect_traces(
                teacher,
                "smepo/SearchQA-v0",
                env_kwargs,
                out,
                samples=3,
                max_turn_tokens=200,
                show_progress=False,
            )
        finally:
            teacher.close()
    assert (summary.tried, summary.kept, summary.dropped, summary.episodes) == (3, 3, 0, 4)  # one retry
    rows = {row["id"]: row for row in read_rows(out)}
    assert rows["musique-2hop__13548_13529"]["attempt"] == 2
    trace = rows["musique-2hop__460946_294723"]["expert_trace"]
    assert "<search>performer of Green</search>" in trace  # the stop string the API dropped, put back
    assert "<information>Doc 1(Title: Green (Steve Hillage album))" in trace  # real passages spliced in
    assert trace.rstrip().endswith("<answer>Miquette Giraudy</answer>")
    # the requests: OpenAI chat format, the protocol's stop strings, the key as a bearer token
    assert (
        len(server.requests) == summary.teacher_usage["requests"] == 3 + 4 + 3 + 3
    )  # turns of the 4 episodes
    first = server.requests[0]
    assert first["model"] == "teacher-7b" and first["stop"] == list(STOP_STRINGS)
    assert first["max_tokens"] == 200 and first["temperature"] == 0.7
    later = next(r for r in server.requests if len(r["messages"]) == 3)
    assert [m["role"] for m in later["messages"]] == ["user", "assistant", "user"]
    assert later["messages"][2]["content"].startswith("<information>")
    assert {h.get("Authorization") for h in server.headers} == {"Bearer sk-test-123"}
    assert summary.teacher_usage["completion_tokens"] > 0 and summary.teacher_usage["failed_requests"] == 0


def test_busy_answers_are_retried_and_concurrency_is_bounded(tmp_path, env_kwargs):
    with ChatServer(ScriptedModel(), failures=2, delay_s=0.15) as server:
        teacher = EndpointTeacher(server.base_url, "m", max_concurrency=2, backoff_s=0.01)
        try:
            summary = collect_traces(
                teacher, "smepo/SearchQA-v0", env_kwargs, tmp_path / "t.jsonl", show_progress=False
            )
        finally:
            teacher.close()
    assert summary.kept == 3
    assert summary.teacher_usage["retries"] == 2 and summary.teacher_usage["failed_requests"] == 0
    assert server.max_in_flight == 2  # three episodes in the first turn, two requests at a time


def test_an_unreachable_or_hanging_endpoint_stops_the_run_with_the_reason(tmp_path, env_kwargs):
    teacher = EndpointTeacher(f"http://127.0.0.1:{_free_port()}/v1", "m", max_retries=1, backoff_s=0.01)
    with pytest.raises(TeacherUnavailableError, match="ConnectError"):
        _collect(teacher, env_kwargs, tmp_path / "a.jsonl")
    teacher.close()
    with ChatServer(ScriptedModel(), delay_s=1.0) as server:
        teacher = EndpointTeacher(server.base_url, "m", timeout_s=0.2, max_retries=0)
        with pytest.raises(TeacherUnavailableError, match="ReadTimeout"):
            collect_traces(
                teacher, "smepo/SearchQA-v0", env_kwargs, tmp_path / "b.jsonl", show_progress=False
            )
        teacher.close()
    assert read_rows(tmp_path / "b.jsonl") == []
    with pytest.raises(ValueError, match="http"):
        EndpointTeacher("127.0.0.1:8000", "m")


def _cli(out: Path, server: ChatServer, env_kwargs: dict, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "agents" / "collect_traces.py"),
        "--tasks", env_kwargs["tasks"],
        "--env_kwargs", json.dumps({"corpus": env_kwargs["corpus"]}),
        "--teacher", server.base_url,
        "--teacher_model", "teacher-7b",
        "--samples", "2",
        "--out", str(out),
        "--no_progress",
        *extra,
    ]  # fmt: skip


@pytest.mark.slow
def test_command_line_and_a_killed_run_loses_nothing_kept(tmp_path, env_kwargs):
    release = threading.Event()
    model = ScriptedModel()

    def reply(body: dict) -> str:  # the last task hangs until released
        if WRONG_FIRST in body["messages"][0]["content"]:
            release.wait(60)
        return model(body)

    out = tmp_path / "traces.jsonl"
    with ChatServer(reply) as server:
        command = _cli(
            out, server, env_kwargs, "--batch_size", "1", "--smepo_parquet", str(tmp_path / "t.parquet")
        )
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not out.is_file() or len(read_rows(out)) < 2):
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        kept_before = read_rows(out)
        assert len(kept_before) == 2, process.stderr.read()
        release.set()
        asked_before = Counter(r["messages"][0]["content"] for r in server.requests)
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
        asked_after = Counter(r["messages"][0]["content"] for r in server.requests) - asked_before
    assert done.returncode == 0, done.stderr
    assert "1 tasks tried (2 already done), 1 kept, keep rate 100.0%" in done.stdout
    assert len(asked_after) == 1 and WRONG_FIRST in next(iter(asked_after))  # kept tasks were not replayed
    assert [row["id"] for row in read_rows(out)][:2] == [row["id"] for row in kept_before]
    assert len(read_rows(tmp_path / "t.parquet")) == 3
