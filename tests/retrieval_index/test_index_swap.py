"""Issue 13 item 8: the index swap is one step, killed builds leave nothing behind for long,
and two CLI builds into one ``--out`` both succeed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval_index.store import build_index, load_index, read_meta
from smepo_env import files
from smepo_env.files import atomic_directory, recover_directory
from tests.retrieval_index.corpus_fixture import PASSAGES, write_jsonl


def dead_pid() -> int:
    return int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout
    )


def test_the_swap_exchanges_old_and_new_in_one_step(tmp_path, monkeypatch):
    target = tmp_path / "index"
    target.mkdir()
    (target / "old.txt").write_text("old")
    swaps = []
    real_exchange = files._exchange
    monkeypatch.setattr(files, "_exchange", lambda a, b: swaps.append((a, b)) or real_exchange(a, b))
    with atomic_directory(target) as staging:
        (staging / "new.txt").write_text("new")
    assert len(swaps) == 1 and os.listdir(target) == ["new.txt"]
    assert sorted(os.listdir(tmp_path)) == ["index"]  # the previous index was removed after the swap


def test_a_build_killed_between_the_fallback_renames_is_recovered_on_load(tmp_path):
    index = build_index(PASSAGES, tmp_path / "index", backend="rank_bm25")
    retired = tmp_path / f".index.old-{dead_pid()}"
    os.rename(index, retired)  # the state a kill between the two renames leaves
    assert read_meta(tmp_path / "index")["num_passages"] == len(PASSAGES)
    assert not retired.exists() and len(load_index(tmp_path / "index")) == len(PASSAGES)


def test_staging_left_by_killed_builds_is_removed_but_live_ones_are_kept(tmp_path):
    target = tmp_path / "index"
    stale = tmp_path / f".index.{dead_pid()}.abcd1234.tmp"
    live = tmp_path / f".index.{os.getpid()}.efgh5678.tmp"
    retired_dead = tmp_path / f".index.old-{dead_pid()}"
    unrelated = tmp_path / ".other.123.x.tmp"
    for directory in (stale, live, retired_dead, unrelated):
        (directory / "partial").mkdir(parents=True)
    target.mkdir()
    recover_directory(target)
    assert not stale.exists() and not retired_dead.exists()
    assert live.exists() and unrelated.exists() and target.exists()


@pytest.mark.slow
def test_two_cli_builds_into_one_out_both_succeed(tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl")
    out = tmp_path / "index"
    command = [sys.executable, "-m", "retrieval_index", "build", "--corpus", str(corpus), "--out", str(out)]
    builds = [subprocess.Popen([*command, "--quiet"], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [build.communicate(timeout=300)[1] for build in builds]
    assert [build.returncode for build in builds] == [0, 0, 0], errors
    assert len(load_index(out)) == len(PASSAGES)
    assert sorted(path.name for path in Path(tmp_path).iterdir()) == [
        ".index.build.lock",
        "corpus.jsonl",
        "index",
    ]
