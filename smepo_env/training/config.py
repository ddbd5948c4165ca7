"""The trainer's configuration: the agent/task knobs as a dataclass, TRL's ``GRPOConfig`` for the rest.

``python agents/train_grpo.py --help`` lists both. TRL's own names are kept for everything
TRL has (``--max_steps``, ``--output_dir``, ``--learning_rate``, ``--num_generations``,
``--use_vllm``, ``--vllm_mode``, ``--report_to``, ...); :class:`AgentArguments` adds the
environment, the guidance mode, the task selection, held-out evaluation and the supervised
warm start. ``--config file.yaml`` sets any of them (command-line values win).

:data:`EMBEDDED_DEFAULTS` are the defaults of the fresh-machine main job (2-core CPU, about
15 minutes); they replace TRL's defaults but yield to a YAML file or the command line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smepo_env.errors import check_choice
from smepo_env.models import DEFAULT_MODEL, check_model, resolve_model
from smepo_env.models.precision import PRECISIONS, cpu_has_bf16
from smepo_env.training.vllm_backend import default_use_vllm
from smepo_env.vocabulary import DEFAULT_BENCHMARKS, GUIDANCE_MODES, GUIDANCE_SCHEDULES, PROTOCOLS


@dataclass
class AgentArguments:
    """What to train on, with which guidance, and how to evaluate it."""

    env_id: str = field(
        default="smepo/SearchQA-v0",
        metadata={"help": "A registered smepo environment id.", "aliases": ["--env"]},
    )
    expert_guidance: str = field(
        default="masked",
        metadata={
            "help": "Guidance in the training prompts: none, full, prefix or masked (SMEPO). "
            "Evaluation is always unguided."
        },
    )
    guidance_schedule: str = field(
        default="always",
        metadata={
            "help": "When training prompts are guided: always; on_failure (only tasks whose last "
            "unguided group earned no reward; unseen tasks are probed unguided first); anneal (the "
            "shown share of the trace decays linearly to 0 at --guidance_anneal_steps). "
            "See smepo_env/guidance/schedules.py."
        },
    )
    guidance_anneal_steps: int = field(
        default=0,
        metadata={
            "help": "With --guidance_schedule anneal: the step where no trace is shown (0: --max_steps)."
        },
    )
    protocol: str = field(
        default="tags",
        metadata={
            "help": "How the agent acts: tags (Search-R1 tags through our rollout_func, any model) or tools "
            "(the model's native tool calling through TRL's environment_factory; needs a chat template "
            "with tool calling, a ChatML one gets Qwen2.5's). See smepo_env/training/tool_protocol.py."
        },
    )
    model: str = field(
        default=DEFAULT_MODEL,
        metadata={
            "help": "A bundled model alias, a local checkpoint directory or a hub id "
            "(e.g. Qwen/Qwen2.5-3B-Instruct)."
        },
    )
    benchmark: str = field(
        default="",
        metadata={
            "help": "The bundled benchmark the env plays; empty: the env's own default "
            "(fictional-world for SearchQA, math-word for Math, code-functions for PythonExec)."
        },
    )
    train_split: str = field(default="train", metadata={"help": "Benchmark split for training."})
    eval_split: str = field(default="test", metadata={"help": "Held-out benchmark split for evaluation."})
    question_types: str = field(
        default="default",
        metadata={
            "help": "Comma-separated question types to train and evaluate on; empty for all; "
            "'default' for the benchmark's curriculum start (single-hop on fictional-world, "
            "all types elsewhere)."
        },
    )
    num_train_tasks: int = field(
        default=0, metadata={"help": "Use at most this many training tasks (0: all)."}
    )
    num_eval_tasks: int = field(default=32, metadata={"help": "Held-out tasks per evaluation."})
    max_turns: int = field(default=3, metadata={"help": "Model turns per episode before the env truncates."})
    max_turn_tokens: int = field(default=64, metadata={"help": "Most tokens one model turn may generate."})
    env_kwargs: str = field(
        default="", metadata={"help": "Extra env constructor kwargs as JSON, e.g. '{\"top_k\": 2}'."}
    )
    heldout_eval_steps: int = field(
        default=0,
        metadata={"help": "Evaluate on the held-out split every N steps (0: only before and after)."},
    )
    eval_batch_size: int = field(default=16, metadata={"help": "Episodes played together in evaluation."})
    heldout_before_file: str = field(
        default="",
        metadata={
            "help": "Save the held-out evaluation before training here, and reuse it in a later run "
            "whose start model, held-out questions and evaluation settings are the same (a "
            "comparison's arms and seeds); see smepo_env/training/heldout_reuse.py. Empty: always evaluate."
        },
    )
    trainable_layers: int = field(
        default=8,
        metadata={
            "help": "Train only the top N decoder layers (warm start and GRPO); 0 trains all. "
            "A CPU budget knob: backward stops at the lowest trainable layer. Use 0 on a GPU."
        },
    )
    sft_warmstart: bool = field(
        default=True,
        metadata={
            "help": "Start from a supervised warm start on expert traces (agents/sft_warmstart.py; cached)."
        },
    )
    sft_guided_share: float = field(
        default=0.5,
        metadata={
            "help": "Share of warm-start examples whose prompt carries the run's expert guidance "
            "(the rest are plain), so the policy knows the guided prompt format RL trains on."
        },
    )
    sft_num_examples: int = field(default=96, metadata={"help": "Expert traces in the warm start."})
    sft_epochs: float = field(default=1.0, metadata={"help": "Warm-start epochs."})
    sft_learning_rate: float = field(default=5e-4, metadata={"help": "Warm-start learning rate."})
    sft_batch_size: int = field(default=8, metadata={"help": "Warm-start batch size."})
    resume: bool = field(
        default=False, metadata={"help": "Resume from the last complete checkpoint in --output_dir."}
    )
    precision: str = field(
        default="auto",
        metadata={
            "help": "auto: bf16 generation on CUDA GPUs and on CPUs with AMX-BF16/AVX512-BF16 (and, on "
            "such a CPU, bf16 mixed-precision training), else fp32; bf16 or fp32 force it for both. "
            "See smepo_env/models/precision.py."
        },
    )
    cpu_threads: int = field(
        default=0, metadata={"help": "Torch/OpenMP threads on a CPU (0: every usable core)."}
    )
    vllm_kv_cache_gib: float = field(
        default=0.0,
        metadata={
            "help": "vLLM on a CPU: KV-cache size in GiB (0: room for one step's episodes, at most 4 GiB)."
        },
    )

    def __post_init__(self) -> None:
        check_choice("--expert_guidance", self.expert_guidance, GUIDANCE_MODES)
        check_choice("--guidance_schedule", self.guidance_schedule, GUIDANCE_SCHEDULES)
        check_choice("--protocol", self.protocol, PROTOCOLS)
        if self.protocol == "tools" and self.guidance_schedule != "always":
            raise ValueError(
                f"--guidance_schedule {self.guidance_schedule} needs --protocol tags (TRL's "
                "environment_factory keeps each env's guidance mode as it was made), got --protocol tools"
            )
        if self.guidance_schedule != "always" and self.expert_guidance == "none":
            raise ValueError(
                f"--guidance_schedule {self.guidance_schedule} needs --expert_guidance full, prefix or "
                "masked, got none"
            )
        for name in ("num_eval_tasks", "max_turns", "max_turn_tokens", "eval_batch_size", "sft_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be >= 1, got {getattr(self, name)!r}")
        counts = ("num_train_tasks", "heldout_eval_steps", "sft_num_examples", "trainable_layers")
        for name in (*counts, "guidance_anneal_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name} must be >= 0, got {getattr(self, name)!r}")

        check_choice("--precision", self.precision, PRECISIONS)
        if self.cpu_threads < 0 or self.vllm_kv_cache_gib < 0:
            raise ValueError(
                f"--cpu_threads and --vllm_kv_cache_gib must be >= 0, got {self.cpu_threads!r}, "
                f"{self.vllm_kv_cache_gib!r}"
            )
        if not 0.0 <= self.sft_guided_share <= 1.0:
            raise ValueError(f"--sft_guided_share must be in [0, 1], got {self.sft_guided_share!r}")

    def check_env_id(self) -> None:
        """Raise a ValueError naming the valid ids when ``env_id`` is not registered."""
        from smepo_env import ENV_IDS

        check_choice("--env_id", self.env_id, ENV_IDS)

    def extra_env_kwargs(self) -> dict[str, Any]:
        """``--env_kwargs`` parsed (a dict)."""
        if not self.env_kwargs:
            return {}
        try:
            value = json.loads(self.env_kwargs)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"--env_kwargs must be a JSON object, got {self.env_kwargs!r} ({error.msg})"
            ) from None
        if not isinstance(value, dict):
            raise ValueError(f"--env_kwargs must be a JSON object, got {self.env_kwargs!r}")
        return value

    def resolved_benchmark(self) -> str:
        """``--benchmark``, or the default benchmark of ``--env_id``'s domain when it is empty."""
        if self.benchmark:
            return self.benchmark
        from smepo_env import ENV_ID_BY_DOMAIN

        domain = {env_id: domain for domain, env_id in ENV_ID_BY_DOMAIN.items()}[self.env_id]
        return DEFAULT_BENCHMARKS[domain]

    def env_kwargs_for(self, split: str) -> dict[str, Any]:
        """Env constructor kwargs (guidance excluded) for a benchmark split."""
        return {
            "benchmark": self.resolved_benchmark(),
            "split": split,
            "max_turns": self.max_turns,
            **self.extra_env_kwargs(),
        }

    def question_type_list(self) -> list[str]:
        """``--question_types`` as a list (empty: all types; ``default``: see the option's help)."""
        spec = self.question_types
        if spec == "default":  # the bundled benchmark's curriculum; a user's own tasks= play every type
            own_tasks = self.extra_env_kwargs().get("tasks") is not None
            spec = "" if own_tasks else DEFAULT_QUESTION_TYPES.get(self.resolved_benchmark(), "")
        return [t.strip() for t in spec.split(",") if t.strip()]

    def check_model(self) -> None:
        """Raise what :meth:`resolved_model` would, without converting a bundled model yet."""
        check_model(self.model)

    def resolved_model(self) -> str:
        """The model location; raises :class:`smepo_env.models.ModelNotFoundError` before anything loads."""
        return resolve_model(self.model)


