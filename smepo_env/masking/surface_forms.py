"""Other surface forms of a hidden value: the parts of a date, demonyms, worded numbers, glosses.

A hidden value gives itself away through more than its own spelling. The search masker hides these
forms with it, under the same placeholder:

* **Date parts** (:func:`date_parts`): the year, the day and month (both orders) of a full date
  (``9 November 1989`` -> ``1989``, ``9 november``, ``november 9``); the year and the month of a
  month-year date.
* **Derived words** (:func:`is_derived_word`): a capitalized word built on a hidden name, such as a
  demonym or adjective (``Malaysian`` for ``Malaysia``, ``Darwinian`` for ``Darwin``), by a shared
  stem or by :data:`IRREGULAR_DEMONYMS` (``French`` for ``France``).
* **Number words** (:func:`number_forms`): ``nine`` for ``9`` and ``9`` for ``nine``.
* **Glosses** (:func:`gloss_forms`): an abbreviation or translation in parentheses right after a
  mention, ``(EASA)``, ``(大豆, daizu)``.

Text in scripts written without word breaks (:func:`is_unspaced`: Chinese, Japanese, Thai ...) has
no word boundaries to match on; such forms are searched as substrings.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache as functools_cache

from smepo_env.masking.numeric import worded_value

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
"""Month names and abbreviations (lower case) and their numbers."""

IRREGULAR_DEMONYMS: dict[str, tuple[str, ...]] = {
    "france": ("french",),
    "spain": ("spanish", "spaniard"),
    "netherlands": ("dutch",),
    "holland": ("dutch",),
    "denmark": ("danish", "dane"),
    "poland": ("polish", "pole"),
    "wales": ("welsh",),
    "switzerland": ("swiss",),
    "greece": ("greek",),
    "ireland": ("irish",),
    "england": ("english",),
    "britain": ("british", "briton"),
    "finland": ("finnish", "finn"),
    "turkey": ("turkish", "turk"),
    "scotland": ("scottish", "scots", "scot"),
    "sweden": ("swedish", "swede"),
    "philippines": ("filipino", "philippine"),
    "thailand": ("thai",),
    "madagascar": ("malagasy",),
    "monaco": ("monegasque",),
    "iceland": ("icelandic", "icelander"),
    "germany": ("german",),
    "czechia": ("czech",),
    "slovakia": ("slovak",),
    "croatia": ("croatian", "croat"),
    "serbia": ("serbian", "serb"),
    "china": ("chinese",),
    "japan": ("japanese",),
    "vietnam": ("vietnamese",),
    "portugal": ("portuguese",),
    "lebanon": ("lebanese",),
    "cyprus": ("cypriot",),
    "peru": ("peruvian",),
    "norway": ("norwegian",),
}
"""Demonyms that do not share a long enough stem with their country (lower case)."""

_DERIVED_ENDINGS = (
    "an",
    "ans",
    "ese",
    "ish",
    "i",
    "ic",
    "er",
    "ers",
    "ite",
    "ites",
    "ine",
    "ern",
    "ean",
    "ian",
)
_MAX_LINKING_LETTERS = 2
"""Letters a derived word may hold between the name's stem and its ending (the ``t`` of
``venetian`` for ``venice``); a longer tail is another word (``ploudraer`` is no derivation of
``plourk``)."""
_NUMBER_NAMES = tuple(
    re.findall(
        r"\w+",
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen",
    )
)
_TENS_NAMES = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_GLOSS = re.compile(r"\s*\(([^()\n]{1,60})\)")
_GLOSS_PART = re.compile(
    r"[A-Z][A-Z0-9.&]{1,9}|[^\W\d_a-zA-Z]{1,12}|[a-z]{3,20}|[A-Z][a-z]+(?: [A-Z][a-z.]*){1,3}"
)


def fold_accents(text: str) -> str:
    """``text`` without combining accents: ``Dvořák`` -> ``Dvorak``; other characters unchanged."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def date_parts(key: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The parts of a date key that give the date away on their own.

    Args:
        key: a lower-cased token key such as ``("9", "november", "1989")``.

    Returns:
        ``[("1989",), ("9", "november"), ("november", "9")]`` for a full date, ``[("1986",),
        ("april",)]`` for ``("april", "1986")``, and ``[]`` for a key that is no date.
    """
    months = [token for token in key if token in MONTHS]
    years = [t for t in key if t.isdigit() and len(t) in (3, 4)]
    days = [t for t in key if t.isdigit() and len(t) <= 2 and 1 <= int(t) <= 31]
    if len(months) != 1 or len(key) > 4:
        return []
    month = months[0]
    parts: list[tuple[str, ...]] = [(year,) for year in years]
    if days:
        parts += [(days[0], month), (month, days[0])]
    elif years:
        parts.append((month,))
    return parts


def number_words(value: int) -> str | None:
    """``value`` (0 to 99) in words, ``"twenty-seven"``; ``None`` outside that range."""
    if not 0 <= value < 100:
        return None
    if value < 20:
        return _NUMBER_NAMES[value]
    tens, units = divmod(value, 10)
    return _TENS_NAMES[tens - 2] + ("" if units == 0 else f"-{_NUMBER_NAMES[units]}")


def number_forms(text: str) -> list[str]:
    """The other spelling of a small whole number: ``"9"`` -> ``["nine"]``, ``"nine"`` -> ``["9"]``."""
    stripped = text.strip().lower()
    if stripped.isdigit():
        words = number_words(int(stripped))
        return [words] if words else []
    if stripped and all(
        word in _NUMBER_NAMES or word in _TENS_NAMES for word in re.split(r"[-\s]+", stripped)
    ):
        return [str(worded_value(stripped))]
    return []


def is_derived_word(word: str, name: str) -> bool:
    """Whether ``word`` is a demonym or adjective built on ``name`` (both lower case, accents folded).

    A derived word is a stem of the name (all of it but at most its last two letters, and at least
    four letters), then at most two linking letters, then a demonym or adjective ending (``-an``,
    ``-ese``, ``-ish``, ``-i``, ``-ic``, ``-er`` ...): ``malaysian`` / ``malaysia``, ``canadian`` /
    ``canada``, ``norwegian`` / ``norway``. It is longer than the name (a look-alike such as
    ``okafer`` for ``okafor`` is not derived) but at most five letters longer, and a name that only
    shares its first letters is not one (``ploudraer`` / ``plourk``). Or it is listed in
    :data:`IRREGULAR_DEMONYMS` (``french`` / ``france``).
    """
    if word == name or not word.isalpha() or not name.isalpha():
        return False
    if word in IRREGULAR_DEMONYMS.get(name, ()):
        return True
    if len(name) < 4 or len(word) > len(name) + 5 or not word.endswith(_DERIVED_ENDINGS):
        return False
    if len(word) <= len(name):
        return False
    return any(
        word.startswith(name[:cut])
        and word[cut:].endswith(ending)
        and len(word) - cut - len(ending) <= _MAX_LINKING_LETTERS
        for cut in range(max(4, len(name) - 2), len(name) + 1)
        for ending in _DERIVED_ENDINGS
    )


def gloss_forms(text: str, end: int, limit: int) -> list[tuple[int, int]]:
    """The parts of a parenthesized gloss right after ``text[:end]``: abbreviations (``EASA``),
    words in scripts without letters a-z (``大豆``), single lower-case romanizations (``daizu``)
    and full names (``Philip Kindred Dick``), as ``(start, end)`` offsets; ``[]`` when no gloss
    follows."""
    match = _GLOSS.match(text, end, limit)
    if match is None:
        return []
    found = []
    offset = match.start(1)
    for piece in re.finditer(r"[^,;]+", match.group(1)):
        part = piece.group().strip()
        if _GLOSS_PART.fullmatch(part):
            start = offset + piece.start() + piece.group().index(part)
            found.append((start, start + len(part)))
    return found


_UNSPACED_SCRIPTS = (
    "CJK UNIFIED",
    "CJK COMPATIBILITY IDEOGRAPH",
    "HIRAGANA",
    "KATAKANA",
    "THAI",
    "LAO",
    "KHMER",
    "MYANMAR",
)


@functools_cache
def _is_unspaced_char(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(_UNSPACED_SCRIPTS)


def is_unspaced(text: str) -> bool:
    """Whether ``text`` holds a character of a script written without word breaks (Chinese,
    Japanese kana, Thai, Lao, Khmer, Myanmar): such text is searched by substring, not by word."""
    return not text.isascii() and any(_is_unspaced_char(ch) for ch in text if ord(ch) > 0x2E7F)
