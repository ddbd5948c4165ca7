"""Resolve a ``--model`` value to something ``from_pretrained`` loads, failing early on bad paths."""

from __future__ import annotations

import os
import re
from pathlib import Path

from smepo_env.errors import ModelNotFoundError
from smepo_env.models.bundled import BUNDLED_MODELS, bundled_model_dir, bundled_model_source

DEFAULT_MODEL = "smollm2-135m-instruct"
"""The model the embedded default trains (bundled, offline)."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model(spec: str | os.PathLike[str]) -> str:
    """Turn a model value into a loadable location, without loading anything.

    Args:
        spec: a bundled alias (``"smollm2-135m-instruct"``), a local checkpoint directory, or a
            hub id (``"Qwen/Qwen2.5-3B-Instruct"``, downloaded by ``transformers`` when used).

    Returns:
        A directory path or the hub id.

    Raises:
        ModelNotFoundError: the value looks like a path (or is not a hub id) and does not exist,
            or the directory has no ``config.json``.
    """
    text = os.fspath(spec)
    if text in BUNDLED_MODELS:
        return str(bundled_model_dir(text))
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"model directory {path} has no config.json; is it a saved checkpoint?")
        return str(path)
    # "runs/sft" whose "runs" folder exists is a missing local path, not a hub id.
    looks_like_path = text.startswith((".", "/", "~")) or Path(text.split("/")[0]).is_dir()
    if looks_like_path or not _HUB_ID.match(text):
        raise ModelNotFoundError(
            f"model {text!r} not found: no such directory, and it is neither a bundled model "
            f"({sorted(BUNDLED_MODELS)}) nor a hub id of the form 'org/name'"
        )
    return text


def check_model(spec: str | os.PathLike[str]) -> None:
    """Raise what :func:`resolve_model` would, without converting a bundled model on first use.

    For a job that converts it later (in a child process, so the conversion's memory goes with it).
    """
    text = os.fspath(spec)
    if text in BUNDLED_MODELS:
        bundled_model_source(text)
    else:
        resolve_model(text)
