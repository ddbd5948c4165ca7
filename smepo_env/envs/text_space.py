"""A gymnasium space for free-form LLM text.

``gymnasium.spaces.Text`` only accepts characters from a fixed charset (alphanumerics by
default) and at least one character. An agent's action or an environment's observation is
arbitrary unicode, possibly empty, so :class:`LLMText` accepts any ``str`` up to
``max_length`` characters. Samples are drawn from printable ASCII plus a few tag characters
and non-ASCII letters, which is enough for conformance checks and fuzzing.
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces

SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n\t" + "éßø中文€"


class LLMText(spaces.Text):
    """Any string of at most ``max_length`` characters (empty allowed)."""

    def __init__(self, max_length: int, seed: int | None = None) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        """True for any ``str`` no longer than ``max_length``."""
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"LLMText(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LLMText) and other.max_length == self.max_length
