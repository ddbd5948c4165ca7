"""``python -m retrieval_index``: build, search and serve from the command line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from retrieval_index.cli import main, parse_options
from retrieval_index.http_client import RemoteRetriever
from retrieval_index.store import read_meta
from tests.markers import require_server
from tests.retrieval_index.corpus_fixture import PASSAGES, write_jsonl

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    corpus = write_jsonl(folder / "corpus.jsonl")
    out = folder / "index"
    assert (
        main(["build", "--corpus", str(corpus), "--backend", "rank_bm25", "--out", str(out), "--quiet"]) == 0
    )
    return out


def test_build_writes_an_index_directory(index_dir):
    meta = read_meta(index_dir)
    assert meta["backend"] == "rank_bm25" and meta["num_passages"] == len(PASSAGES)


def test_search_prints_ranked_hits(index_dir, capsys):
    assert main(["search", "--index", str(index_dir), "Who discovered penicillin?", "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "query: Who discovered penicillin?"
    assert lines[1].startswith("  1. [") and "(penicillin) Penicillin: Alexander Fleming" in lines[1]


def test_search_json_is_the_retrieve_response(index_dir, capsys):
    assert main(["search", "--index", str(index_dir), "Titanic iceberg", "-k", "1", "--json"]) == 0
    (hits,) = json.loads(capsys.readouterr().out)["result"]
    assert hits[0]["document"]["id"] == "titanic" and isinstance(hits[0]["score"], float)


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert main(["build", "--corpus", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "i")]) == 2
    assert "corpus file not found" in capsys.readouterr().err
    corpus = write_jsonl(tmp_path / "c.jsonl")
    argv = [
        "build",
        "--corpus",
        str(corpus),
        "--backend",
        "rank_bm25",
        "--out",
        str(tmp_path / "i"),
        "--quiet",
    ]
    assert main([*argv, "--option", "no_equals_sign"]) == 2
    assert "expects key=value" in capsys.readouterr().err
    assert main([*argv, "--option", "nprobe=3"]) == 2
    assert "rejected the options ['nprobe']" in capsys.readouterr().err
    assert main(["search", "--index", str(tmp_path / "nothing"), "q"]) == 2
    assert "no retrieval index" in capsys.readouterr().err


def test_option_values_are_read_as_json():
    assert parse_options(["k1=1.2", "encoder=intfloat/e5-base-v2", "flag=true", "x="]) == {
        "k1": 1.2,
        "encoder": "intfloat/e5-base-v2",
        "flag": True,
        "x": "",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@require_server
def test_serve_answers_retrieve_until_stopped(index_dir):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable,
        "-m",
        "retrieval_index",
        "serve",
        "--index",
        str(index_dir),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert health == {"status": "ok", "backend": "rank_bm25", "passages": len(PASSAGES)}
        with RemoteRetriever(f"http://127.0.0.1:{port}") as remote:
            assert remote.search("Apollo 11 Moon landing", 1)[0].passage.id == "moon"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_thread_count_must_be_positive():
    from retrieval_index.cli import set_compute_threads

    with pytest.raises(ValueError, match="--threads must be at least 1, got 0"):
        set_compute_threads(0)
