"""Verifiable rewards for question answering: normalized exact match and token F1.

The normalisation is the one SQuAD, Search-R1 and FlashRAG use: lower-case, drop punctuation,
drop the articles *a*, *an*, *the*, squeeze whitespace. A prediction is correct when it
equals any gold answer after normalisation; F1 is the best token-overlap F1 over the golds.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | {"‘", "’", "“", "”", "–", "—"}


def normalize_answer(text: str) -> str:
    """Lower-case, strip punctuation and articles, squeeze whitespace."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold_answers: Iterable[str]) -> float:
    """1.0 when the normalized prediction equals any normalized gold answer, else 0.0."""
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(gold) for gold in gold_answers))


def f1_score(prediction: str, gold_answers: Iterable[str]) -> float:
    """Best token-level F1 between the prediction and any gold answer."""
    prediction_tokens = normalize_answer(prediction).split()
    best = 0.0
    for gold in gold_answers:
        gold_tokens = normalize_answer(gold).split()
        common = Counter(prediction_tokens) & Counter(gold_tokens)
        overlap = sum(common.values())
        if overlap == 0:
            continue
        precision = overlap / len(prediction_tokens)
        recall = overlap / len(gold_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best
