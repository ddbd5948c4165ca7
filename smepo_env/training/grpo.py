"""The GRPO agent run: warm start, held-out evaluation, TRL's GRPOTrainer with episode rollouts, resume.

:func:`train_agent` is everything ``agents/train_grpo.py`` does:

1. resolve the model (a missing path fails here, before anything loads);
2. build the training prompts from the guided env, and pick the held-out tasks;
3. optionally warm-start on expert traces (:mod:`smepo_env.training.sft`, cached);
4. evaluate the starting policy on the held-out split, greedy and unguided;
5. train with TRL's ``GRPOTrainer`` (as :class:`~smepo_env.training.trainer.LeanGRPOTrainer`,
   which leaves gradient-free episodes out of the model passes) and :class:`EpisodeRolloutFunction`
   (one generation = one episode; the env's terminal reward is the reward; env tokens masked out
   of the loss),
   checkpointing as TRL does, each checkpoint marked complete once written;
6. evaluate again, save the final model, write ``summary.json`` and the training-curve PNG.

With ``resume=True`` it continues from the last *complete* checkpoint in ``output_dir``
(global step, optimizer, scheduler and RNG state restored by ``Trainer``); without it, a
fresh run clears old checkpoints and metrics from ``output_dir`` first.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from smepo_env.evaluation.model_policy import evaluate_policy
from smepo_env.evaluation.report import summarize_records
from smepo_env.guidance.schedules import GuidanceSchedule
from smepo_env.models.bundled import BUNDLED_MODELS, bundled_model_dir, bundled_model_ready
from smepo_env.models.precision import configure_cpu_threads, resolve_precision
from smepo_env.training.callbacks import (
    HeldOutEvalCallback,
    JsonlMetricsCallback,
    read_metrics,
    truncate_metrics,
)
from smepo_env.training.checkpoints import CheckpointMarkerCallback, checkpoint_step, last_complete_checkpoint
from smepo_env.training.config import AgentArguments
from smepo_env.training.data import PromptIndex, longest_prompt, make_env, prompt_rows, select_tasks
from smepo_env.training.freezing import freeze_lower_layers
from smepo_env.training.fresh_process import call_in_fresh_process
from smepo_env.training.heldout_reuse import evaluate_or_reuse, evaluation_key
from smepo_env.training.kernel_caches import bound_cpu_kernel_caches
from smepo_env.training.logprob_tiles import configure_cpu_logprob_head
from smepo_env.training.memory import ReleaseFreedMemoryCallback
from smepo_env.training.plots import plot_training_curve
from smepo_env.training.rollout_func import EpisodeRolloutFunction, env_reward
from smepo_env.training.schedule_state import GuidanceScheduleCheckpointCallback, restore_schedule
from smepo_env.training.sft import run_warmstart, warmstart_settings_from
from smepo_env.training.vllm_backend import (
    VLLM_STOP_KWARGS,
    TrainerVLLMGenerator,
    describe_rollout_path,
    engine_evaluates,
    sync_engine_weights,
    vllm_trainer_context,
)
from smepo_env.training.vllm_cpu import shutdown_engine

EVAL_SELECTION_SEED = 0
"""Held-out tasks are drawn with a fixed seed, so runs with different seeds share one test set."""


def _prepare_output_dir(output_dir: Path, resume: bool, log: Any) -> Path | None:
    metrics = output_dir / "metrics.jsonl"
    if resume:
        checkpoint = last_complete_checkpoint(output_dir)
        if checkpoint is None:
            log(f"[resume] no complete checkpoint in {output_dir}; starting from the beginning")
            metrics.unlink(missing_ok=True)
            return None
        step = checkpoint_step(checkpoint)
        for stale in output_dir.glob("checkpoint-*"):
            if stale != checkpoint and stale.is_dir() and int(stale.name.split("-")[-1]) > step:
                log(f"[resume] removing incomplete or later checkpoint {stale.name}")
                shutil.rmtree(stale, ignore_errors=True)
        truncate_metrics(metrics, step)
        log(f"[resume] continuing from {checkpoint} (step {step})")
        return checkpoint
    old = [p for p in output_dir.glob("checkpoint-*") if p.is_dir()]
    if old or metrics.exists():
        log(
            f"[fresh run] clearing {len(old)} old checkpoint(s) and metrics in {output_dir} "
            "(use --resume to continue)"
        )
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        metrics.unlink(missing_ok=True)
    return None


def check_step_fits(num_prompts: int, grpo_config: Any, num_processes: int = 1) -> None:
    """Raise when the training prompts cannot fill one optimizer step.

    One step plays ``per_device_train_batch_size x gradient_accumulation_steps x processes``
    episodes, ``num_generations`` per distinct prompt; with fewer prompts TRL's sampler yields no
    batch and the run would end after zero steps without a word.

    Raises:
        ValueError: naming the counts and what to change.
    """
    episodes = (
        grpo_config.per_device_train_batch_size * grpo_config.gradient_accumulation_steps * num_processes
    )
    needed = -(-episodes // grpo_config.num_generations)
    if num_prompts < needed:
        raise ValueError(
            f"{num_prompts} training task(s) cannot fill one step: per_device_train_batch_size "
            f"{grpo_config.per_device_train_batch_size} x gradient_accumulation_steps "
            f"{grpo_config.gradient_accumulation_steps} x {num_processes} process(es) = {episodes} "
            f"episodes, {grpo_config.num_generations} per prompt, need {needed} distinct prompts; "
            "train on more tasks (--num_train_tasks, --question_types) or use a smaller batch"
        )


def train_agent(agent_args: AgentArguments, grpo_config: Any, *, log: Any = print) -> dict[str, Any]:
    """Run the whole job (see the module docstring) and return its summary.

    Returns:
        ``{"seed", "heldout_before", "heldout_after", "steps", "seconds", "output_dir", ...}``.
    """
    started = time.perf_counter()
    bound_cpu_kernel_caches()  # before the first matrix product (see the module)
    threads = configure_cpu_threads(agent_args.cpu_threads)
    if agent_args.model in BUNDLED_MODELS and not bundled_model_ready(agent_args.model):
        # the first-use GGUF conversion left about 0.35 GiB behind in the job's process
        call_in_fresh_process(bundled_model_dir, agent_args.model)
    model_location = agent_args.resolved_model()
    import torch

    if grpo_config.use_cpu or not torch.cuda.is_available():
        configure_cpu_logprob_head()  # TRL's head: GBs of spikes, every position scored (see the module)
    output_dir = Path(grpo_config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    from accelerate import PartialState

    processes = PartialState()  # under `accelerate launch`, only the main process touches files
    checkpoint = None
    if processes.is_main_process:
        checkpoint = _prepare_output_dir(output_dir, agent_args.resume, log)
    processes.wait_for_everyone()
    if not processes.is_main_process and agent_args.resume:
        checkpoint = last_complete_checkpoint(output_dir)
    seed = grpo_config.seed

    train_kwargs = agent_args.env_kwargs_for(agent_args.train_split)
    eval_kwargs = agent_args.env_kwargs_for(agent_args.eval_split)
    guided_env = make_env(agent_args.env_id, train_kwargs, agent_args.expert_guidance)
    train_tasks = select_tasks(
        guided_env, agent_args.question_type_list(), agent_args.num_train_tasks, seed=seed
    )
    rows = prompt_rows(guided_env, train_tasks)
    guided_env.close()
    check_step_fits(len(rows), grpo_config, processes.num_processes)
    eval_env = make_env(agent_args.env_id, eval_kwargs, "none")
    eval_tasks = select_tasks(
        eval_env, agent_args.question_type_list(), agent_args.num_eval_tasks, seed=EVAL_SELECTION_SEED
    )
    eval_prompts = [row["prompt"] for row in prompt_rows(eval_env, eval_tasks)]
    eval_env.close()
    eval_options = [{"task_id": t.id} for t in eval_tasks]
    log(
        f"[data] {agent_args.env_id} on benchmark {agent_args.resolved_benchmark()}: "
        f"{len(rows)} training tasks "
        f"({', '.join(agent_args.question_type_list()) or 'all types'}, "
        f"guidance={agent_args.expert_guidance}, schedule={agent_args.guidance_schedule}), "
        f"{len(eval_options)} held-out {agent_args.eval_split} tasks (unguided)"
    )

    start_model = model_location
    if agent_args.sft_warmstart and agent_args.protocol == "tools":
        log("[sft] the warm start trains tag transcripts: skipped with --protocol tools")
    elif agent_args.sft_warmstart and checkpoint is None:
        settings = warmstart_settings_from(agent_args, model_location, seed)
        with processes.main_process_first():  # the main process trains it; the others then load the cache
            start_model = str(run_warmstart(settings, log=log))

    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smepo_env.training.frozen_weights import compact_frozen_weights
    from smepo_env.training.trainer import LeanGRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(start_model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # On a CPU, --bf16 is mixed precision (float32 weights, bf16 autocast); see models/precision.py.
    dtype = torch.bfloat16 if grpo_config.bf16 and torch.cuda.is_available() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(start_model, dtype=dtype)
    generation_dtype = resolve_precision(agent_args.precision, "cuda" if torch.cuda.is_available() else "cpu")
    trainable = freeze_lower_layers(model, agent_args.trainable_layers)
    log(f"[grpo] training {trainable / 1e6:.1f}M of {model.num_parameters() / 1e6:.1f}M parameters")
    if grpo_config.bf16 and not torch.cuda.is_available():  # bf16 autocast rounds them so anyway
        saved = compact_frozen_weights(model, torch.bfloat16)
        if saved:
            log(f"[grpo] frozen weights held in bf16 ({saved / 2**30:.2f} GiB less)")

    if agent_args.protocol == "tools":
        from smepo_env.integrations.trl import ensure_tool_chat_template

        ensure_tool_chat_template(tokenizer)

    def evaluate(policy: Any) -> dict[str, float]:
        if agent_args.protocol == "tools":
            from smepo_env.evaluation.tool_policy import evaluate_tool_policy

            return summarize_records(
                evaluate_tool_policy(
                    policy,
                    tokenizer,
                    agent_args.env_id,
                    eval_kwargs,
                    eval_options,
                    batch_size=agent_args.eval_batch_size,
                    max_completion_tokens=grpo_config.max_completion_length,
                    max_turn_tokens=agent_args.max_turn_tokens,
                )
            )
        generator, batch_size = None, agent_args.eval_batch_size
        built = heldout.trainer  # once the trainer is built, greedy held-out play runs on its vLLM engine
        if built is not None and engine_evaluates(built):
            sync_engine_weights(built)
            generator, batch_size = TrainerVLLMGenerator(built, temperature=0.0), len(eval_options)
        results = evaluate_policy(
            policy,
            tokenizer,
            agent_args.env_id,
            eval_kwargs,
            eval_options,
            batch_size=batch_size,
            max_completion_tokens=grpo_config.max_completion_length,
            max_turn_tokens=agent_args.max_turn_tokens,
            dtype=generation_dtype,
            generator=generator,
        )
        return summarize_records(results)

    if grpo_config.use_vllm and agent_args.protocol == "tags":
        grpo_config.generation_kwargs = {**VLLM_STOP_KWARGS, **(grpo_config.generation_kwargs or {})}
    schedule = GuidanceSchedule(
        agent_args.guidance_schedule,
        agent_args.expert_guidance,
        prefix_ratio=train_kwargs.get("prefix_ratio"),
        anneal_steps=agent_args.guidance_anneal_steps or grpo_config.max_steps,
    )
    if checkpoint is not None and restore_schedule(schedule, checkpoint):
        log(f"[resume] guidance schedule restored ({len(schedule.failed_tasks())} tasks guided on failure)")
    rollout = EpisodeRolloutFunction(
        agent_args.env_id,
        train_kwargs,
        agent_args.expert_guidance,
        PromptIndex(rows),
        agent_args.max_turn_tokens,
        generation_dtype=generation_dtype,
        schedule=schedule,
    )
    metrics_path = output_dir / "metrics.jsonl"
    heldout = HeldOutEvalCallback(evaluate, agent_args.heldout_eval_steps)
    # The schedule's memory is saved into each checkpoint before the COMPLETE marker is written.
    saver = GuidanceScheduleCheckpointCallback(schedule)
    callbacks = [JsonlMetricsCallback(metrics_path), saver, CheckpointMarkerCallback(), heldout]
    callbacks.append(ReleaseFreedMemoryCallback(every_micro_batch=True))  # see training/memory.py
    engine = vllm_trainer_context(
        grpo_config, generation_dtype=generation_dtype, kv_cache_gib=agent_args.vllm_kv_cache_gib,
        model_config=model.config, max_turn_tokens=agent_args.max_turn_tokens,
        # the tags protocol's episodes start from these prompts (the tools protocol is TRL's own loop)
        max_prompt_tokens=longest_prompt(tokenizer, [r["prompt"] for r in rows] + eval_prompts)
        if agent_args.protocol == "tags" and grpo_config.use_vllm else None,
    )  # fmt: skip
    if agent_args.protocol == "tools":
        from smepo_env.training.tool_protocol import tool_trainer_kwargs

        protocol_kwargs = tool_trainer_kwargs(
            agent_args.env_id, train_kwargs, agent_args.expert_guidance, train_tasks, tokenizer
        )
    else:
        protocol_kwargs = {
            "reward_funcs": env_reward,
            "train_dataset": Dataset.from_list(rows),
            "rollout_func": rollout,
        }
    with engine:
        trainer = LeanGRPOTrainer(
            model=model, args=grpo_config, processing_class=tokenizer, callbacks=callbacks, **protocol_kwargs
        )
    log(describe_rollout_path(trainer, generation_dtype, threads))
    heldout.trainer = trainer
    before = next(
        (r for r in read_metrics(metrics_path) if r.get("step") == 0 and "heldout/success" in r), None
    )
    if before is None:
        if agent_args.heldout_before_file:
            play = {
                "protocol": agent_args.protocol,
                "max_completion_length": grpo_config.max_completion_length,
                "max_turn_tokens": agent_args.max_turn_tokens,
                "eval_batch_size": agent_args.eval_batch_size,  # padding moves HF's numerics a little
                "precision": str(generation_dtype),
                "vllm": agent_args.protocol == "tags" and engine_evaluates(trainer),
            }
            task_ids = [option["task_id"] for option in eval_options]
            key = evaluation_key(start_model, task_ids, agent_args.env_id, eval_kwargs, play)
            summary = evaluate_or_reuse(
                agent_args.heldout_before_file, key, lambda: evaluate(model),
                save=processes.is_main_process, log=log,
            )  # fmt: skip
        else:
            summary = evaluate(model)
        before = {"step": 0, **{f"heldout/{k}": v for k, v in summary.items()}}
        if processes.is_main_process:
            with metrics_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(before) + "\n")
    log(
        f"[eval] held-out success before GRPO: {before['heldout/success']:.3f} "
        f"(n={before['heldout/n']}, seed={seed})"
    )

    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    after_summary = evaluate(trainer.model)
    shutdown_engine(trainer, log)  # the vLLM engine and its KV cache go once the last evaluation is done
    after = {"step": trainer.state.global_step, **{f"heldout/{k}": v for k, v in after_summary.items()}}
    if trainer.accelerator.is_main_process:
        with metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(after) + "\n")
    trainer.save_model(str(output_dir / "final"))
    if not processes.is_main_process:
        return {"steps": trainer.state.global_step, "heldout_after": after["heldout/success"]}
    plot = plot_training_curve(metrics_path, output_dir / "training_curve.png")
    result = {
        "seed": seed,
        "env_id": agent_args.env_id,
        "expert_guidance": agent_args.expert_guidance,
        "guidance_schedule": agent_args.guidance_schedule,
        "model": agent_args.model,
        "start_model": start_model,
        "steps": trainer.state.global_step,
        "heldout_before": before["heldout/success"],
        "heldout_after": after["heldout/success"],
        "heldout_n": after["heldout/n"],
        "seconds": time.perf_counter() - started,
        "output_dir": str(output_dir),
        "plot": str(plot),
    }
    (output_dir / "summary.json").write_text(json.dumps(result, indent=2))
    log(
        f"[eval] held-out success (unguided, greedy, n={result['heldout_n']}, seed={seed}): "
        f"before {result['heldout_before']:.3f} -> after {result['heldout_after']:.3f} "
        f"in {result['steps']} GRPO steps, {result['seconds']:.0f} s; plot {plot}"
    )
    return result
