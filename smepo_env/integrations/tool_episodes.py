"""Episodes of a transformers model calling an environment's tools natively, decoded greedily.

The loop is the one TRL's ``environment_factory`` training runs, so a model is evaluated as it
was trained: the prompt is the chat template applied to the task text with the tool schemas;
each turn is generated until the end-of-turn token and parsed with TRL's ``parse_response``
(the model's native tool-call format); each call runs on the
:class:`~smepo_env.integrations.tool_env.ToolCallingEnv` (an exception becomes
``{"error": ...}`` text, as in TRL); the tool results are appended as the template's own
tokens (found, as TRL finds them, by rendering a dummy conversation with and without them),
never by re-tokenizing the transcript. An episode ends when the environment does (an
``answer`` call or the turn limit), when a turn has no tool call, or when the completion
budget is spent. Episodes are batched ``len(envs)`` at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smepo_env.integrations.tool_env import ToolCallingEnv


@dataclass
class ToolEpisode:
    """One finished episode.

    Attributes:
        task: the task played.
        messages: the conversation (user task text, assistant turns with ``tool_calls``, tool results).
        reward: the environment's terminal reward (0.0 without an answer).
        info: the environment's last ``info``.
        transcript: prompt and completion decoded as one text.
        answered: whether the episode ended with an ``answer`` call.
        completion_tokens: tokens after the prompt (model and tool tokens).
    """

    task: Any
    messages: list[dict[str, Any]]
    reward: float
    info: dict[str, Any]
    transcript: str
    answered: bool
    completion_tokens: int = 0
    ids: list[int] = field(default_factory=list, repr=False)


def tool_suffix_ids(tokenizer: Any, tool_messages: Sequence[Mapping[str, Any]]) -> list[int]:
    """The tokens the chat template puts after an assistant turn for ``tool_messages``, up to the
    next generation prompt (TRL's construction: a dummy call rendered with and without them)."""
    dummy = [
        {"role": "user", "content": "dummy"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": tool_messages[0]["name"], "arguments": {}}}
            ],
        },
    ]
    prefix = tokenizer.apply_chat_template(dummy, tokenize=True, return_dict=False)
    full = tokenizer.apply_chat_template(
        dummy + list(tool_messages), tokenize=True, return_dict=False, add_generation_prompt=True
    )
    eos_positions = [i for i, token in enumerate(prefix) if token == tokenizer.eos_token_id]
    if eos_positions:
        prefix = prefix[: eos_positions[-1] + 1]
    if full[: len(prefix)] != prefix:
        raise ValueError("the chat template is not prefix-preserving around tool results")
    return list(full[len(prefix) :])


def _generate_turns(
    model: Any, tokenizer: Any, contexts: list[list[int]], max_new_tokens: int
) -> list[list[int]]:
    import torch

    width = max(len(ids) for ids in contexts)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.full((len(contexts), width), pad, dtype=torch.long)
    attention = torch.zeros((len(contexts), width), dtype=torch.long)
    for row, ids in enumerate(contexts):
        input_ids[row, width - len(ids) :] = torch.tensor(ids)
        attention[row, width - len(ids) :] = 1
    device = next(model.parameters()).device
    with torch.no_grad():
        output = model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=pad,
        )
    turns = []
    for row in output[:, width:].tolist():
        if tokenizer.eos_token_id in row:
            row = row[: row.index(tokenizer.eos_token_id) + 1]
        turns.append(row)
    return turns


def _run_call(env: ToolCallingEnv, call: Mapping[str, Any]) -> tuple[str, Any]:
    function = call.get("function") or {}
    name = str(function.get("name", "unknown"))
    try:
        if name not in env.tool_names:
            raise ValueError(f"Tool {name} not found.")
        return name, getattr(env, name)(**function.get("arguments", {}))
    except Exception as error:  # as TRL does: the error goes back to the model as text
        return name, {"error": str(error)}


def play_tool_episodes(
    model: Any,
    tokenizer: Any,
    envs: Sequence[ToolCallingEnv],
    rows: Sequence[Mapping[str, Any]],
    *,
    max_completion_tokens: int = 512,
    max_turn_tokens: int = 128,
) -> list[ToolEpisode]:
    """Play one greedy episode per row, ``envs[i]`` playing ``rows[i]``.

    Args:
        model: a causal LM.
        tokenizer: its tokenizer, with a chat template that renders tool calls (see
            :func:`smepo_env.integrations.trl.ensure_tool_chat_template`).
        envs: one tool-calling environment per row.
        rows: what each ``reset(**row)`` takes (``{"task_id": ...}``).
        max_completion_tokens: budget of one episode after the prompt (model and tool tokens).
        max_turn_tokens: most tokens one model turn may generate.

    Returns:
        One :class:`ToolEpisode` per row, in order.
    """
    from trl.chat_template_utils import add_response_schema, parse_response

    if len(envs) != len(rows):
        raise ValueError(f"need one environment per row, got {len(envs)} environments for {len(rows)} rows")
    if (
        getattr(tokenizer, "response_template", None) is None
        and getattr(tokenizer, "response_schema", None) is None
    ):
        add_response_schema(tokenizer)
    tools = [[getattr(env, name) for name in env.tool_names] for env in envs]
    messages = []
    prompt_lengths, contexts = [], []
    for env, row, env_tools in zip(envs, rows, tools, strict=True):
        conversation = [{"role": "user", "content": env.reset(**row)}]
        ids = tokenizer.apply_chat_template(
            conversation, tools=env_tools, tokenize=True, return_dict=False, add_generation_prompt=True
        )
        messages.append(conversation)
        contexts.append(list(ids))
        prompt_lengths.append(len(ids))
    active = list(range(len(rows)))
    while active:
        budgets = [max_completion_tokens - (len(contexts[i]) - prompt_lengths[i]) for i in active]
        turns = _generate_turns(
            model, tokenizer, [contexts[i] for i in active], max(1, min(max_turn_tokens, max(budgets)))
        )
        still_active = []
        for i, turn, budget in zip(active, turns, budgets, strict=True):
            turn = turn[: max(1, budget)]
            parsed = parse_response(tokenizer, turn, prefix=contexts[i], tools=tools[i])
            contexts[i] += turn
            messages[i].append(parsed)
            calls = parsed.get("tool_calls") or []
            if not calls:
                continue
            results = [_run_call(envs[i], call) for call in calls]
            tool_messages = [
                {"role": "tool", "name": name, "content": result if isinstance(result, list) else str(result)}
                for name, result in results
            ]
            messages[i] += tool_messages
            if envs[i].done:
                continue
            suffix = tool_suffix_ids(tokenizer, tool_messages)
            if len(contexts[i]) + len(suffix) - prompt_lengths[i] >= max_completion_tokens:
                continue
            contexts[i] += suffix
            still_active.append(i)
        active = still_active
    episodes = []
    for i, env in enumerate(envs):
        answered = env.done and env.info.get("action_kind") == "answer"
        episodes.append(
            ToolEpisode(
                task=env.env.unwrapped.current_task,
                messages=messages[i],
                reward=env.get_reward(),
                info=dict(env.info),
                transcript=tokenizer.decode(contexts[i]),
                answered=answered,
                completion_tokens=len(contexts[i]) - prompt_lengths[i],
                ids=contexts[i],
            )
        )
    return episodes
