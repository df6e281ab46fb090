"""`python -m bench` (what `make bench` runs)."""

import sys

from bench.run import run_bench

sys.exit(run_bench())
