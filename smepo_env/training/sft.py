"""Supervised warm start on expert traces with TRL's ``SFTTrainer``, cached on disk.

A 135M model does not speak the search protocol zero-shot (0% well-formed turns in the
pilot), and multi-turn GRPO from a cold start learns nothing visible in the CPU budget, so
the default run first fine-tunes on expert episodes. Each example is laid out exactly as a
policy rollout (see :func:`smepo_env.training.data.expert_example`): the loss falls on the
expert's own turns only, never on the prompt or the ``<information>`` observations (TRL
builds the labels from the ``assistant_masks`` column).

A share of the examples (``guided_share``) shows the prompt with the run's guidance mode, the
rest the plain prompt: a small model fine-tuned on plain prompts only does not know what to
do with an expert trace in its prompt (in a measured run it answered without searching and
scored 0 on every guided rollout), while evaluation needs the plain-prompt behaviour. With
``expert_guidance="none"`` every example is plain.

The result is saved once under ``<cache>/sft/<key>`` (atomically), the key hashing the model,
the data selection and the hyperparameters; a second run with the same settings loads it.
Training runs in a fresh process by default (:mod:`smepo_env.training.fresh_process`): the
memory it leaves behind goes with that process instead of staying under the GRPO run that
follows in the caller's.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from smepo_env.files import atomic_directory
from smepo_env.models.precision import cpu_has_bf16
from smepo_env.training.data import expert_example, make_env, select_tasks
from smepo_env.training.freezing import freeze_lower_layers
from smepo_env.training.frozen_weights import compact_frozen_weights
from smepo_env.training.kernel_caches import bound_cpu_kernel_caches
from smepo_env.training.logprob_tiles import configure_cpu_logprob_head
from smepo_env.training.memory import ReleaseFreedMemoryCallback

SFT_VERSION = 1


@dataclass(frozen=True)
class WarmstartSettings:
    """What the warm start trains on and how (every field enters the cache key)."""

    model: str
    env_id: str
    env_kwargs: Mapping[str, Any]
    question_types: tuple[str, ...]
    num_examples: int = 256
    epochs: float = 1.0
    learning_rate: float = 1e-4
    batch_size: int = 8
    trainable_layers: int = 0
    expert_guidance: str = "none"
    guided_share: float = 0.0
    seed: int = 0

    def cache_key(self) -> str:
        """A short hash of the settings (and of the model's config file when local)."""
        payload = asdict(self)
        config = Path(self.model) / "config.json"
        payload["model_config_mtime"] = config.stat().st_mtime_ns if config.is_file() else None
        payload["version"] = SFT_VERSION
        return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def warmstart_dir(settings: WarmstartSettings) -> Path:
    """Where the warm-started model of ``settings`` is cached."""
    from smepo_env.files import cache_dir

    return cache_dir() / "sft" / f"{Path(settings.model).name}-{settings.cache_key()}"


def build_warmstart_examples(settings: WarmstartSettings, tokenizer: Any) -> list[dict[str, list[int]]]:
    """Tokenized expert episodes of the training split (prompt and observations masked out)."""
    plain = make_env(settings.env_id, settings.env_kwargs, "none")
    guided = make_env(settings.env_id, settings.env_kwargs, settings.expert_guidance)
    num_guided = (
        round(settings.num_examples * settings.guided_share) if settings.expert_guidance != "none" else 0
    )
    try:
        examples = []
        for task in select_tasks(plain, settings.question_types, seed=settings.seed):
            i, n = len(examples), settings.num_examples  # spread the guided examples evenly
            env = guided if (i * num_guided) // n != ((i + 1) * num_guided) // n else plain
            example = expert_example(env, tokenizer, task)
            if example is not None:
                examples.append(example)
            if len(examples) >= settings.num_examples:
                break
    finally:
        plain.close()
        guided.close()
    if not examples:
        raise ValueError(f"no expert traces found for {settings.env_id} with {dict(settings.env_kwargs)}")
    return examples


def run_warmstart(
    settings: WarmstartSettings,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    log: Any = print,
    fresh_process: bool = True,
) -> Path:
    """Fine-tune ``settings.model`` on expert episodes, or return the cached result.

    Args:
        settings: data and hyperparameters.
        output_dir: save here instead of the shared cache (still skipped when already there).
        log: where progress lines go (with ``fresh_process``, the training's own lines go to
            stdout, as the child process prints them).
        fresh_process: train in a spawned child process (see the module docstring); ``False``:
            in this one.

    Returns:
        The directory of the warm-started model (with its tokenizer).
    """
    target = Path(output_dir) if output_dir is not None else warmstart_dir(settings)
    if (target / "config.json").is_file():
        log(f"[sft] warm start cached: {target}")
        return target
    from smepo_env.files import file_lock

    with file_lock(target.with_name(target.name + ".lock")):  # one trainer per cache entry
        if (target / "config.json").is_file():
            return target
        if not fresh_process:
            return _train_warmstart(settings, target, log)
        from smepo_env.training.fresh_process import call_in_fresh_process

        log("[sft] training the warm start in a fresh process (its memory is freed when it ends)")
        return call_in_fresh_process(_train_warmstart, settings, target, print)


def _train_warmstart(settings: WarmstartSettings, target: Path, log: Any) -> Path:
    bound_cpu_kernel_caches()  # before the first matrix product (see the module)
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(settings.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples = build_warmstart_examples(settings, tokenizer)
    tokens = sum(len(e["input_ids"]) for e in examples)
    trained = sum(sum(e["assistant_masks"]) for e in examples)
    log(f"[sft] {len(examples)} expert episodes, {tokens} tokens, {trained} trained on (expert turns only)")
    model = AutoModelForCausalLM.from_pretrained(settings.model, dtype=torch.float32)
    trainable = freeze_lower_layers(model, settings.trainable_layers)
    log(f"[sft] training {trainable / 1e6:.1f}M of {model.num_parameters() / 1e6:.1f}M parameters")
    cpu = not torch.cuda.is_available()
    bf16 = cpu_has_bf16() if cpu else torch.cuda.is_bf16_supported()  # mixed precision on a CPU
    if cpu:
        configure_cpu_logprob_head()  # small tiles, labelled positions only (see that module)
        if bf16:  # frozen weights in the dtype autocast computes with (see that module)
            compact_frozen_weights(model, torch.bfloat16)
    with tempfile.TemporaryDirectory(prefix="smepo-sft-") as scratch:
        config = SFTConfig(
            output_dir=scratch,
            num_train_epochs=settings.epochs,
            learning_rate=settings.learning_rate,
            # One episode per forward/backward, accumulated to batch_size: the same update (the loss
            # is normalised by the accumulated batch's token count), without padding, and with one
            # episode's activations at a time. Batches of 8 took the main job past 8 GB resident;
            # micro-batches of 2 to 3.4 GB; of 1, see bench/profile_memory.py and the README.
            per_device_train_batch_size=1,
            gradient_accumulation_steps=settings.batch_size,
            lr_scheduler_type="cosine",
            warmup_steps=2,
            logging_steps=5,
            save_strategy="no",
            report_to="none",
            seed=settings.seed,
            use_cpu=cpu,
            bf16=bf16,
            gradient_checkpointing=False,
            max_length=None,
            disable_tqdm=False,
        )
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=Dataset.from_list(examples),
            processing_class=tokenizer,
            callbacks=[ReleaseFreedMemoryCallback(every_micro_batch=True)],  # see training/memory.py
        )
        result = trainer.train()
    log(f"[sft] trained in {time.perf_counter() - started:.0f} s, final loss {result.training_loss:.3f}")
    with atomic_directory(target) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / "warmstart.json").write_text(
            json.dumps({**asdict(settings), "examples": len(examples)}, default=str)
        )
    return target


def warmstart_settings_from(agent_args: Any, model_location: str, seed: int) -> WarmstartSettings:
    """The warm-start settings of a training run's arguments."""
    return WarmstartSettings(
        model=model_location,
        env_id=agent_args.env_id,
        env_kwargs=agent_args.env_kwargs_for(agent_args.train_split),
        question_types=tuple(agent_args.question_type_list()),
        num_examples=agent_args.sft_num_examples,
        epochs=agent_args.sft_epochs,
        learning_rate=agent_args.sft_learning_rate,
        batch_size=agent_args.sft_batch_size,
        trainable_layers=agent_args.trainable_layers,
        expert_guidance=agent_args.expert_guidance,
        guided_share=agent_args.sft_guided_share,
        seed=seed,
    )
