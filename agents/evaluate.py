"""Evaluate policies on the bundled QA benchmarks, offline.

    python agents/evaluate.py --policy oracle --benchmark fictional-world --split test
    python agents/evaluate.py --policy no-search --policy first-entity --limit 200
    python agents/evaluate.py --policy runs/grpo/final --benchmark all

See ``--help`` and :mod:`smepo_env.evaluation.cli`.
"""

import sys

from smepo_env.evaluation.cli import main

if __name__ == "__main__":
    sys.exit(main())
