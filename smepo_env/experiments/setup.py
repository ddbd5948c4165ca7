"""The guidance comparison's settings, and the one warm start every arm shares.

The experiment (issue 15, the paper's claim in miniature): the policy learns the protocol
first (a warm start on single-hop and two-hop expert episodes of ``fictional-world``, half of
the prompts carrying the masked trace, so that a masked route is something it has seen
followed), then RL trains on
questions it mostly cannot solve yet (two-hop and three-hop), in every arm from the *same*
warm-started checkpoint, with the same steps and prompts; only the guidance differs. Held-out
evaluation is unguided and greedy on the ``test`` split's questions of the trained types.

:class:`ComparisonSettings` holds the knobs; :data:`FULL_SETTINGS` is the measured choice
(see the README's "Does guidance help?" for why) and :data:`QUICK_SETTINGS` the two-step smoke
version. :func:`shared_warmstart` trains (or finds cached) the common starting checkpoint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ComparisonSettings:
    """Everything a run of the comparison shares across arms and seeds.

    Attributes:
        question_types: the trained (and evaluated) question types, comma-separated.
        max_turns: model turns per episode.
        top_k: passages per search.
        max_steps: GRPO steps per run.
        learning_rate: GRPO learning rate.
        num_generations: episodes per prompt (the GRPO group).
        prompts_per_step: distinct prompts per step (the batch is this times the group).
        num_train_tasks: training tasks (0: all of the types); a small pool lets ``on_failure``
            see tasks again.
        num_eval_tasks: held-out test questions per evaluation.
        heldout_eval_steps: evaluate every this many steps (and before and after).
        max_completion_length: tokens per episode (model and environment).
        max_turn_tokens: tokens per model turn.
        trainable_layers: top decoder layers trained (0: all).
        eval_split: the held-out split (``test``: reported once; choices are made on ``dev``).
        warmstart_question_types: the question types of the shared warm start's expert episodes
            (comma-separated; ``single-hop`` is the trainer's own default warm start).
        warmstart_examples: expert episodes in the shared warm start.
        extra_args: further trainer options, passed through.
    """

    question_types: str = "two-hop,three-hop"
    max_turns: int = 4
    top_k: int = 3
    max_steps: int = 8
    learning_rate: float = 5e-5
    num_generations: int = 8
    prompts_per_step: int = 2
    num_train_tasks: int = 0
    num_eval_tasks: int = 150
    heldout_eval_steps: int = 4
    max_completion_length: int = 480
    max_turn_tokens: int = 64
    trainable_layers: int = 8
    eval_split: str = "test"
    warmstart_question_types: str = "single-hop,two-hop"
    warmstart_examples: int = 192
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def trainer_options(self) -> list[str]:
        """The trainer's command-line options for these settings (arm, seed and paths excluded)."""
        return [
            "--question_types", self.question_types,
            "--max_turns", str(self.max_turns),
            "--env_kwargs", f'{{"top_k": {self.top_k}}}',
            "--max_steps", str(self.max_steps),
            "--learning_rate", str(self.learning_rate),
            "--num_generations", str(self.num_generations),
            # One episode per forward/backward, the step's episodes accumulated into one optimizer
            # step (the same update under TRL's default "dapo" loss, normalised by the step's
            # tokens): the whole step in one pass peaked at 9.5 GiB resident at 16 episodes.
            "--per_device_train_batch_size", "1",
            "--gradient_accumulation_steps", str(self.prompts_per_step * self.num_generations),
            "--num_train_tasks", str(self.num_train_tasks),
            "--num_eval_tasks", str(self.num_eval_tasks),
            "--heldout_eval_steps", str(self.heldout_eval_steps),
            "--max_completion_length", str(self.max_completion_length),
            "--max_turn_tokens", str(self.max_turn_tokens),
            "--trainable_layers", str(self.trainable_layers),
            "--eval_split", self.eval_split,
            "--save_steps", str(max(1, self.heldout_eval_steps)),
            "--save_total_limit", "1",
            "--no_sft_warmstart",
            *self.extra_args,
        ]  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """The settings as a JSON-serializable dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


FULL_SETTINGS = ComparisonSettings()
"""The comparison as run (chosen on ``dev``; see the README's "Does guidance help?")."""

QUICK_SETTINGS = ComparisonSettings(
    max_steps=2,
    num_generations=2,
    prompts_per_step=2,
    num_train_tasks=4,
    num_eval_tasks=2,
    heldout_eval_steps=1,
    max_completion_length=120,
    max_turn_tokens=12,
    max_turns=2,
    trainable_layers=0,
)
"""The two-step smoke version (``--quick``): the whole pipeline, minutes to seconds."""


def shared_warmstart(model: str, settings: ComparisonSettings | None = None, *, log: Any = print) -> Path:
    """The warm start of ``model`` that every arm starts from (trained once, cached).

    It is the trainer's own warm start (expert episodes, half the prompts with masked
    guidance, seed 0) on ``settings.warmstart_question_types`` and
    ``settings.warmstart_examples`` episodes, whatever the arm's guidance: the arms differ in
    RL only. With 96 single-hop episodes (``--warmstart_question_types single-hop
    --warmstart_examples 96``) it is the main job's own cache entry.
    """
    from smepo_env.models import resolve_model
    from smepo_env.training.config import AgentArguments
    from smepo_env.training.sft import run_warmstart, warmstart_settings_from

    settings = settings or FULL_SETTINGS
    arguments = AgentArguments(
        model=model,
        question_types=settings.warmstart_question_types,
        sft_num_examples=settings.warmstart_examples,
    )
    warmstart = warmstart_settings_from(arguments, resolve_model(model), seed=0)
    return run_warmstart(warmstart, log=log)
