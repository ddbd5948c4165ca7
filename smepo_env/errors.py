"""Every error smepo-env raises on purpose, and the shared check for a value from a fixed set.

All derive from :class:`SmepoError`, so ``except SmepoError`` catches any of them; each also
derives from the built-in exception callers expect (a bad value is still a ``ValueError``, a
missing file a ``FileNotFoundError``), so existing ``except ValueError`` code keeps working.

This module imports nothing from the project: every layer (``tools``, ``retrieval_index``,
``smepo_env``) may import it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SmepoError(Exception):
    """The root of every error smepo-env raises on purpose."""


class ChoiceError(SmepoError, ValueError):
    """A value is not one of a fixed set of choices; the message names them and the closest."""


class TaskFormatError(SmepoError, ValueError):
    """A task record is missing a field or has one of the wrong type."""


class ModelNotFoundError(SmepoError, FileNotFoundError):
    """A model value is neither a bundled alias, an existing directory, nor a hub id."""


class SandboxUnavailableError(SmepoError, RuntimeError):
    """An explicitly requested isolation level cannot be set up on this machine."""


class CorpusFormatError(SmepoError, ValueError):
    """A corpus file has a row that is not a passage."""


class IndexNotFoundError(SmepoError, FileNotFoundError):
    """A path is not a complete index directory."""


class EncoderNotFoundError(SmepoError, ValueError):
    """The encoder is neither a local folder, the bundled model, nor in the local model cache."""


class LuceneUnavailableError(SmepoError, RuntimeError):
    """pyserini, its Anserini jar or a Java 21+ runtime is missing, or the JVM cannot start."""


class LuceneIndexError(SmepoError, RuntimeError):
    """Anserini's indexer failed; the message carries the end of its log."""


class ProtocolError(SmepoError, ValueError):
    """A ``/retrieve`` answer does not have the expected shape."""


class RemoteRetrievalError(SmepoError, RuntimeError):
    """A remote retrieval call failed."""


class RetrievalUnavailableError(RemoteRetrievalError):
    """The server could not be reached or kept failing after every retry."""


class RetrievalRequestError(RemoteRetrievalError):
    """The server rejected the request (4xx) or answered in an unexpected shape."""


class ToolCallError(SmepoError, ValueError):
    """A native tool call the environment refuses (bad argument, episode over); its text goes to the model."""


class TeacherUnavailableError(SmepoError, RuntimeError):
    """Every request to a teacher endpoint failed (down, unreachable, or refusing every call)."""


def closest_hint(value: object, choices: Iterable[str]) -> str:
    """``" Did you mean 'x'?"`` for the choice closest to ``value``, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(value), [str(choice) for choice in choices], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` when it is one of ``choices``; else raise a :class:`ChoiceError`.

    Args:
        name: what the value is, as the user wrote it (``"expert_guidance"``, ``"--env_id"``).
        value: the value given.
        choices: the valid values.

    Raises:
        ChoiceError: naming ``name``, the value, every valid choice and the closest one.
    """
    options = list(choices)
    if isinstance(value, str) and value in options:
        return value
    raise ChoiceError(f"{name} must be one of {options}, got {value!r}.{closest_hint(value, options)}")
