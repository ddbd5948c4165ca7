"""A text codec that lets text-only teachers play through the token-level episode loop.

:func:`smepo_env.rollout.episodes.run_episodes` works on token ids: it templates the prompt,
asks a :class:`~smepo_env.rollout.generation.TurnGenerator` for each turn's ids, decodes them
for ``env.step`` and splices the tokenized observation back in. A chat endpoint or a scripted
expert produces text, not ids of any tokenizer we hold. :class:`TextCodec` stands in for the
tokenizer: it splits text into word pieces (each run of non-space characters with the spaces
after it), interns each piece, and writes its id as ``2 * index + role`` where ``role`` is 1 for
the teacher's own turns and 0 for the prompt and the environment's observations. Decoding joins
the pieces back, byte for byte; :meth:`TextCodec.messages` reads a sequence back as the chat it
is (``user`` prompt, ``assistant`` turn, ``user`` observation, ...). So the episode loop, its
turn and completion budgets (counted in word pieces here) and its transcript are exactly those
of evaluation, whatever the teacher.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_PIECE = re.compile(r"\S+\s*|\s+")

USER, ASSISTANT = 0, 1


class TextCodec:
    """Word-piece ids with the speaker in the low bit; a tokenizer for :func:`run_episodes`.

    Attributes:
        pad_token_id / eos_token_id: ``None``: a text teacher has no such tokens.
    """

    pad_token_id = None
    eos_token_id = None

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._index: dict[str, int] = {}

    def _ids(self, text: str, role: int) -> list[int]:
        ids = []
        for piece in _PIECE.findall(text):
            index = self._index.get(piece)
            if index is None:
                index = self._index[piece] = len(self._pieces)
                self._pieces.append(piece)
            ids.append(2 * index + role)
        return ids

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """Ids of prompt or observation text (the ``user`` side)."""
        return self._ids(text, USER)

    def encode_assistant(self, text: str) -> list[int]:
        """Ids of a teacher's turn (the ``assistant`` side)."""
        return self._ids(text, ASSISTANT)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """The text of ``ids``, exactly as encoded."""
        return "".join(self._pieces[int(i) >> 1] for i in ids)

    def apply_chat_template(
        self,
        messages: Sequence[Mapping[str, str]],
        tokenize: bool = False,
        add_generation_prompt: bool = True,
        **_: Any,
    ) -> str:
        """The episode's prompt: the single user message's content, unchanged (no template)."""
        if len(messages) != 1 or messages[0].get("role") != "user":
            raise ValueError("TextCodec templates exactly one user message (the episode prompt)")
        return str(messages[0]["content"])

    def messages(self, ids: Sequence[int]) -> list[dict[str, str]]:
        """The chat a sequence holds: runs of one speaker's ids become one message each
        (observations stripped, as the environment's own ``info["messages"]`` has them)."""
        chat: list[dict[str, str]] = []
        run: list[int] = []
        for token in [*ids, -1]:
            if run and (token < 0 or (token & 1) != (run[-1] & 1)):
                role = "assistant" if run[-1] & 1 else "user"
                text = self.decode(run)
                chat.append({"role": role, "content": text if role == "assistant" else text.strip()})
                run = []
            if token >= 0:
                run.append(token)
        return chat
