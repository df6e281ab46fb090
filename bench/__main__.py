"""`python -m bench` (what `make bench` runs); `python -m bench rules-diff` runs the what-if replay figure alone."""

import sys

from bench.run import run_bench, run_rules_diff

if sys.argv[1:] == ["rules-diff"]:
    sys.exit(run_rules_diff())
if sys.argv[1:]:
    sys.exit(f"usage: python -m bench [rules-diff] (unknown: {' '.join(sys.argv[1:])})")
sys.exit(run_bench())
