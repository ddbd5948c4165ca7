"""The tag protocol an agent speaks to every smepo environment, and the parser for it.

The protocol is Search-R1's, extended with a code tool:

* ``<think>…</think>`` is free reasoning; the environment ignores it.
* ``<search>query</search>`` calls the retrieval tool; the environment answers with
  ``<information>Doc 1(Title: …) text …</information>``.
* ``<python>code</python>`` runs code in the sandbox; the environment answers with
  ``<output>…</output>``.
* ``<answer>…</answer>`` submits the final answer and ends the episode.

Parsing rules (every action text is legal input; each case has one defined outcome):

1. ``<think>`` blocks are removed first, so tags quoted inside reasoning are not calls.
2. The first *complete* call tag (``<search>``, ``<python>`` or ``<answer>`` among those the
   environment enables) is the action; text after its closing tag is ignored, as a
   generation stopped at the closing tag would be.
3. No tag at all, an opening tag that is never closed, a tag nested inside another call tag,
   an empty body, a body longer than the environment's limit or a tag the environment does
   not enable all give a :class:`ParsedAction` with ``kind="invalid"`` and an ``error`` text
   that tells the model the format. The environment turns it into a short observation and
   counts the turn.
4. Control characters other than tab and newline are dropped from the body; any other
   unicode is kept.
5. An action longer than ``max_action_chars`` is invalid before any of the above is tried,
   and every rule above costs time linear in the action's length, so degenerate generations
   (thousands of repeated tags) cannot stall a step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from smepo_env.errors import check_choice

ActionKind = Literal["search", "python", "answer", "invalid"]

CALL_TAGS: tuple[str, ...] = ("search", "python", "answer")
"""Tags that make an action; ``think`` is reasoning and never an action."""

OBSERVATION_TAGS: dict[str, str] = {"search": "information", "python": "output"}
"""The tag each tool's result comes back in."""

STOP_STRINGS: tuple[str, ...] = tuple(f"</{tag}>" for tag in CALL_TAGS)
"""Where generation of a turn stops: the closing tag of any call (the env answers next)."""

PASSAGE_FORMATS: tuple[str, ...] = ("smepo", "search-r1")
"""How retrieved passages are written inside ``<information>``, one ``Doc i(Title: …) text`` line
each: ``"smepo"`` (the default) shows the bare title; ``"search-r1"`` renders exactly as
Search-R1's ``_passages2string`` does, the corpus title line as it is (quotes kept,
``Doc 1(Title: "X") text``), so a checkpoint trained with Search-R1 sees what it was trained on."""


def render_passages(passages: Sequence[tuple[str, str]], passage_format: str = "smepo") -> str:
    """The ``<information>`` body for ``(title, text)`` passages, best first.

    Args:
        passages: each passage's title (without the corpus quotes) and text.
        passage_format: one of :data:`PASSAGE_FORMATS`.

    Raises:
        ChoiceError: an unknown ``passage_format`` (a ``ValueError`` naming the valid ones).
    """
    check_choice("passage_format", passage_format, PASSAGE_FORMATS)
    if passage_format == "search-r1":  # its title line keeps the quotes; its body is stripped once
        return "".join(
            f'Doc {i}(Title: "{title}") {text}\n' for i, (title, text) in enumerate(passages, 1)
        ).strip()
    if not passages:
        return "No results found."
    return "\n".join(f"Doc {i}(Title: {title}) {text}" for i, (title, text) in enumerate(passages, 1))


_DOC_LINE = re.compile(r"Doc \d+\(Title: (.*?)\) (.*?)(?=\nDoc \d+\(|</information>|\Z)", re.DOTALL)


def parse_passages(observation: str) -> list[tuple[str, str]]:
    """The ``(title, text)`` passages of an ``<information>`` observation (either passage format)."""
    return [(title.strip('"'), text.strip()) for title, text in _DOC_LINE.findall(observation)]


THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
"""A ``<think>`` block, or an unclosed one running to the end of the text."""
OPEN_CALL_TAG = re.compile("<(" + "|".join(CALL_TAGS) + ")>")
"""The opening tag of any call."""
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CLOSE_CALL_TAG = re.compile("</(" + "|".join(CALL_TAGS) + ")>")
MAX_ACTION_CHARS = 200_000
"""The longest action any environment parses; longer ones are invalid without being parsed."""


@dataclass(frozen=True)
class ParsedAction:
    """One action, as the environment understood it.

    Attributes:
        kind: ``"search"``, ``"python"``, ``"answer"`` or ``"invalid"``.
        content: the tag's body, stripped (empty for invalid actions).
        error: for invalid actions, a one-line reason addressed to the model.
    """

    kind: ActionKind
    content: str = ""
    error: str = ""


def format_hint(allowed: tuple[str, ...]) -> str:
    """One line telling the model which tags it may use."""
    calls = [f"<{tag}>…</{tag}>" for tag in allowed if tag != "answer"]
    parts = [*calls, "<answer>…</answer>"] if "answer" in allowed else calls
    return "Use " + " or ".join(parts) + "."


def parse_action(
    text: object,
    allowed: tuple[str, ...] = ("search", "answer"),
    max_content_chars: int = 2000,
    max_action_chars: int = MAX_ACTION_CHARS,
) -> ParsedAction:
    """Parse an action text by the rules in this module's docstring.

    Args:
        text: what the model wrote. Non-strings (bytes, None, numbers) are accepted and
            treated as invalid or decoded with replacement, never raised on.
        allowed: the call tags the environment enables.
        max_content_chars: the longest body accepted; longer ones are invalid.
        max_action_chars: the longest action parsed at all; checked before any parsing.

    Returns:
        The parsed action; ``kind == "invalid"`` carries the reason in ``error``.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return ParsedAction("invalid", error=f"Your action must be text. {format_hint(allowed)}")
    if len(text) > max_action_chars:
        return ParsedAction(
            "invalid", error=f"Your action has {len(text)} characters; the limit is {max_action_chars}."
        )
    visible = THINK_BLOCK.sub(" ", text)
    opening = OPEN_CALL_TAG.search(visible)
    if opening is None:
        return ParsedAction("invalid", error=f"No tool call or answer found. {format_hint(allowed)}")
    tag = opening.group(1)
    if tag not in allowed:
        return ParsedAction("invalid", error=f"<{tag}> is not available here. {format_hint(allowed)}")
    closing = visible.find(f"</{tag}>", opening.end())
    if closing < 0:
        return ParsedAction("invalid", error=f"The <{tag}> tag is not closed with </{tag}>.")
    body = visible[opening.end() : closing]
    if OPEN_CALL_TAG.search(body) or _CLOSE_CALL_TAG.search(body):
        return ParsedAction("invalid", error=f"Tags cannot be nested inside <{tag}>.")
    body = _CONTROL_CHARS.sub("", body).strip()
    if not body:
        return ParsedAction("invalid", error=f"The <{tag}> tag is empty.")
    if len(body) > max_content_chars:
        return ParsedAction(
            "invalid",
            error=f"The <{tag}> body has {len(body)} characters; the limit is {max_content_chars}.",
        )
    return ParsedAction(tag, body)  # type: ignore[arg-type]


def wrap_observation(tool: str, body: str) -> str:
    """Wrap a tool's result in its observation tag, with the blank lines Search-R1 uses."""
    tag = OBSERVATION_TAGS[tool]
    return f"\n\n<{tag}>{body}</{tag}>\n\n"
