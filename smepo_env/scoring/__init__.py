"""Verifiable rewards, one scorer per domain, each returning a :class:`Verdict`.

* :mod:`smepo_env.scoring.qa`: normalized exact match (the reward) and token F1;
* :mod:`smepo_env.scoring.math`: symbolic equivalence with math-verify;
* :mod:`smepo_env.scoring.code`: hidden tests run in the sandbox;
* :mod:`smepo_env.scoring.normalize`: the answer normalization the QA reward and the masking
  leak check share.
"""

from smepo_env.scoring.normalize import normalize_answer
from smepo_env.scoring.qa import exact_match, f1_score, score_qa
from smepo_env.scoring.verdict import Verdict

__all__ = ["Verdict", "exact_match", "f1_score", "normalize_answer", "score_qa"]
