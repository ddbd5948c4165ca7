"""The teachers that play an environment to produce expert traces, chosen by one ``--teacher`` value.

Every teacher is a turn generator and a tokenizer for the evaluation episode loop
(:func:`smepo_env.rollout.episodes.run_episodes`), so its traces have the exact format a policy
produces:

* ``gold`` (:class:`GoldTeacher`): the gold decomposition of MuSiQue / 2Wiki / HotpotQA tasks
  (:mod:`smepo_env.traces.gold`), scripted; attempt 0 searches the sub-questions, later attempts
  the supporting titles. Its traces carry critical spans and must pass
  :func:`~smepo_env.traces.gold.check_gold_episode`.
* ``http://host:port/v1`` (:class:`EndpointTeacher`): an OpenAI-compatible chat-completions
  endpoint (``vllm serve``, a hosted model), see :mod:`smepo_env.traces.endpoint`.
* anything else (:class:`LocalModelTeacher`): a local model directory or a bundled alias
  (:func:`smepo_env.models.resolve_model`), generated with ``transformers``, episodes batched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.rollout.episodes import Episode
from smepo_env.rollout.generation import GeneratedTurn, TurnGenerator
from smepo_env.tasks import Task
from smepo_env.traces.codec import TextCodec
from smepo_env.traces.gold import GoldPlan, check_gold_episode, gold_plan


class Teacher:
    """A generator and tokenizer for :func:`run_episodes`, plus the teacher's own acceptance rules.

    Attributes:
        name: how the teacher is recorded in each trace.
        generator: the turn generator.
        tokenizer: what the episode loop tokenizes and decodes with.
        token_unit: what the generator's ids count (``"tokens"`` or ``"word pieces"``).
    """

    name: str = "teacher"
    token_unit: str = "tokens"
    generator: TurnGenerator
    tokenizer: Any

    def cannot_play(self, task: Task) -> str | None:
        """Why this teacher cannot play ``task`` at all (it is dropped untried), or ``None``."""
        return None

    def begin(self, tasks: Sequence[Task], attempt: int) -> None:
        """Called before a batch of ``tasks`` is played for the ``attempt``-th time (0-based)."""

    def reject_reason(self, task: Task, episode: Episode, top_k: int | None) -> str | None:
        """Why a rewarded episode still cannot be kept, or ``None``."""
        return None

    def critical_spans(self, task: Task) -> list[dict[str, str]]:
        """Ground-truth critical spans of this teacher's trace of ``task`` (empty when unknown)."""
        return []

    def usage(self) -> dict[str, Any]:
        """Counters for the summary (requests, endpoint token counts, ...)."""
        return {}

    def close(self) -> None:
        """Release the model, connections or threads."""


class GoldTeacher(Teacher):
    """Plays each task's gold decomposition (search tasks with a FlashRAG gold route only)."""

    name = "gold"
    token_unit = "word pieces"

    def __init__(self) -> None:
        self.tokenizer = TextCodec()
        self.generator = self
        self._plans: dict[str, tuple[GoldPlan, int]] = {}

    def cannot_play(self, task: Task) -> str | None:
        if gold_plan(task) is None:
            dataset = task.metadata.get("dataset") or task.benchmark or "this"
            return f"no gold route: {dataset} rows carry no decomposition, evidences or supporting facts"
        return None

    def begin(self, tasks: Sequence[Task], attempt: int) -> None:
        self._plans = {}
        for task in tasks:
            plan = gold_plan(task)
            if plan is not None:
                self._plans[task.question] = (plan, attempt)

    def generate_turns(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        """The next scripted action of each episode (found by the question its prompt ends with)."""
        turns = []
        for sequence in sequences:
            chat = self.tokenizer.messages(sequence)
            question = chat[0]["content"].rsplit("Question:", 1)[-1].strip() if chat else ""
            plan, attempt = self._plans.get(question, (None, 0))
            actions = plan.actions(attempt) if plan is not None else []
            turn = sum(message["role"] == "assistant" for message in chat)
            action = actions[turn] if turn < len(actions) else "<answer>unknown</answer>"
            turns.append(GeneratedTurn(self.tokenizer.encode_assistant(action), None, "stop"))
        return turns

    def reject_reason(self, task: Task, episode: Episode, top_k: int | None) -> str | None:
        plan = gold_plan(task)
        if plan is None:
            return "no gold route"
        return check_gold_episode(plan, task.answers, episode.info.get("messages", []), top_k)

    def critical_spans(self, task: Task) -> list[dict[str, str]]:
        plan = gold_plan(task)
        return plan.critical_spans() if plan is not None else []


class EndpointTeacher(Teacher):
    """An OpenAI-compatible chat-completions endpoint (see :mod:`smepo_env.traces.endpoint`)."""

    token_unit = "word pieces"

    def __init__(self, base_url: str, model: str, **options: Any) -> None:
        from smepo_env.traces.endpoint import ChatEndpointGenerator

        self.name = f"{model}@{base_url}"
        self.tokenizer = TextCodec()
        self.generator = ChatEndpointGenerator(base_url, model, self.tokenizer, **options)

    def usage(self) -> dict[str, Any]:
        usage = self.generator.usage
        return {
            "requests": usage.requests,
            "failed_requests": usage.failures,
            "retries": usage.retries,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "last_error": usage.last_error,
        }

    def close(self) -> None:
        self.generator.close()


class LocalModelTeacher(Teacher):
    """A local causal LM (directory or bundled alias), sampled with ``transformers``, batched."""

    def __init__(
        self,
        model: str,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        batch_size: int = 8,
        device: str | None = None,
        seed: int = 0,
    ) -> None:
        import torch

        from smepo_env.evaluation.model_policy import load_policy
        from smepo_env.rollout.generation import TransformersGenerator

        torch.manual_seed(seed)
        self.name = str(model)
        loaded, self.tokenizer = load_policy(model, device=device)
        self.generator = TransformersGenerator(
            loaded, self.tokenizer, temperature=temperature, top_p=top_p, batch_size=batch_size
        )


def make_teacher(spec: str, *, teacher_model: str | None = None, **options: Any) -> Teacher:
    """Build the teacher a ``--teacher`` value names (see the module docstring).

    Args:
        spec: ``"gold"``, an ``http(s)://`` endpoint URL, or a model directory / bundled alias.
        teacher_model: the ``model`` field sent to an endpoint (required for URLs).
        **options: passed on: for endpoints ``api_key_env``, ``temperature``, ``top_p``,
            ``max_concurrency``, ``timeout_s``, ``max_retries``; for local models
            ``temperature``, ``top_p``, ``batch_size``, ``device``, ``seed``.

    Raises:
        ValueError: a URL without ``teacher_model``.
        ModelNotFoundError: a model value that is neither a directory, an alias nor a hub id.
    """
    if spec == "gold":
        return GoldTeacher()
    if spec.startswith(("http://", "https://")):
        if not teacher_model:
            raise ValueError(f"--teacher {spec} is an endpoint: also give --teacher_model NAME")
        keys = ("api_key_env", "temperature", "top_p", "max_concurrency", "timeout_s", "max_retries")
        return EndpointTeacher(spec, teacher_model, **_pick(options, keys))
    from smepo_env.models import resolve_model

    location = resolve_model(spec)  # fails before anything loads on a missing directory
    keys = ("temperature", "top_p", "batch_size", "device", "seed")
    return LocalModelTeacher(location, **_pick(options, keys))


def _pick(options: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {key: options[key] for key in keys if options.get(key) is not None}
