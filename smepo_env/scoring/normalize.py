"""Answer normalization: the one equality the QA reward and the masking leak check share.

Search-R1's exact-match rule, extended to Unicode: NFKC-fold compatibility characters
(full-width ``１９６９`` is ``1969``, the ligature ``ﬁ`` is ``fi``, a superscript ``²`` is ``2``),
read every decimal digit as its ASCII digit (Arabic-Indic ``٣`` is ``3``), compose accents
(``e`` + U+0301 is ``é``; accents are kept, ``é`` is not ``e``), lower-case,
delete punctuation and symbols (ASCII ``string.punctuation`` and every Unicode character of
category ``P*`` or ``S*``: quotes, dashes, ``€``), drop the articles ``a``/``an``/``the``, squeeze
whitespace. ``"The  U.S.A.!"`` becomes ``"usa"``.

The reward (:mod:`smepo_env.scoring.qa`) and the masker's leak check
(:mod:`smepo_env.masking.normalize`) both call :func:`normalize_answer`, so "no answer is
readable in the guidance" is decided with the same equality as "the answer earns reward".
"""

from __future__ import annotations

import unicodedata

ARTICLES: frozenset[str] = frozenset({"a", "an", "the"})


class _FoldTable(dict):
    """A ``str.translate`` table: NFKC per character, punctuation and symbols to ``replacement``.

    With ``keep_length`` a character whose NFKC form is longer than one character stays as it is,
    so that offsets in the translated text are offsets in the original.
    """

    def __init__(self, replacement: str | None, *, keep_length: bool) -> None:
        super().__init__()
        self._replacement = replacement
        self._keep_length = keep_length

    def __missing__(self, codepoint: int) -> str | None:
        char = chr(codepoint)
        folded = unicodedata.normalize("NFKC", char)
        if unicodedata.category(char) == "Nd":  # any decimal digit (Arabic-Indic, Devanagari, ...)
            folded = str(unicodedata.decimal(char))
        if self._keep_length and len(folded) != 1:
            folded = char
        kept = "".join(c for c in folded if unicodedata.category(c)[0] not in "PS")
        value = kept or self._replacement
        self[codepoint] = value
        return value


DELETE_PUNCTUATION = _FoldTable(None, keep_length=False)
"""Fold a text for comparison: NFKC, punctuation and symbols deleted (offsets may move)."""
SPACE_PUNCTUATION = _FoldTable(" ", keep_length=True)
"""Fold a text keeping offsets: NFKC where it keeps the length, punctuation and symbols to spaces."""


def fold(text: str) -> str:
    """NFKC-fold, lower-case and delete punctuation and symbols; articles stay."""
    return unicodedata.normalize("NFKC", text).translate(DELETE_PUNCTUATION).lower()


def normalize_answer(text: object) -> str:
    """Normalize a text the way exact-match answer checking does (see the module docstring)."""
    return " ".join(word for word in fold(str(text)).split() if word not in ARTICLES)
