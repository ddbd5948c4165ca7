"""Code templates on strings (see :mod:`smepo_env.benchmarks.code.function_spec` for the contract)."""

from __future__ import annotations

import random
import string

from smepo_env.benchmarks.code.function_spec import (
    FunctionSpec,
    ordinal,
    random_sentence,
    random_text,
    random_word,
)

CATEGORY = "string"


def _count_letter(rng: random.Random) -> FunctionSpec:
    letter = rng.choice(string.ascii_lowercase)
    return FunctionSpec(
        f"count_{letter}",
        "s: str",
        "int",
        f"returns how many times the letter '{letter}' occurs in `s`, ignoring case",
        f"    return s.lower().count({letter!r})\n",
        lambda r: (random_text(r, alphabet=letter * 4 + "abcde"),),
        CATEGORY,
        f"Lower-case the string and count the occurrences of '{letter}'.",
        edge_args=(("",),),
    )


def _caesar(rng: random.Random) -> FunctionSpec:
    shift = rng.randint(1, 25)
    return FunctionSpec(
        f"shift_letters_{shift}",
        "s: str",
        "str",
        f"shifts every lowercase letter of `s` {shift} places forward in the alphabet, wrapping around "
        "from 'z' to "
        "'a', and leaves every other character unchanged",
        f"    return ''.join(chr((ord(c) - 97 + {shift}) % 26 + 97) if 'a' <= c <= 'z' else c for c in s)\n",
        lambda r: (random_text(r, low=1),),
        CATEGORY,
        "Map each lowercase letter to its alphabet index, add the shift modulo 26, and keep other "
        "characters.",
        edge_args=(("xyz!",),),
    )


def _replace_vowels(rng: random.Random) -> FunctionSpec:
    mark = rng.choice("*#_-?!+=~@%&0123456789")
    return FunctionSpec(
        "replace_vowels",
        "s: str",
        "str",
        f"returns `s` with every vowel (a, e, i, o, u, in either case) replaced by '{mark}'",
        f"    return ''.join({mark!r} if c in 'aeiouAEIOU' else c for c in s)\n",
        lambda r: (random_sentence(r),),
        CATEGORY,
        "Go through the characters and replace those in 'aeiouAEIOU'.",
        edge_args=(("",), ("rhythm",)),
    )


def _every_kth(rng: random.Random) -> FunctionSpec:
    step = rng.randint(2, 6)
    start = rng.randint(0, step - 1)
    return FunctionSpec(
        f"every_{step}_from_{start}",
        "s: str",
        "str",
        f"returns the characters of `s` at positions {start}, {start + step}, {start + 2 * step}, ... "
        f"(every {ordinal(step)} character, counting from 0 and starting at position {start})",
        f"    return s[{start}::{step}]\n",
        lambda r: (random_text(r, low=3, high=20),),
        CATEGORY,
        f"A slice with start {start} and step {step} does it.",
        edge_args=(("",),),
    )


def _repeat_chars(rng: random.Random) -> FunctionSpec:
    times = rng.randint(2, 5)
    separator = rng.choice(("", "-", " ", "."))
    joined = f"{separator!r}.join" if separator else "''.join"
    text = f"separated by '{separator}'" if separator else "with nothing in between"
    return FunctionSpec(
        "repeat_each",
        "s: str",
        "str",
        f"repeats every character of `s` {times} times and joins the groups {text} (for example 'ab' gives "
        f"'{separator.join(c * times for c in 'ab')}')",
        f"    return {joined}(c * {times} for c in s)\n",
        lambda r: (random_text(r, high=6),),
        CATEGORY,
        f"Repeat each character {times} times and join the pieces.",
        edge_args=(("",),),
    )


def _reverse_long_words(rng: random.Random) -> FunctionSpec:
    length = rng.randint(2, 5)
    return FunctionSpec(
        "reverse_long_words",
        "sentence: str",
        "str",
        f"reverses every word of `sentence` that has more than {length} letters and keeps the other words; "
        "words are "
        "separated by single spaces",
        f"    return ' '.join(w[::-1] if len(w) > {length} else w for w in sentence.split(' '))\n",
        lambda r: (random_sentence(r),),
        CATEGORY,
        f"Split on spaces, reverse the words longer than {length}, join again.",
    )


def _pad_left(rng: random.Random) -> FunctionSpec:
    width, fill = rng.randint(4, 12), rng.choice("0*.#_")
    return FunctionSpec(
        f"pad_to_{width}",
        "s: str",
        "str",
        f"pads `s` on the left with '{fill}' to length {width}; a string already that long or longer is "
        "returned "
        "unchanged",
        f"    return s.rjust({width}, {fill!r})\n",
        lambda r: (random_text(r, high=width + 3),),
        CATEGORY,
        f"str.rjust({width}, '{fill}') does exactly this.",
        edge_args=(("",),),
    )


