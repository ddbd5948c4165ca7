"""The distractor-setting corpus: the datasets' own paragraphs, pooled over questions, deduplicated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval_index.base import Passage
from retrieval_index.corpus import read_corpus
from smepo_env.errors import TaskFormatError
from smepo_env.loaders import build_distractor_corpus, distractor_corpus_rows, load_flashrag

FLASHRAG = Path(__file__).resolve().parents[1] / "fixtures" / "flashrag"


def test_paragraphs_are_pooled_deduplicated_and_numbered(tmp_path):
    tasks = load_flashrag(path=FLASHRAG / "hotpotqa" / "dev.jsonl")
    rows, stats = distractor_corpus_rows(tasks + tasks)  # every paragraph seen twice
    single, _ = distractor_corpus_rows(tasks)
    assert rows == single and stats.paragraphs == 2 * stats.passages
    assert [row["id"] for row in rows] == [str(i) for i in range(len(rows))]  # Search-R1's server needs this
    passages = [Passage.from_contents(row["id"], row["contents"]) for row in rows]
    titles = [p.title for p in passages]
    assert "Shirley Temple" in titles and "Kiss and Tell (1945 film)" in titles
    assert all(row["contents"].startswith('"') for row in rows)  # the wiki corpus's quoted title line
    text = {p.title: p.text for p in passages}["Shirley Temple"]
    assert "Chief of Protocol" in text and "  " not in text  # sentences joined, spaces squeezed
    out = tmp_path / "corpus.jsonl"
    assert build_distractor_corpus(FLASHRAG / "hotpotqa" / "dev.jsonl", out).passages == len(rows)
    assert [p.id for p in read_corpus(out)] == [row["id"] for row in rows]  # our corpus reader takes it


def test_datasets_without_paragraphs_are_refused_with_the_reason():
    with pytest.raises(TaskFormatError, match="none of the 2 tasks carries paragraphs"):
        distractor_corpus_rows(load_flashrag(path=FLASHRAG / "nq" / "test.jsonl"))


def test_command_line_builds_from_several_files(tmp_path):
    out = tmp_path / "corpus.jsonl"
    files = [str(FLASHRAG / name / "dev.jsonl") for name in ("musique", "2wikimultihopqa")]
    done = subprocess.run(
        [sys.executable, "-m", "smepo_env.loaders", "distractor-corpus", *files, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert f"{len(rows)} passages" in done.stdout and "6/6 questions" in done.stdout
    assert {"Miquette Giraudy", "Quentin Tarantino"} <= {
        Passage.from_contents("x", r["contents"]).title for r in rows
    }
    shown = subprocess.run(
        [sys.executable, "-m", "smepo_env.loaders", "show", files[0]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        shown.returncode == 0
        and "flashrag, 3 tasks" in shown.stdout
        and "3 with a gold route" in shown.stdout
    )
