"""TRL's fused log-prob head with CPU tiles: the same log-probabilities and gradients, less memory."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_tiles():
    from smepo_env.training.logprob_tiles import use_cpu_logprob_tiles

    previous = use_cpu_logprob_tiles()
    use_cpu_logprob_tiles(previous["token_tile"], previous["vocab_tile"])
    yield
    use_cpu_logprob_tiles(previous["token_tile"], previous["vocab_tile"])


def _fused_pass(model, ids, labels):
    model.zero_grad(set_to_none=True)
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, fused_lm_head=True)
    (out.log_probs.sum() + out.entropy.sum()).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out.log_probs.detach(), out.entropy.detach(), grads


def test_small_tiles_give_trls_log_probs_entropy_and_gradients(tiny_model_dir, restore_tiles, monkeypatch):
    import trl.kernels.chunked_logprob as kernel
    import trl.trainer.utils as head
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from smepo_env.training.logprob_tiles import use_cpu_logprob_tiles

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy"))
    vocab = model.get_output_embeddings().weight.size(0)
    ids = torch.randint(5, vocab, (3, 40), generator=torch.Generator().manual_seed(0))
    labels = ids.clone()
    labels[:, :15] = -100  # the prompt is not scored

    folds = []
    fold = kernel._forward_tile  # the CPU fold, once per tile: counts the tiles TRL used
    monkeypatch.setattr(kernel, "_forward_tile", lambda *a, **k: folds.append(1) or fold(*a, **k))

    default = _fused_pass(model, ids, labels)
    default_tiles, folds[:] = len(folds), []
    # tiles smaller than the sequence and the vocabulary, so both loops run many times
    previous = use_cpu_logprob_tiles(token_tile=16, vocab_tile=128)
    assert (kernel.TOKEN_CHUNK_SIZE, head._CHUNKED_LOGPROB_CHUNK_SIZE) == (16, 128)
    assert previous["vocab_tile"] >= vocab  # TRL's own tiles hold the whole tiny vocabulary
    tiled = _fused_pass(model, ids, labels)
    # 120 positions (TRL scores every one off Triton) in tiles of 16, 800 columns in tiles of 128
    assert default_tiles == 1 and len(folds) == 8 * 7

    torch.testing.assert_close(tiled[0], default[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(tiled[1], default[1], rtol=1e-5, atol=1e-5)
    assert tiled[2].keys() == default[2].keys() and default[2]
    for name, grad in default[2].items():
        torch.testing.assert_close(tiled[2][name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_bad_tile_sizes_are_refused(restore_tiles):
    from smepo_env.training.logprob_tiles import use_cpu_logprob_tiles

    with pytest.raises(ValueError, match="token_tile=0"):
        use_cpu_logprob_tiles(token_tile=0)


def test_only_labelled_positions_are_projected_with_the_same_results(
    tiny_model_dir, restore_tiles, monkeypatch
):
    import trl.kernels.chunked_logprob as kernel
    import trl.trainer.utils as head
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from smepo_env.training.logprob_tiles import score_labelled_positions_only, use_cpu_logprob_tiles

    monkeypatch.setattr(head, "_use_triton", head._use_triton)  # undone after the test
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy"))
    vocab = model.get_output_embeddings().weight.size(0)
    ids = torch.randint(5, vocab, (3, 40), generator=torch.Generator().manual_seed(0))
    labels = ids.clone()
    labels[:, :15] = -100  # a prompt
    labels[2, 30:] = -100  # and a shorter completion, padded
    use_cpu_logprob_tiles(token_tile=16, vocab_tile=vocab)

    projected = []
    fold = kernel._forward_tile
    monkeypatch.setattr(
        kernel,
        "_forward_tile",
        lambda hidden, *a, **k: projected.append(hidden.size(0)) or fold(hidden, *a, **k),
    )
    every = _fused_pass(model, ids, labels)
    every_positions, projected[:] = sum(projected), []
    score_labelled_positions_only()
    score_labelled_positions_only()  # twice: still one wrapper
    assert not getattr(head._use_triton.original, "compacts_on_cpu", False)
    labelled = _fused_pass(model, ids, labels)

    assert every_positions == 3 * 39  # TRL off Triton: every position but the last
    assert sum(projected) == int((labels[:, 1:] != -100).sum()) == 25 + 25 + 15
    assert not kernel._use_triton(torch.device("cpu"))  # the fold stays torch's
    torch.testing.assert_close(labelled[0], every[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(labelled[1], every[1], rtol=1e-5, atol=1e-5)
    assert labelled[2].keys() == every[2].keys() and every[2]
    for name, grad in every[2].items():
        torch.testing.assert_close(labelled[2][name], grad, rtol=1e-4, atol=1e-6, msg=name)
