"""Audit the masking engine against the regex baseline on the bundled benchmarks.

python agents/audit_masking.py                       # every bundled benchmark + the realistic sets
python agents/audit_masking.py --benchmark fictional-world --limit 200
python agents/audit_masking.py --traces smepo_train.parquet --domain math
python agents/audit_masking.py --benchmark none       # the realistic sets only
"""

import sys
from pathlib import Path

from smepo_env.masking.audit_cli import main

REALISTIC_TRACES = Path(__file__).resolve().parents[1] / "tests" / "data" / "realistic_traces"

if __name__ == "__main__":
    sys.exit(main(default_realistic=REALISTIC_TRACES if REALISTIC_TRACES.is_dir() else None))
