"""A smepo environment behind native tool calling: typed tool methods, ``reset(**row)``, ``get_reward()``.

This is the shape TRL's ``environment_factory`` (and any runtime that turns typed, documented
methods into tool schemas with ``transformers.utils.get_json_schema``) expects. One
:class:`ToolCallingEnv` holds one environment made by ``gym.make``, guidance wrapper included,
and drives it through its own ``step``: a tool call ``search(query="x")`` is the action
``<search>x</search>``, so turns, the turn limit, invalid input, tool errors, the retriever,
the sandbox and the scorer are the environment's, unchanged.

The tools of each environment:

=====================  ==============================================================
``smepo/SearchQA-v0``  ``search(query)``, ``answer(answer)``
``smepo/Math-v0``      ``answer(answer)``; plus ``python(code)`` with ``python_tool=True``
``smepo/PythonExec-v0`` ``python(code)``, ``answer(code)``
=====================  ==============================================================

**The final answer is a tool call**, ``answer(...)``: TRL's tool loop never shows the model's
last plain message to the environment, while ``get_reward()`` (called with no arguments) must
score from the environment's own state. ``answer`` ends the episode exactly as ``<answer>``
does; its result says only that the answer was recorded (never whether it was right). An
episode that ends without an ``answer`` call scores 0, as a truncated tag episode does.

Rules:

* :meth:`ToolCallingEnv.reset` takes a dataset row (``task_id``, or ``task`` as a dict;
  other columns such as TRL's ``prompt`` are ignored) and returns the task text: this
  protocol's instructions, then the question and the expert-guidance block exactly as
  ``gym.make(..., expert_guidance=...)`` renders them. The guidance trace is shown as the
  expert recorded it, with tags: the instructions say that ``<search>…</search>`` in it is a
  ``search`` call, and so on.
* A tool's result is the body of the environment's observation (the passages, the program
  output), without the ``<information>``/``<output>`` tag, since the chat template already
  delimits tool results.
* Refused calls raise :class:`~smepo_env.errors.ToolCallError` (TRL sends its text back to the
  model as ``{"error": ...}``): a call after the episode ended, an argument that is not text,
  an argument holding a protocol tag (``<think>``, ``<answer>``...; the tag parser would
  misread it), or an action the environment ruled invalid (an empty query, one over the length
  limit). Invalid actions still cost a turn, as in the tag protocol.
* :meth:`ToolCallingEnv.get_reward` is the environment's terminal reward, unchanged (0.0 when
  the episode was truncated or never answered).

Only tool methods, ``reset`` and ``get_reward`` are public functions of these classes: TRL
turns every other public function into a tool. State is read through properties.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import gymnasium as gym

from smepo_env.errors import ToolCallError
from smepo_env.protocol import CALL_TAGS, OBSERVATION_TAGS

RESERVED_TAG = re.compile(r"<think>|</?(?:" + "|".join(CALL_TAGS) + r")>")
"""Text the tag parser would read as protocol (see :mod:`smepo_env.protocol`): refused in arguments."""

ANSWER_RECORDED = "Answer recorded. The episode is over."
TURN_LIMIT_REACHED = "The turn limit ({max_turns}) is reached; the episode is over without an answer."

GUIDANCE_NOTE = (
    "The expert's solution below writes each tool call as a tag: <{tool}>…</{tool}> is a call of the "
    "{tool} tool, <{observation}>…</{observation}> its result, and <answer>…</answer> a call of the "
    "answer tool."
)
ANSWER_ONLY_GUIDANCE_NOTE = (
    "The expert's solution below writes its final answer as <answer>…</answer>: submit yours with the "
    "answer tool."
)


class ToolCallingEnv:
    """Base class: one smepo environment played through native tool calls (see the module docstring).

    Args:
        env: an environment made by ``gym.make`` of a ``smepo/*`` id (any wrappers).
    """

    tool_names: ClassVar[tuple[str, ...]] = ("answer",)
    """The tools this class offers, ``answer`` last."""
    instructions: ClassVar[str] = ""
    """What opens the task text in place of the tag protocol's instructions."""

    def __init__(self, env: gym.Env) -> None:
        self._env = env
        self._base = env.unwrapped
        self._reward = 0.0
        self._done = True
        self._started = False
        self._info: dict[str, Any] = {}

    # ----- TRL's interface ---------------------------------------------------------------------
    def reset(self, task_id: str | None = None, task: dict | None = None, **row: Any) -> str:
        """Start an episode on a dataset row's task; returns the task text (see the module docstring).

        Args:
            task_id: the id of one of the environment's tasks (a :func:`tool_dataset` row).
            task: a task of your own, as a dict (``question``, ``answers``...), instead.
            **row: other dataset columns (``prompt``, ``split``, ``question_type``...); ``split``
                is checked against the environment's, the rest is ignored.

        Raises:
            ValueError: an unknown ``task_id``, or a row from another split than the environment's.
        """
        split = row.get("split")
        env_split = getattr(self._base, "split", None)
        if split is not None and env_split is not None and split != env_split:
            raise ValueError(
                f"the row comes from split {split!r} but the environment plays split {env_split!r}; "
                f"make both with the same split (environment_factory(..., split={split!r}))"
            )
        options: dict[str, Any] = {}
        if task is not None:
            options["task"] = task
        elif task_id is not None:
            options["task_id"] = task_id
        observation, info = self._env.reset(options=options or None)
        self._reward, self._done, self._started, self._info = 0.0, False, True, info
        return self._task_text(observation)

    def get_reward(self) -> float:
        """The environment's terminal reward for the last episode (0.0 until it ends with an answer)."""
        return self._reward

    # ----- state, as properties (properties are never tools) -----------------------------------
    @property
    def env(self) -> gym.Env:
        """The wrapped ``gym.make`` environment."""
        return self._env

    @property
    def info(self) -> dict[str, Any]:
        """The environment's last ``info`` (``messages``, ``turn``, ``tool_calls``; metrics at the end)."""
        return self._info

    @property
    def done(self) -> bool:
        """Whether the current episode has ended."""
        return self._done

    # ----- internals ---------------------------------------------------------------------------
    def _task_text(self, observation: str) -> str:
        """The observation with the tag instructions replaced by this protocol's, and a note on
        the trace's tags when guidance is shown."""
        tag_instructions = self._base.instructions()
        if not observation.startswith(tag_instructions):
            raise RuntimeError(
                f"{type(self._base).__name__}.build_prompt does not start with its instructions(); "
                "ToolCallingEnv cannot swap in the tool-calling instructions"
            )
        instructions = self.instructions
        if getattr(self._base, "guidance", None):
            instructions = f"{instructions} {self._guidance_note()}"
        return instructions + observation[len(tag_instructions) :]

    def _guidance_note(self) -> str:
        tools = [name for name in self.tool_names if name != "answer"]
        if not tools:
            return ANSWER_ONLY_GUIDANCE_NOTE
        return " ".join(GUIDANCE_NOTE.format(tool=tool, observation=OBSERVATION_TAGS[tool]) for tool in tools)

    def _act(self, tool: str, argument: object) -> str:
        """Play one tool call as the tag action it stands for; the tool's result text."""
        if not self._started:
            raise ToolCallError("call reset() before any tool")
        if self._done:
            raise ToolCallError("The episode is over; no more tool calls are accepted.")
        if isinstance(argument, int | float) and not isinstance(argument, bool):
            argument = str(argument)
        if not isinstance(argument, str):
            raise ToolCallError(f"The {tool} argument must be a string, got {type(argument).__name__}.")
        reserved = RESERVED_TAG.search(argument)
        if reserved:
            raise ToolCallError(
                f"The {tool} argument must not contain {reserved.group(0)!r}: the environment reserves its "
                "protocol tags. Rephrase without it."
            )
        observation, reward, terminated, truncated, info = self._env.step(f"<{tool}>{argument}</{tool}>")
        self._info = info
        self._done = terminated or truncated
        if terminated:
            self._reward = float(reward)
        if info.get("action_kind") == "invalid":
            limit = f" {TURN_LIMIT_REACHED.format(max_turns=self._base.max_turns)}" if truncated else ""
            raise ToolCallError(f"{info.get('format_error', 'Invalid call.')}{limit}")
        if terminated:
            return ANSWER_RECORDED
        if truncated:
            return TURN_LIMIT_REACHED.format(max_turns=self._base.max_turns)
        return _observation_body(tool, observation)


def _observation_body(tool: str, observation: str) -> str:
    """``"\\n\\n<information>body</information>\\n\\n"`` -> ``"body"``."""
    tag = OBSERVATION_TAGS[tool]
    text = observation.strip()
    opening, closing = f"<{tag}>", f"</{tag}>"
    if text.startswith(opening) and text.endswith(closing):
        return text[len(opening) : -len(closing)]
    return text


class SearchQAToolEnv(ToolCallingEnv):
    """``smepo/SearchQA-v0`` with the tools ``search`` and ``answer``."""

    tool_names = ("search", "answer")
    instructions = (
        "Answer the question below. If you need facts you do not know, call the search tool with a query; "
        "it returns the top passages. You may search as many times as you need. When you know the answer, "
        'call the answer tool with a short phrase, for example answer(answer="Paris").'
    )

    def search(self, query: str) -> str:
        """Search the corpus and return the top passages, one per line as Doc i(Title: ...) text.

        Args:
            query: what to look for, in a few words (for example a name and the fact you need).
        """
        return self._act("search", query)

    def answer(self, answer: str) -> str:
        """Submit the final answer; this ends the episode.

        Args:
            answer: the answer as a short phrase (a name, a place, a year), without explanation.
        """
        return self._act("answer", answer)


class MathToolEnv(ToolCallingEnv):
    """``smepo/Math-v0`` without its Python tool: the only tool is ``answer``."""

    tool_names = ("answer",)
    instructions = (
        "Solve the math problem below. Think step by step. Submit the final answer with the answer tool, "
        'either as a plain value or as \\boxed{...}, for example answer(answer="42").'
    )

    def answer(self, answer: str) -> str:
        """Submit the final answer; this ends the episode.

        Args:
            answer: the final value, plain (3/4, 0.75, 12) or as \\boxed{...}.
        """
        return self._act("answer", answer)


class MathPythonToolEnv(ToolCallingEnv):
    """``smepo/Math-v0`` with ``python_tool=True``: the tools ``python`` and ``answer``."""

    tool_names = ("python", "answer")
    instructions = (
        "Solve the math problem below. Think step by step. You may run Python code with the python tool; "
        "what it prints comes back to you, so use print() to see values. Submit the final answer with the "
        'answer tool, either as a plain value or as \\boxed{...}, for example answer(answer="42").'
    )

    def python(self, code: str) -> str:
        """Run a Python program in a sandbox and return what it printed (and the end of any error).

        Args:
            code: a complete Python program; print() the values you want to see.
        """
        return self._act("python", code)

    def answer(self, answer: str) -> str:
        """Submit the final answer; this ends the episode.

        Args:
            answer: the final value, plain (3/4, 0.75, 12) or as \\boxed{...}.
        """
        return self._act("answer", answer)


class PythonExecToolEnv(ToolCallingEnv):
    """``smepo/PythonExec-v0``: the tools ``python`` and ``answer``."""

    tool_names = ("python", "answer")
    instructions = (
        "Write a Python function for the task below. You can run Python code with the python tool; what it "
        "prints, and any error, comes back to you. Run code as often as you need, for example to test your "
        "function on the examples. When you are done, submit the complete function, with any imports it "
        "needs, with the answer tool. Hidden tests check your submission."
    )

    def python(self, code: str) -> str:
        """Run a Python program in a sandbox and return what it printed (and the end of any error).

        Args:
            code: a complete Python program; print() the values you want to see.
        """
        return self._act("python", code)

    def answer(self, code: str) -> str:
        """Submit your solution; this ends the episode and hidden tests check it.

        Args:
            code: the complete function, with any imports it needs, as Python source.
        """
        return self._act("answer", code)


TOOL_ENV_CLASSES: dict[tuple[str, tuple[str, ...]], type[ToolCallingEnv]] = {
    ("search", ("search",)): SearchQAToolEnv,
    ("math", ()): MathToolEnv,
    ("math", ("python",)): MathPythonToolEnv,
    ("code", ("python",)): PythonExecToolEnv,
}
"""The adapter for each (domain, tools of the environment) pair."""


def guidance_domain(env: gym.Env) -> str:
    """The domain of the guidance wrapper in ``env``'s wrapper chain.

    Raises:
        TypeError: ``env`` is not a ``smepo/*`` environment (no guidance wrapper in it).
    """
    from smepo_env.guidance import ExpertGuidanceWrapper

    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, ExpertGuidanceWrapper):
            return layer.domain
        layer = layer.env
    raise TypeError(
        f"{type(env.unwrapped).__name__} is not a smepo environment made by gym.make('smepo/...'): "
        "it has no expert-guidance wrapper"
    )


def tool_env_class(env: gym.Env) -> type[ToolCallingEnv]:
    """The :class:`ToolCallingEnv` subclass that plays ``env``.

    Raises:
        TypeError: ``env`` is not a smepo environment, or offers a set of tools with no adapter.
    """
    domain = guidance_domain(env)
    tools = tuple(getattr(env.unwrapped, "tools", ()))
    try:
        return TOOL_ENV_CLASSES[(domain, tools)]
    except KeyError:
        known = ", ".join(f"{d} with {list(t)}" for d, t in TOOL_ENV_CLASSES)
        raise TypeError(
            f"no tool-calling adapter for a {domain!r} environment with tools {list(tools)}; known: {known}"
        ) from None