def _run_length(rng: random.Random) -> FunctionSpec:
    count_first = rng.random() < 0.5
    piece = "f'{len(run)}{run[0]}'" if count_first else "f'{run[0]}{len(run)}'"
    example = "'3a1b'" if count_first else "'a3b1'"
    order = "its length followed by the character" if count_first else "the character followed by its length"
    return FunctionSpec(
        "run_length_encode",
        "s: str",
        "str",
        f"run-length encodes `s`: each run of equal characters becomes "
        f"{order} "
        f"(for example 'aaab' gives {example})",
        "    from itertools import groupby\n\n"
        "    parts = []\n"
        "    for _, group in groupby(s):\n"
        "        run = ''.join(group)\n"
        f"        parts.append({piece})\n"
        "    return ''.join(parts)\n",
        lambda r: ("".join(r.choice("aab") * r.randint(1, 4) for _ in range(r.randint(1, 5))),),
        CATEGORY,
        "Group consecutive equal characters with itertools.groupby and write each group's length and "
        "character.",
        edge_args=(("",),),
    )


def _sentence_with_initial(rng: random.Random, letter: str) -> str:
    """A random sentence in which some words are made to start with ``letter`` (either case)."""
    words = random_sentence(rng, 2, 9).split(" ")
    for i, word in enumerate(words):
        if rng.random() < 0.35:
            words[i] = (letter.upper() if rng.random() < 0.3 else letter) + word[1:]
    return " ".join(words)


def _words_starting(rng: random.Random) -> FunctionSpec:
    letter = rng.choice("abcdefghilmnoprstvwz")
    return FunctionSpec(
        f"count_words_starting_{letter}",
        "sentence: str",
        "int",
        f"returns how many words of `sentence` (separated by whitespace) start with the letter '{letter}', "
        "ignoring case",
        f"    return sum(1 for w in sentence.split() if w.lower().startswith({letter!r}))\n",
        lambda r: (_sentence_with_initial(r, letter),),
        CATEGORY,
        f"Split into words and count those starting with '{letter}'.",
        edge_args=(("",),),
    )


def _mask_digits(rng: random.Random) -> FunctionSpec:
    keep, mark = rng.randint(0, 4), rng.choice("*#x")
    if keep:
        body = (
            "    positions = [i for i, c in enumerate(s) if c.isdigit()]\n"
            f"    hidden = set(positions[:-{keep}])\n"
            f"    return ''.join({mark!r} if i in hidden else c for i, c in enumerate(s))\n"
        )
    else:
        body = f"    return ''.join({mark!r} if c.isdigit() else c for c in s)\n"
    return FunctionSpec(
        f"mask_digits_keep_{keep}" if keep else "mask_digits",
        "s: str",
        "str",
        f"replaces every digit of `s` with '{mark}'"
        + (f" except the last {keep} digits of the string, which stay as they are" if keep else "")
        + "; other characters are unchanged",
        body,
        lambda r: (random_text(r, low=2, high=14, alphabet="0123456789-ab"),),
        CATEGORY,
        f"Find the positions of the digits and mask all but the last {keep} of them."
        if keep
        else "Replace every character for which isdigit() is true.",
        edge_args=(("",),),
    )


def _alternate_case(rng: random.Random) -> FunctionSpec:
    upper_first = rng.random() < 0.5
    first, second = ("upper", "lower") if upper_first else ("lower", "upper")
    return FunctionSpec(
        "alternate_case",
        "s: str",
        "str",
        f"returns `s` with the characters at even positions (0, 2, ...) in {first} case and those at odd "
        "positions in "
        f"{second} case",
        f"    return ''.join(c.{first}() if i % 2 == 0 else c.{second}() for i, c in enumerate(s))\n",
        lambda r: (random_text(r, low=1),),
        CATEGORY,
        "Enumerate the characters and change the case by parity.",
    )


def _extreme_word(rng: random.Random) -> FunctionSpec:
    longest = rng.random() < 0.5
    return FunctionSpec(
        "longest_word" if longest else "shortest_word",
        "sentence: str",
        "str",
        f"returns the {'longest' if longest else 'shortest'} word of `sentence` (words separated by "
        "whitespace); on a "
        "tie the earliest such word; an empty string when there are no words",
        f"    words = sentence.split()\n    return {'max' if longest else 'min'}(words, key=len) if words "
        "else ''\n",
        lambda r: (random_sentence(r, 1, 7),),
        CATEGORY,
        f"Split into words and take {'max' if longest else 'min'} by length, which keeps the first on ties.",
        edge_args=(("",),),
    )


def _count_substring(rng: random.Random) -> FunctionSpec:
    pattern = random_word(rng)[: rng.randint(2, 3)]
    return FunctionSpec(
        "count_pattern",
        "s: str",
        "int",
        f"returns how many non-overlapping times '{pattern}' occurs in `s` (case-sensitive)",
        f"    return s.count({pattern!r})\n",
        lambda r: ("".join(r.choice((pattern, pattern[0], "x", "y ")) for _ in range(r.randint(0, 8))),),
        CATEGORY,
        "str.count counts non-overlapping occurrences.",
        edge_args=(("",),),
    )


TEMPLATES = (
    _count_letter,
    _caesar,
    _replace_vowels,
    _every_kth,
    _repeat_chars,
    _reverse_long_words,
    _pad_left,
    _run_length,
    _words_starting,
    _mask_digits,
    _alternate_case,
    _extreme_word,
    _count_substring,
)
