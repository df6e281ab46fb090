# SoSafe Referral Router. `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench mutation install system-packages schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

CONSOLE_ASSETS := services/triage/console/static/govuk/.built-from

# GOV.UK Frontend for the console and axe-core for its browser test, from npm. Best effort: offline,
# the script prints a note, exits 0, and the console serves its fallback stylesheet.
$(CONSOLE_ASSETS): services/triage/console/assets.sh
	@sh services/triage/console/assets.sh

install: $(STAMP) $(CONSOLE_ASSETS)

# Debian packages the suite uses: promtool (alert rule tests) and Chromium (console browser test).
# Best effort: without root or a package mirror the dependent tests skip and say why.
system-packages:
	@command -v promtool >/dev/null && command -v chromium >/dev/null || \
	  ( [ "$$(id -u)" = 0 ] && (apt-get install -y -q prometheus chromium >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q prometheus chromium >/dev/null 2>&1)) \
	    || echo "note: could not install promtool/chromium; the tests that need them will skip" )

run: install
	$(BIN)/sosafe dev

# lint-imports: no import cycle in services, triage's rooms layered ([tool.importlinter] in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The suite mostly waits (on brokers, rebalances, restarts), so three pytest workers share two cores well;
# each worker starts its own embedded brokers on free loopback ports. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3

test: install system-packages lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=15

# The benchmark lives in bench/ (outside the services, not in the installed package); see docs/benchmarks.md.
bench: install
	$(BIN)/python -m bench

# Mutation testing of the pure cores against the unit tests only (no broker); slow, so not in `make test`.
# One worker by default (MUTATION_JOBS=2 for two); writes the score per module to docs/quality.md.
mutation: install
	$(BIN)/python tests/mutation/run.py

schemas: install
	$(BIN)/python -m schemas.export

clean:
	rm -rf $(VENV) var test-output mutants .mypy_cache .pytest_cache .ruff_cache services/triage/console/static/govuk
