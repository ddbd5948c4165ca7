"""An expert's recorded episode, replayed as a native tool-calling conversation.

The bundled benchmarks store the scripted expert's actions in the tag protocol
(``task.metadata["expert_actions"]``: ``<think>…</think><search>q</search>``, ...). Played
through a :class:`~smepo_env.integrations.tool_env.ToolCallingEnv`, each action becomes an
assistant message whose ``content`` is the expert's reasoning (the ``<think>`` text, tags
removed) and whose ``tool_calls`` hold the call; the tool messages are what the environment
really returned. The result is the chat a tool-calling model should produce, in the
``messages`` format chat templates render (``tool_calls[i]["function"]`` with ``name`` and
``arguments`` as a dict), ending with a short closing assistant message after the ``answer``
call, since TRL's tool loop generates one more turn after every tool result.

Used for supervised warm starts of the tool protocol and in tests.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from typing import Any

from smepo_env.integrations.tool_env import ToolCallingEnv
from smepo_env.protocol import parse_action

CLOSING_MESSAGE = "Done."
"""What the expert says after its ``answer`` call (the turn TRL generates after the last tool result)."""

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def tool_argument_name(tool_env: ToolCallingEnv, tool: str) -> str:
    """The parameter name of ``tool`` on ``tool_env`` (``query``, ``code``, ``answer``)."""
    parameters = list(inspect.signature(getattr(tool_env, tool)).parameters)
    return parameters[0]


def expert_tool_conversation(
    tool_env: ToolCallingEnv, task_id: str, actions: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Play the expert's actions on ``task_id`` through ``tool_env``; the whole conversation.

    Args:
        tool_env: the environment to play in (it is reset; its guidance mode shapes the task text).
        task_id: one of its tasks.
        actions: tag-protocol actions; default: the task's ``metadata["expert_actions"]``.

    Returns:
        ``[{"role": "user", ...}, {"role": "assistant", "content", "tool_calls"}, {"role": "tool",
        "name", "content"}, ..., {"role": "assistant", "content": CLOSING_MESSAGE}]``.

    Raises:
        ValueError: the task has no recorded actions, or an action is not a valid call of this
            environment's tools.
    """
    text = tool_env.reset(task_id=task_id)
    task = tool_env.env.unwrapped.current_task
    if actions is None:
        actions = (task.metadata or {}).get("expert_actions")
    if not actions:
        raise ValueError(f"task {task_id!r} has no recorded expert actions (metadata['expert_actions'])")
    messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    for action in actions:
        parsed = parse_action(action, allowed=tool_env.tool_names, max_content_chars=1_000_000)
        if parsed.kind == "invalid":
            raise ValueError(
                f"expert action of task {task_id!r} is not a tool call: {parsed.error} ({action!r})"
            )
        reasoning = " ".join(part.strip() for part in _THINK.findall(action))
        call = {
            "type": "function",
            "function": {
                "name": parsed.kind,
                "arguments": {tool_argument_name(tool_env, parsed.kind): parsed.content},
            },
        }
        messages.append({"role": "assistant", "content": reasoning, "tool_calls": [call]})
        result = getattr(tool_env, parsed.kind)(parsed.content)
        messages.append({"role": "tool", "name": parsed.kind, "content": result})
        if tool_env.done:
            break
    messages.append({"role": "assistant", "content": CLOSING_MESSAGE})
    return messages