DEFAULT_QUESTION_TYPES: dict[str, str] = {"fictional-world": "single-hop"}
"""``--question_types default`` per benchmark: the easy questions a run starts with (a benchmark
missing here trains on all its types)."""

EMBEDDED_DEFAULTS: dict[str, Any] = {
    "output_dir": "runs/smepo-grpo",
    "max_steps": 8,
    "learning_rate": 2e-5,
    "num_generations": 4,
    # 8 episodes per optimizer step (one rollout of 8), trained one episode per forward/backward:
    # at 8 the loss's [batch, completion, vocab] logits took the job's peak memory past 8 GB; one
    # row needs no padding and holds half the activations of two (peak 3.40 against 3.72 GB, same
    # held-out result; bench/profile_memory.py; its wall time was measured only on a busy machine).
    "per_device_train_batch_size": 1,
    "gradient_accumulation_steps": 8,
    "max_completion_length": 320,
    "temperature": 1.0,
    "beta": 0.0,
    "logging_steps": 1,
    "save_strategy": "steps",
    "save_steps": 4,
    "save_total_limit": 2,
    "report_to": "none",
    "gradient_checkpointing": False,
    "seed": 0,
    "lr_scheduler_type": "constant",
}
"""GRPOConfig values of the embedded default (CPU, about 15 minutes); see the module docstring."""


