"""The SMEPO experiment in miniature: GRPO with no, prefix, full and masked guidance, several seeds.

    python agents/compare_guidance.py                      # the full comparison (hours on a CPU)
    python agents/compare_guidance.py --quick --model DIR  # the two-step smoke version
    python agents/compare_guidance.py --starting_point     # each mode's success before RL, on dev
    python agents/compare_guidance.py --arms none masked --seeds 0 1 2 3 --max_steps 60

Resumable: run the same command again after a stop; finished runs are skipped and a killed run
continues from its last checkpoint. See ``--help`` and :mod:`smepo_env.experiments.cli`.
"""

import os
import sys

from smepo_env.experiments.cli import main

if __name__ == "__main__":
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    sys.exit(main())
