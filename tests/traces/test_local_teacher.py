"""A local model directory as the teacher: transformers generation, episodes batched, same loop."""

from __future__ import annotations

import pytest

from smepo_env.errors import ModelNotFoundError
from smepo_env.loaders import read_rows
from smepo_env.traces import LocalModelTeacher, collect_traces, make_teacher

BUDGET = {"max_turn_tokens": 12, "max_completion_tokens": 96}


def test_tiny_model_teacher_plays_batched_and_its_traces_are_its_own_tokens(tmp_path, tiny_model_dir):
    teacher = make_teacher(str(tiny_model_dir), batch_size=4, seed=0)
    assert isinstance(teacher, LocalModelTeacher)
    out = tmp_path / "kept.jsonl"
    kept = collect_traces(
        teacher, "smepo/SearchQA-v0", {"max_turns": 2}, out, samples=1, batch_size=4, limit=3, min_reward=0.0,
        show_progress=False, **BUDGET,
    )  # fmt: skip
    assert (kept.tried, kept.kept, kept.episodes) == (3, 3, 3)  # every episode earns >= 0
    assert kept.token_unit == "tokens" and 0 < kept.generated <= 3 * 2 * BUDGET["max_turn_tokens"]
    for row in read_rows(out):
        assert row["teacher"] == str(tiny_model_dir) and row["expert_trace"]
        assert row["turns"] >= 1 and row["reward"] == 0.0
    strict = collect_traces(
        teacher, "smepo/SearchQA-v0", {"max_turns": 2}, tmp_path / "strict.jsonl", samples=2, batch_size=4,
        limit=2, show_progress=False, **BUDGET,
    )  # fmt: skip
    assert (strict.kept, strict.dropped, strict.episodes) == (0, 2, 4)  # a random model earns nothing
    assert sum(strict.drop_reasons.values()) == 2
    reasons = {"wrong answer", "no answer within max_turns", "completion budget exhausted"}
    assert set(strict.drop_reasons) <= reasons | {"the teacher stopped without an answer"}


def test_a_missing_model_directory_fails_before_loading(tmp_path):
    with pytest.raises(ModelNotFoundError, match="nowhere"):
        make_teacher(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="--teacher_model"):
        make_teacher("http://127.0.0.1:8000/v1")


@pytest.mark.slow
def test_bundled_model_as_local_teacher(tmp_path):
    teacher = make_teacher("smollm2-135m-instruct", batch_size=4, temperature=1.0, seed=0)
    out = tmp_path / "traces.jsonl"
    summary = collect_traces(
        teacher, "smepo/SearchQA-v0", {"max_turns": 3}, out, samples=2, batch_size=4, limit=4,
        max_turn_tokens=48, max_completion_tokens=384, show_progress=False,
    )  # fmt: skip
    assert summary.tried == 4 and summary.kept + summary.dropped == 4
    assert summary.episodes == 4 + (4 - len(read_rows(out)) if summary.kept else 4)
    assert all(row["reward"] == 1.0 and "<answer>" in row["expert_trace"] for row in read_rows(out))
