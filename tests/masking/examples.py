"""Hand-written expert traces the masking tests use (test data, not library code).

Each example is an audit record (see :func:`~smepo_env.masking.audit.audit_traces`): ``trace``,
``domain``, ``question``, ``answers`` and ``critical_spans``. The search traces follow the
Search-R1 protocol exactly as the environment writes it, with look-alike distractors
(``Marin Okafer`` beside ``Marin Okafor``, ``Blue Harbour`` beside ``Blue Harbor``) and numbers in
the passages. :func:`synthetic_search_records` varies the two- and three-hop templates with other
names to make larger sets (for throughput figures).
"""

from __future__ import annotations

import random
import re
from typing import Any

TWO_HOP = "\n".join(
    [
        "<think>I need the director of Blue Harbor first.</think>",
        "<search>Blue Harbor director</search>",
        "",
        "<information>Doc 1(Title: Blue Harbor) Blue Harbor is a 1987 film directed by Marin "
        "Okafor. It was produced by Tessaly Studios.",
        "Doc 2(Title: Blue Harbour) Blue Harbour is a novel by Ilse Varnek, published in 1994.",
        "Doc 3(Title: Marin Okafer) Marin Okafer is a painter born in Dorvik.",
        "</information>",
        "",
        "<think>Blue Harbor was directed by Marin Okafor. Now I need where Marin Okafor was born.</think>",
        "<search>Marin Okafor birthplace</search>",
        "",
        "<information>Doc 1(Title: Marin Okafor) Marin Okafor is a film director. Marin "
        "Okafor was born in Veldra, a city in Kessen.",
        "Doc 2(Title: Marin Okafer) Marin Okafer is a painter who has 3 children.",
        "Doc 3(Title: Veldra) Veldra is a city in Kessen with about 240,000 inhabitants.",
        "</information>",
        "",
        "<think>Marin Okafor was born in Veldra.</think>",
        "<answer>Veldra</answer>",
    ]
)

THREE_HOP = "\n".join(
    [
        "<think>First I need the studio that produced Blue Harbor.</think>",
        "<search>Blue Harbor produced by</search>",
        "",
        "<information>Doc 1(Title: Blue Harbor) Blue Harbor is a 1987 film directed by Marin "
        "Okafor. It was produced by Tessaly Studios.",
        "Doc 2(Title: Harbor Lights) Harbor Lights is a 1990 film produced by Orvane Pictures.",
        "Doc 3(Title: Blue Harbour) Blue Harbour is a novel by Ilse Varnek, published in 1994.",
        "</information>",
        "",
        "<think>Blue Harbor was produced by Tessaly Studios. Next I need who founded Tessaly "
        "Studios.</think>",
        "<search>tessaly studios founder</search>",
        "",
        "<information>Doc 1(Title: Tessaly Studios) Tessaly Studios is a film studio founded "
        "in 1952 by Joren Abeyta.",
        "Doc 2(Title: Tessala Records) Tessala Records is a label founded by Mira Abeyto in 1961.",
        "Doc 3(Title: Orvane Pictures) Orvane Pictures is a studio in Kessen.",
        "</information>",
        "",
        "<think>Tessaly Studios was founded by Joren Abeyta. Now I need where Joren Abeyta was born.</think>",
        "<search>Joren Abeyta born</search>",
        "",
        "<information>Doc 1(Title: Joren Abeyta) Joren Abeyta was a producer. Abeyta was born "
        "in Dorvik in 1921.",
        "Doc 2(Title: Mira Abeyto) Mira Abeyto was born in Lunsk in 1930.",
        "Doc 3(Title: Dorvik) Dorvik is a port town in Kessen.",
        "</information>",
        "",
        "<think>Abeyta was born in Dorvik. So the answer is Dorvik.</think>",
        "<answer>Dorvik</answer>",
    ]
)

COMPARISON = "\n".join(
    [
        "<think>I need the population of Veldra.</think>",
        "<search>Veldra population</search>",
        "",
        "<information>Doc 1(Title: Veldra) Veldra is a city in Kessen. Veldra has a population of 240,000.",
        "Doc 2(Title: Veldran Hills) The Veldran Hills lie north of Lunsk.",
        "Doc 3(Title: Kessen) Kessen is a country with 12 provinces.",
        "</information>",
        "",
        "<think>Veldra has a population of 240,000. I need the population of Lunsk.</think>",
        "<search>Lunsk population</search>",
        "",
        "<information>Doc 1(Title: Lunsk) Lunsk is a city in Kessen. Lunsk has a population of 95,500.",
        "Doc 2(Title: Dorvik) Dorvik has a population of 31,000.",
        "</information>",
        "",
        "<think>Lunsk has a population of 95,500. 240,000 is more than 95,500, so the answer "
        "is Veldra.</think>",
        "<answer>Veldra</answer>",
    ]
)

SEARCH_EXAMPLES: list[dict[str, Any]] = [
    {
        "trace": TWO_HOP,
        "domain": "search",
        "question": "Where was the director of Blue Harbor born?",
        "answers": ["Veldra"],
        "critical_spans": [{"text": "Marin Okafor", "kind": "bridge"}, {"text": "Veldra", "kind": "answer"}],
    },
    {
        "trace": THREE_HOP,
        "domain": "search",
        "question": "Where was the founder of the studio that produced Blue Harbor born?",
        "answers": ["Dorvik"],
        "critical_spans": [
            {"text": "Tessaly Studios", "kind": "bridge"},
            {"text": "Joren Abeyta", "kind": "bridge"},
            {"text": "Dorvik", "kind": "answer"},
        ],
    },
    {
        "trace": COMPARISON,
        "domain": "search",
        "question": "Which city has more inhabitants, Veldra or Lunsk?",
        "answers": ["Veldra"],
        "critical_spans": [
            {"text": "240,000", "kind": "value"},
            {"text": "95,500", "kind": "value"},
            {"text": "Veldra", "kind": "answer"},
        ],
    },
]

