"""Verifiable rewards for question answering: normalized exact match and token F1.

The normalisation is the one SQuAD, Search-R1 and FlashRAG use (lower-case, drop punctuation,
drop the articles *a*, *an*, *the*, squeeze whitespace), extended to Unicode in
:mod:`smepo_env.scoring.normalize`, which the masking leak check shares. A prediction is correct when it
equals any gold answer after normalisation; F1 is the best token-overlap F1 over the golds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from smepo_env.scoring.normalize import normalize_answer
from smepo_env.scoring.verdict import Verdict


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


def score_qa(prediction: str, gold_answers: Sequence[str]) -> Verdict:
    """Score a QA answer: reward = exact match; ``exact_match`` and ``f1`` in the metrics."""
    em = exact_match(prediction, gold_answers)
    return Verdict(em, bool(em), {"exact_match": em, "f1": f1_score(prediction, gold_answers)})
