"""Precision and threads: bf16 picked from the CPU's flags, fp32 forced, bf16 generation copies."""

from __future__ import annotations

import pytest

from smepo_env.models.precision import (
    configure_cpu_threads,
    cpu_flags,
    cpu_has_bf16,
    default_cpu_threads,
    resolve_precision,
)
from smepo_env.rollout import TransformersGenerator
from smepo_env.rollout.generation import cast_copy

XEON_AMX = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile\n"
EPYC_ZEN4 = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n"
OLD_XEON = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n"


@pytest.mark.parametrize(("cpuinfo", "expected"), [(XEON_AMX, True), (EPYC_ZEN4, True), (OLD_XEON, False)])
def test_bf16_is_read_from_the_cpu_flags(tmp_path, cpuinfo, expected):
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert ("avx512f" in cpu_flags(path)) and cpu_has_bf16(path) is expected


def test_auto_means_bf16_only_where_the_cpu_has_it_and_fp32_forces_float32():
    import torch

    assert resolve_precision("auto", "cpu", cpu_bf16=True) is torch.bfloat16
    assert resolve_precision("auto", "cpu", cpu_bf16=False) is torch.float32
    assert resolve_precision("fp32", "cpu", cpu_bf16=True) is torch.float32
    assert resolve_precision("bf16", "cpu", cpu_bf16=False) is torch.bfloat16
    with pytest.raises(ValueError, match=r"\['auto', 'bf16', 'fp32'\].*'fp16'"):
        resolve_precision("fp16")


def test_this_machine_reports_what_proc_cpuinfo_says():
    flags = cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo on this platform")
    assert cpu_has_bf16() == bool({"amx_bf16", "avx512_bf16"} & flags)


def test_threads_default_to_every_core_and_are_applied():
    import torch

    assert default_cpu_threads(2) == 2 and default_cpu_threads(16) == 16 and default_cpu_threads(1) == 1
    assert default_cpu_threads(0) == 1  # os.cpu_count() may say None or 0
    before = torch.get_num_threads()
    try:
        assert configure_cpu_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="-1"):
        configure_cpu_threads(-1)


def test_cast_copy_is_bf16_tied_frozen_and_leaves_the_policy_alone(tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.train()
    copy = cast_copy(model, torch.bfloat16)
    assert {p.dtype for p in copy.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in model.parameters()} == {torch.float32} and model.training
    assert copy.get_input_embeddings().weight is copy.get_output_embeddings().weight
    assert not any(p.requires_grad for p in copy.parameters()) and not copy.training
    rotary = [b for name, b in copy.named_buffers() if "inv_freq" in name]
    assert rotary and all(b.dtype == torch.float32 for b in rotary)
    for (name, original), (_, cast) in zip(model.named_parameters(), copy.named_parameters(), strict=True):
        assert torch.equal(original.detach().to(torch.bfloat16), cast), name


def test_bf16_generator_matches_a_model_loaded_in_bf16(tiny_model_dir):
    """Greedy turns from the cast copy equal those of the same checkpoint loaded as bf16."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    fp32 = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    bf16 = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16)
    prompts = [
        tokenizer.encode(text) for text in ("Where was Marin Okafor born?", "Who directed Blue Harbor?")
    ]
    copied = TransformersGenerator(fp32, tokenizer, temperature=0.0, dtype=torch.bfloat16)
    loaded = TransformersGenerator(bf16, tokenizer, temperature=0.0)
    assert copied.model is not fp32 and loaded.model is bf16
    assert [t.token_ids for t in copied.generate_turns(prompts, 12)] == [
        t.token_ids for t in loaded.generate_turns(prompts, 12)
    ]
    same = TransformersGenerator(fp32, tokenizer, temperature=0.0, dtype=torch.float32)
    assert same.model is fp32


def test_cast_copy_runs_itself_under_trls_and_accelerates_forward_patches(tiny_model_dir):
    """A trainer's policy carries TRL's fused-LM-head forward (a closure over the original
    forward) and accelerate's autocast wrapper; the copy must compute with its own bf16
    weights, never call the float32 policy, and still generate what a bf16 load generates."""
    import torch
    from accelerate import Accelerator
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.trainer.utils import add_fused_lm_head

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    add_fused_lm_head(policy)
    policy = Accelerator(cpu=True, mixed_precision="bf16").prepare_model(policy)
    assert "forward" in policy.__dict__  # the patches this test is about are in place
    backbones = []  # the hook is deep-copied along: it records which backbone ran
    policy.model.register_forward_pre_hook(lambda module, args: backbones.append(module))

    prompts = [tokenizer.encode("Where was Marin Okafor born?")]
    copied = TransformersGenerator(policy, tokenizer, temperature=0.0, dtype=torch.bfloat16)
    turns = copied.generate_turns(prompts, 12)
    assert backbones and all(b is copied.model.model for b in backbones)
    assert "forward" not in copied.model.__dict__
    bf16 = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16)
    loaded = TransformersGenerator(bf16, tokenizer, temperature=0.0)
    assert [t.token_ids for t in turns] == [t.token_ids for t in loaded.generate_turns(prompts, 12)]
    # the policy itself keeps both patches (training still needs them)
    assert "forward" in policy.__dict__ and policy(torch.tensor(prompts)).logits.dtype == torch.float32
