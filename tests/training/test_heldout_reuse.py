"""The held-out evaluation before training: saved by one run, reused while nothing it depends on changes."""

from __future__ import annotations

import json
import os

from smepo_env.training.heldout_reuse import evaluation_key, load_summary, save_summary

PLAY = {"protocol": "tags", "max_completion_length": 480, "max_turn_tokens": 64, "precision": "bf16"}
PLAY["vllm"] = True


def _key(model_dir, task_ids=("t1", "t2"), env_kwargs=None, play=None):
    env_kwargs = env_kwargs or {"split": "test", "top_k": 3}
    return evaluation_key(str(model_dir), list(task_ids), "smepo/SearchQA-v0", env_kwargs, play or PLAY)


def test_a_saved_summary_comes_back_only_under_an_equal_key(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    path = tmp_path / "before.json"
    key = _key(model)
    save_summary(path, key, {"success": 0.25, "n": 2})
    assert load_summary(path, _key(model)) == {"success": 0.25, "n": 2}
    assert load_summary(path, _key(model, task_ids=("t1", "t3"))) is None
    assert load_summary(path, _key(model, env_kwargs={"split": "test", "top_k": 5})) is None
    assert load_summary(path, _key(model, play={**PLAY, "vllm": False})) is None
    assert load_summary(path, _key(tmp_path / "other-model")) is None


def test_a_checkpoint_rebuilt_at_the_same_path_is_not_mistaken_for_the_old_one(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(b"weights")
    path = tmp_path / "before.json"
    save_summary(path, _key(model), {"success": 0.5})
    (model / "notes.txt").write_text("not a weight file")  # other files do not matter
    assert load_summary(path, _key(model)) == {"success": 0.5}
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_summary(path, _key(model)) is None


def test_missing_corrupt_or_foreign_files_mean_evaluate_again(tmp_path):
    key = _key(tmp_path)
    assert load_summary(tmp_path / "absent.json", key) is None
    (tmp_path / "bad.json").write_text("{not json")
    assert load_summary(tmp_path / "bad.json", key) is None
    (tmp_path / "list.json").write_text("[1, 2]")
    assert load_summary(tmp_path / "list.json", key) is None
    (tmp_path / "nosummary.json").write_text(json.dumps({"key": key}))
    assert load_summary(tmp_path / "nosummary.json", key) is None
