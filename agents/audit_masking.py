"""Audit the masking engine against the regex baseline on the bundled benchmarks.

python agents/audit_masking.py                       # every bundled benchmark, test split
python agents/audit_masking.py --benchmark fictional-world --limit 200
python agents/audit_masking.py --traces smepo_train.parquet --domain math
"""

import sys

from smepo_env.masking.audit_cli import main

if __name__ == "__main__":
    sys.exit(main())
