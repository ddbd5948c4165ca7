"""Plain data out of the sandbox: the host-side decoder of the values a submission's calls return.

The hidden-test harness (:mod:`tools.sandbox_harness`) encodes every value a test needs as
tagged JSON: ``null``, booleans, numbers (``Infinity`` and ``NaN`` included) and strings stand
for themselves; containers are one-key objects, ``{"l": [...]}`` (list), ``{"t": [...]}``
(tuple), ``{"s": [...]}`` (set), ``{"f": [...]}`` (frozenset), ``{"d": [[key, value], ...]}``
(dict), ``{"b": "hex"}`` (bytes) and ``{"c": [real, imag]}`` (complex). Subclasses of these
types are sent as the base type, so a list whose ``__eq__`` is always true arrives as a plain
list. Anything else (an object, a generator, a function) is not plain data and is never sent.

:func:`decode_plain` rebuilds the values here from builtin types only, so whatever the host
does with them (compare, sort, hash) runs builtin code, never code of the submission. The
encoded text comes from the sandbox, so it is treated as hostile: bounded size and depth, and
any malformed or unknown shape is a :class:`NotPlainData` error.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of containers accepted (the harness refuses deeper values too)."""
MAX_TEXT_BYTES = 1 << 20
"""Largest encoded value list of one test, in bytes."""

_SEQUENCE_TAGS = {"l": list, "t": tuple, "s": set, "f": frozenset}


class NotPlainData(ValueError):
    """An encoded value that is malformed, too big, too deep, or not plain data."""


def decode_plain(encoded: Any, depth: int = 0) -> Any:
    """Rebuild one value from its parsed tagged-JSON form (see the module docstring).

    Raises:
        NotPlainData: an unknown tag, a wrong shape, an unhashable set element or dict key,
            or nesting deeper than :data:`MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise NotPlainData(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(encoded)
    if encoded is None or kind in (bool, int, float, str):
        return encoded
    if kind is not dict or len(encoded) != 1:
        raise NotPlainData(f"not an encoded value: {str(encoded)[:60]!r}")
    ((tag, body),) = encoded.items()
    try:
        if tag in _SEQUENCE_TAGS and type(body) is list:
            return _SEQUENCE_TAGS[tag](decode_plain(item, depth + 1) for item in body)
        if tag == "d" and type(body) is list:
            if any(type(pair) is not list or len(pair) != 2 for pair in body):
                raise NotPlainData("a dict entry is not a [key, value] pair")
            return {decode_plain(key, depth + 1): decode_plain(value, depth + 1) for key, value in body}
        if tag == "b" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "c" and type(body) is list and len(body) == 2:
            real, imag = body
            if type(real) not in (int, float) or type(imag) not in (int, float):
                raise NotPlainData("a complex number needs two numbers")
            return complex(real, imag)
    except NotPlainData:
        raise
    except (TypeError, ValueError) as error:  # unhashable set element or dict key, bad hex
        raise NotPlainData(f"malformed {tag!r} value: {error}") from error
    raise NotPlainData(f"unknown tag {tag!r}")


def decode_results(text: str) -> list[tuple[bool, Any]]:
    """Decode one test's probe results: ``[[\"ok\", value] | [\"error\", text], ...]``.

    Returns ``(True, value)`` for a value and ``(False, "Type: message")`` for a probe that
    raised or returned something that is not plain data.

    Raises:
        NotPlainData: the text is too long, not JSON, or not a list of such pairs.
    """
    if len(text) > MAX_TEXT_BYTES:
        raise NotPlainData(f"the values are {len(text)} bytes, more than the limit of {MAX_TEXT_BYTES}")
    try:
        entries = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise NotPlainData(f"the values are not JSON: {str(error)[:80]}") from error
    if type(entries) is not list:
        raise NotPlainData("the values are not a list")
    results: list[tuple[bool, Any]] = []
    for entry in entries:
        if type(entry) is not list or len(entry) != 2 or entry[0] not in ("ok", "error"):
            raise NotPlainData(f"not a probe result: {str(entry)[:60]!r}")
        if entry[0] == "ok":
            try:
                results.append((True, decode_plain(entry[1])))
            except NotPlainData as error:
                results.append((False, f"NotPlainData: {error}"))
            except RecursionError:
                results.append((False, "NotPlainData: value nested too deeply"))
        else:
            results.append((False, str(entry[1])[:300]))
    return results