MATH_QUESTION = (
    "A farmer has 12 eggs and buys twelve more. He uses 3/4 of them in a cake. How many eggs are left?"
)
MATH_TRACE = r"""<think>Step 1: The farmer has 12 + 12 = 24 eggs.
Step 2: He uses \frac{3}{4} \cdot 24 = 18 eggs, i.e. 0.75 of them.
Step 3: That leaves 24 - 18 = 6 eggs, which is \frac{1}{4} of them, or 25%.
So the answer is six.</think>
<answer>\boxed{6}</answer>"""

ALGEBRA_QUESTION = "Let a_1 = 2 and a_{n+1} = a_n^2 - 1. If 2x+3y = 7 and x = 2, find y and a_3."
ALGEBRA_TRACE = r"""Step 1: From 2x+3y = 7 and x = 2 we get 3y = 3, so y = 1.
Step 2: a_2 = a_1^2 - 1 = 3 and a_3 = a_2^{2} - 1 = 8.
Step 3: The root \sqrt{9} = 3 and \dfrac{16}{2} = 8 agree; forty-two is not involved.
Final Answer: $\boxed{8}$"""

MATH_EXAMPLES: list[dict[str, Any]] = [
    {
        "trace": MATH_TRACE,
        "domain": "math",
        "question": MATH_QUESTION,
        "answers": ["6"],
        "critical_spans": [
            {"text": "24", "kind": "value"},
            {"text": "18", "kind": "value"},
            {"text": "6", "kind": "answer"},
        ],
    },
    {
        "trace": ALGEBRA_TRACE,
        "domain": "math",
        "question": ALGEBRA_QUESTION,
        "answers": ["8"],
        "critical_spans": [{"text": "8", "kind": "answer"}],
    },
]

CODE_TRACE = '''I will sort the numbers and take the k-th one with `sorted(nums)[k - 1]`,
using `nums` and `heapq.heappush`.

```python
@functools.cache
def kth_smallest(
    nums: tuple[int, ...],
    k: int,
) -> int:
    """Return the k-th smallest number."""
    ordered = sorted(nums)
    return ordered[k - 1]
```

Quick check:
>>> kth_smallest((3, 1, 2), 2)
2

best = kth_smallest((5, 4), 1)
print(best)
Output: 4
For the sample the function returns 42. Then return the list as it is.
<python>
def area(width: int, height: int) -> int:
    return width * height
print(area(6, 7))
</python>
<output>42</output>
<answer>42</answer>'''

CODE_EXAMPLES: list[dict[str, Any]] = [
    {
        "trace": CODE_TRACE,
        "domain": "code",
        "question": "Return the k-th smallest number of a list.",
        "answers": ["42"],
        "critical_spans": [],
    }
]

_FIRST = ["Marin", "Ilse", "Joren", "Talia", "Brann", "Ysolde", "Kerrin", "Odalys", "Fenn", "Sabel"]
_LAST = ["Okafor", "Varnek", "Abeyta", "Morrow", "Quillan", "Dastrup", "Renholt", "Ivaska", "Plume", "Tarvos"]
_PLACES = ["Veldra", "Dorvik", "Brisk", "Thule", "Mardin", "Sorrel", "Ankor", "Pell", "Yarrow", "Cobb"]
_WORKS = ["Blue Harbor", "Silent Field", "Red Lantern", "Glass Orchard", "Night Ferry", "Iron Bloom"]


def synthetic_search_records(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` two- and three-hop search records in the style of :data:`SEARCH_EXAMPLES`.

    The names of the two- and three-hop examples are swapped for others drawn from small pools;
    look-alike distractors keep their one-letter difference.

    Args:
        count: how many records.
        seed: the random seed; equal seeds give equal records.

    Returns:
        Audit records with ground-truth critical spans.
    """
    rng = random.Random(seed)
    records = []
    for index in range(count):
        template = SEARCH_EXAMPLES[index % 2]
        director, founder = rng.sample([f"{a} {b}" for a in _FIRST for b in _LAST], 2)
        answer, hometown, studio = rng.sample(_PLACES, 3)
        work = rng.choice(_WORKS)
        swaps = {
            "Blue Harbor": work,
            "Blue Harbour": work + "e",
            "Marin Okafor": director,
            "Marin Okafer": director[:-1] + "i",
            "Joren Abeyta": founder,
            "Abeyta": founder.split()[1],
            "Tessaly Studios": f"{studio} Studios",
            "tessaly studios": f"{studio.lower()} studios",
            "Veldra": answer,
            "Dorvik": hometown,
        }
        pattern = re.compile("|".join(re.escape(old) for old in sorted(swaps, key=len, reverse=True)))

        def swap(text: str, table: dict[str, str] = swaps, names: re.Pattern[str] = pattern) -> str:
            return names.sub(lambda match: table[match.group()], text)

        records.append(
            {
                "trace": swap(template["trace"]),
                "domain": "search",
                "question": swap(template["question"]),
                "answers": [swap(a) for a in template["answers"]],
                "critical_spans": [
                    {"text": swap(s["text"]), "kind": s["kind"]} for s in template["critical_spans"]
                ],
            }
        )
    return records