CONFIG_EPILOG = (
    "--config FILE.yaml reads any of the options above from a YAML mapping (option names without "
    "the dashes); options given on the command line override the file. Examples: configs/*.yaml."
)


def parse_arguments(argv: Sequence[str] | None = None) -> tuple[AgentArguments, Any]:
    """Parse ``argv`` (and ``--config file.yaml``) into :class:`AgentArguments` and a ``GRPOConfig``.

    Raises:
        ValueError: a bad value, with the valid choices named.
    """
    import torch
    from trl import GRPOConfig, TrlParser

    parser = TrlParser((AgentArguments, GRPOConfig), prog="train_grpo.py", epilog=CONFIG_EPILOG)
    defaults = dict(EMBEDDED_DEFAULTS)
    if not torch.cuda.is_available():
        # bf16 mixed precision where the CPU has bf16 arithmetic (about 1.8x less CPU time per
        # training step here); vLLM rollouts where its CPU build is installed.
        defaults.update(use_cpu=True, bf16=cpu_has_bf16(), use_vllm=default_use_vllm())
    parser.set_defaults(**defaults)
    agent_args, grpo_config = parser.parse_args_and_config(args=list(argv) if argv is not None else None)
    agent_args.check_env_id()
    if agent_args.precision != "auto":  # --precision fp32 / bf16 sets training's precision too
        grpo_config.bf16 = agent_args.precision == "bf16"
    return agent_args, grpo_config
