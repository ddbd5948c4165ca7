"""The public SMEPO reference masker, reproduced for side-by-side comparison only.

The reference masks with two regular expressions and nothing else:

* **math**: every number, signed number, decimal, ``a/b`` fraction, percent, scientific number
  (``1e5``, ``3 \\times 10^{8}``) and LaTeX fraction or root that holds a digit becomes
  ``[NUMBER]``. It tries to spare structural labels (``Step 1``, ``Case 2``, ``Lemma 3`` ...) by
  swapping them for a key such as ``__STRUCTURAL_NUMBER_0__`` and restoring them afterwards, but
  the key holds a digit, which the number pattern then masks, so the restore finds nothing: every
  label comes out as ``__STRUCTURAL_NUMBER_[NUMBER]__``. Signs swallow operators (``2x+3y``
  becomes ``[NUMBER]x[NUMBER]y``), exponents and subscripts are masked (``x^[NUMBER]``,
  ``a_[NUMBER]``), numbers the question states are masked, and worded or symbolic answers stay.
* **code**: each fenced block ```` ```lang ... ``` ```` becomes ```` ```lang\\n[CODE]\\n``` ````;
  inline and unfenced code stays.
* **search**: nothing is masked.

This module reproduces that behaviour (the output text is what the reference produces), and
also reports the hidden regions as spans so the audit can score it like the engine.
"""

from __future__ import annotations

import re

from smepo_env.masking.spans import MaskResult, SpanDraft, assemble

_SIGNED = r"[+-]?(?:\d+\.\d+|\d+|\.\d+)"
_BRACED_DIGIT = r"\{[^{}]*?\d[^{}]*?\}"
_REFERENCE_NUMBER = re.compile(
    "|".join(
        [
            rf"\\[dDtT]?frac\s*{_BRACED_DIGIT}\s*{_BRACED_DIGIT}",
            rf"\\sqrt(?:\s*\[[^\[\]]*?\d[^\[\]]*?\])?\s*{_BRACED_DIGIT}",
            rf"{_SIGNED}\s*\\times\s*10\s*\^\s*\{{?[+-]?\d+\}}?",
            rf"{_SIGNED}\s*/\s*{_SIGNED}",
            rf"{_SIGNED}\s*%",
            rf"{_SIGNED}[eE][+-]?\d+",
            r"[+-]?(?:\d+\.\d+|\.\d+)",
            r"[+-]?\d+",
        ]
    )
)
_REFERENCE_LABEL = re.compile(
    r"\b(?:step|case|part|subcase|problem|example|exercise|lemma|theorem|claim|stage|round)\s+\d+\b",
    re.IGNORECASE,
)
_REFERENCE_FENCE = re.compile(r"```([^\n`]*)\n.*?```", re.DOTALL)
_GARBLED_LABEL = "__STRUCTURAL_NUMBER_[NUMBER]__"


def _math_drafts(trace: str) -> list[SpanDraft]:
    drafts: list[SpanDraft] = []
    pieces: list[str] = []
    cursor = 0
    for label in _REFERENCE_LABEL.finditer(trace):
        drafts.append(SpanDraft(label.start(), label.end(), "NUMBER", placeholder=_GARBLED_LABEL))
        pieces.extend((trace[cursor : label.start()], "_" * (label.end() - label.start())))
        cursor = label.end()
    pieces.append(trace[cursor:])
    # The reference's label key starts and ends with "_" and holds only a digit to match: an
    # equally long run of "_" leaves every other match as the reference finds it.
    for number in _REFERENCE_NUMBER.finditer("".join(pieces)):
        drafts.append(SpanDraft(number.start(), number.end(), "NUMBER", placeholder="[NUMBER]"))
    return drafts


def _code_drafts(trace: str) -> list[SpanDraft]:
    return [
        SpanDraft(m.start(), m.end(), "CODE", placeholder=f"```{m.group(1).strip()}\n[CODE]\n```")
        for m in _REFERENCE_FENCE.finditer(trace)
    ]


def regex_baseline_mask(trace: str, *, domain: str) -> MaskResult:
    """Mask a trace the way the public SMEPO reference does (see the module docstring).

    Args:
        trace: the expert trace.
        domain: ``"search"``, ``"math"`` or ``"code"`` (already validated by the caller).

    Returns:
        The masked trace, its text identical to the reference's output.
    """
    if domain == "math":
        drafts = _math_drafts(trace)
    elif domain == "code":
        drafts = _code_drafts(trace)
    else:
        drafts = []
    return assemble(trace, drafts, domain=domain, method="regex")
