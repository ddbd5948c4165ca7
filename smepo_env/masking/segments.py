"""Splitting a trace into its tagged segments, and a tool output into its passages.

A trace is read as the tag protocol of :mod:`smepo_env.protocol` writes it: ``<think>``,
``<search>``, ``<information>``, ``<python>``, ``<output>`` and ``<answer>`` blocks with free text
between them. Any text is accepted:

* A tag that is opened and never closed runs to the end of the trace (``closed=False``), as a
  generation cut off mid-block would.
* A block ends at the first closing tag of its own name; tags quoted inside it are part of its
  body. Stray closing tags are ordinary text.
* A trace without tags is one untagged segment.

Passages follow Search-R1's format, ``Doc 1(Title: Blue Harbor) text ...``; titles may hold
parentheses or quotes. A tool output without ``Doc i(Title: ...)`` headers is split into its
non-blank lines, each a passage without a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TAGS: tuple[str, ...] = ("think", "search", "information", "python", "output", "answer")
TOOL_OUTPUT_TAGS: frozenset[str] = frozenset({"information", "output"})
"""Tags whose bodies the environment wrote, not the expert."""

_OPEN_TAG = re.compile(r"<(" + "|".join(TAGS) + r")>")
_DOC_HEADER = re.compile(r"Doc\s*\d+\s*\(\s*Title\s*:\s*")
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Segment:
    """One tagged block of a trace, or a stretch of untagged text.

    Attributes:
        tag: the tag name, or ``None`` for untagged text.
        start: where the segment starts, opening tag included.
        end: where it ends, closing tag included.
        body_start: where the body starts (after the opening tag).
        body_end: where the body ends (before the closing tag).
        closed: ``False`` for a tag that is never closed.
    """

    tag: str | None
    start: int
    end: int
    body_start: int
    body_end: int
    closed: bool = True

    @property
    def is_tool_output(self) -> bool:
        """Whether the body was written by a tool (``<information>`` or ``<output>``)."""
        return self.tag in TOOL_OUTPUT_TAGS


@dataclass(frozen=True)
class Passage:
    """One retrieved document inside a tool output.

    Attributes:
        title_start: where the title starts (equal to ``title_end`` when there is no title).
        title_end: where the title ends.
        text_start: where the passage text starts (leading whitespace skipped).
        text_end: where it ends (trailing whitespace skipped).
    """

    title_start: int
    title_end: int
    text_start: int
    text_end: int


def split_segments(trace: str) -> list[Segment]:
    """Split a trace into consecutive segments that together cover all of it."""
    segments: list[Segment] = []
    cursor = 0
    while True:
        opening = _OPEN_TAG.search(trace, cursor)
        if opening is None:
            break
        if opening.start() > cursor:
            segments.append(Segment(None, cursor, opening.start(), cursor, opening.start()))
        tag = opening.group(1)
        closing = trace.find(f"</{tag}>", opening.end())
        if closing < 0:
            segments.append(Segment(tag, opening.start(), len(trace), opening.end(), len(trace), False))
            cursor = len(trace)
            break
        end = closing + len(tag) + 3
        segments.append(Segment(tag, opening.start(), end, opening.end(), closing))
        cursor = end
    if cursor < len(trace):
        segments.append(Segment(None, cursor, len(trace), cursor, len(trace)))
    return segments


def markup_regions(segments: list[Segment]) -> list[tuple[int, int]]:
    """The ``(start, end)`` of every opening and closing tag of the segments."""
    regions = []
    for segment in segments:
        if segment.tag is not None:
            regions.append((segment.start, segment.body_start))
            if segment.closed:
                regions.append((segment.body_end, segment.end))
    return regions


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _title_end(text: str, start: int, limit: int) -> int:
    """Offset of the parenthesis that closes a ``(Title: ...`` header opened before ``start``."""
    depth = 1
    newline = text.find("\n", start, limit)
    stop = limit if newline < 0 else newline
    for index in range(start, stop):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def split_passages(trace: str, body_start: int, body_end: int) -> list[Passage]:
    """Split the body ``trace[body_start:body_end]`` of a tool output into passages."""
    headers = list(_DOC_HEADER.finditer(trace, body_start, body_end))
    passages: list[Passage] = []
    if not headers:
        for line in _LINE.finditer(trace, body_start, body_end):
            text_start, text_end = _strip(trace, line.start(), line.end())
            if text_end > text_start:
                passages.append(Passage(text_start, text_start, text_start, text_end))
        return passages
    for index, header in enumerate(headers):
        limit = headers[index + 1].start() if index + 1 < len(headers) else body_end
        close = _title_end(trace, header.end(), limit)
        if close < 0:
            title_start = title_end = header.end()
            text_from = header.end()
        else:
            title_start, title_end = _strip(trace, header.end(), close)
            if title_end - title_start >= 2 and trace[title_start] == trace[title_end - 1] == '"':
                title_start, title_end = title_start + 1, title_end - 1
            text_from = close + 1
        text_start, text_end = _strip(trace, text_from, limit)
        passages.append(Passage(title_start, title_end, text_start, text_end))
    return passages
