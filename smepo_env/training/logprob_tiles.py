"""TRL's fused log-probability head on a CPU: tiles small enough not to double the job's memory.

TRL 1.16 computes the policy's per-token log-probabilities without materialising the
``[tokens, vocab]`` logits: the LM head is projected in tiles of ``TOKEN_CHUNK_SIZE`` tokens x
``_CHUNKED_LOGPROB_CHUNK_SIZE`` vocabulary columns (4096 x 32768). On a GPU each tile is folded
by a Triton kernel. Without Triton (a CPU) the fold is plain torch over the whole tile, which
makes several float32 temporaries of the tile's size, and every position of the sequence is
scored, prompt included (TRL keeps tile shapes fixed off Triton). A tile of 2,000 positions x
32,768 columns is 262 MB, and its temporaries took the main job from about 2 GiB to 4-5 GiB at
every forward and backward pass; a GRPO step of 16 episodes of 1,000 tokens spiked by 4.6 GiB.

:func:`use_cpu_logprob_tiles` lowers both tile sizes (1024 tokens x 4096 columns: 16 MB per
tile). The result is the same (the log-sum-exp is accumulated across tiles either way).
Measured with fused forwards and backwards of SmolLM2-135M (top 8 layers trained, bf16
autocast) over rows of 1,000 tokens, on a machine busy with other training: 2 rows, +2.21 GiB
at TRL's tiles and +0.09 GiB at these (22.1 and 20.6 s per pass); 8 rows, +4.57 GiB and
+0.40 GiB (81 and 96 s; the timings are too noisy there to call a difference).

:func:`score_labelled_positions_only` makes the head project only the positions that have a label
(the completion), as TRL does on Triton devices. TRL scores every position elsewhere so that tile
shapes stay fixed for compilers (Neuron); eager CPU torch has nothing to recompile. A GRPO batch
is a ~300-token prompt before each completion, padded to the batch's longest, so most positions
had no label: they were projected onto the 49,152-word vocabulary in the forward and the backward
pass, and thrown away.

Both constants, and the ``_use_triton`` name TRL's head asks about compaction, are module
globals that TRL reads at each call, so setting them once applies to the whole process. (The tile
fold asks its own ``trl.kernels.chunked_logprob._use_triton``, unchanged: on a CPU it folds in
torch.) Checked against the TRL lines in :data:`TRL_VERSIONS_CHECKED`;
``tests/training/test_logprob_tiles.py`` fails if TRL renames or stops reading them.
"""

from __future__ import annotations

from typing import Any

TRL_VERSIONS_CHECKED: tuple[str, ...] = ("1.16",)
"""TRL release lines whose fused head was checked to read the two tile constants."""

CPU_TOKEN_TILE = 1024
"""Positions per tile on a CPU (TRL: 4096)."""

CPU_VOCAB_TILE = 4096
"""Vocabulary columns per tile on a CPU (TRL: 32768)."""


def use_cpu_logprob_tiles(
    token_tile: int = CPU_TOKEN_TILE, vocab_tile: int = CPU_VOCAB_TILE
) -> dict[str, Any]:
    """Make TRL's fused log-probability head use small tiles in this process.

    Args:
        token_tile: positions per tile.
        vocab_tile: vocabulary columns per tile.

    Returns:
        The previous values, ``{"token_tile": ..., "vocab_tile": ...}`` (to restore them).

    Raises:
        ValueError: a tile size below 1.
        RuntimeError: this TRL has no such constants (its fused head changed; see the module docstring).
    """
    if token_tile < 1 or vocab_tile < 1:
        raise ValueError(f"tile sizes must be >= 1, got token_tile={token_tile!r}, vocab_tile={vocab_tile!r}")
    import trl.kernels.chunked_logprob as kernel
    import trl.trainer.utils as head

    missing = [
        name
        for module, name in ((kernel, "TOKEN_CHUNK_SIZE"), (head, "_CHUNKED_LOGPROB_CHUNK_SIZE"))
        if not hasattr(module, name)
    ]
    if missing:
        raise RuntimeError(
            f"TRL's fused log-prob head has no {missing}: checked for TRL {list(TRL_VERSIONS_CHECKED)}; "
            "see smepo_env/training/logprob_tiles.py"
        )
    previous = {"token_tile": kernel.TOKEN_CHUNK_SIZE, "vocab_tile": head._CHUNKED_LOGPROB_CHUNK_SIZE}
    kernel.TOKEN_CHUNK_SIZE = token_tile
    head._CHUNKED_LOGPROB_CHUNK_SIZE = vocab_tile
    return previous


def score_labelled_positions_only() -> None:
    """Make TRL's fused head project only labelled positions on a CPU too (module docstring).

    Idempotent. Devices where TRL already compacts (Triton) are unchanged.

    Raises:
        RuntimeError: this TRL's fused head does not ask ``_use_triton`` (it changed; see the module).
    """
    import trl.trainer.utils as head

    asks = getattr(head, "_use_triton", None)
    if asks is None:
        raise RuntimeError(
            "TRL's fused log-prob head has no `_use_triton` to ask: checked for TRL "
            f"{list(TRL_VERSIONS_CHECKED)}; see smepo_env/training/logprob_tiles.py"
        )
    if getattr(asks, "compacts_on_cpu", False):
        return

    def compact_here(device: Any) -> bool:
        return device.type == "cpu" or asks(device)

    compact_here.compacts_on_cpu = True  # type: ignore[attr-defined]
    compact_here.original = asks  # type: ignore[attr-defined]
    head._use_triton = compact_here


def configure_cpu_logprob_head() -> None:
    """The job's CPU settings of TRL's fused head: small tiles, labelled positions only."""
    use_cpu_logprob_tiles()
    score_labelled_positions_only()
