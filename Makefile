# The two README commands: `make demo` (install + run the demo) and `make test` (install + run the tests).
# TORCH_INDEX: a CPU wheel index for machines without a local CPU torch wheel, e.g.
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu
PYTHON ?= python3
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: venv demo app test lint bench bench-weekly eval clean

venv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))

demo: venv
	$(BIN)/pip install -q -e ".[app]"
	$(BIN)/insight demo
	@echo "Open the review app with:  $(BIN)/insight app   (then browse to http://localhost:8501)"

app:
	$(BIN)/insight app

test: venv
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	@# the unit tests once more with the store on PostgreSQL (a throwaway cluster, or $$INSIGHT_TEST_PG_URL)
	@if [ -n "$$INSIGHT_TEST_PG_URL" ] || command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; \
	then INSIGHT_TEST_STORE=postgresql $(BIN)/python -m pytest -q -m "not integration and not ui"; \
	elif [ -n "$$INSIGHT_REQUIRE_POSTGRES" ]; then echo "PostgreSQL is required here but not installed" >&2; exit 1; \
	else echo "PostgreSQL not installed: the store tests ran on SQLite only (apt-get install postgresql)"; fi

bench:
	$(BIN)/python benchmarks/embed_speed.py
	$(BIN)/python benchmarks/theme_speed.py --sizes 20000
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_clean.py
	$(BIN)/python benchmarks/bench_neighbours.py

bench-weekly:  # a weekly run with 10,000 new items on a store of 1,000,000 (builds the store once: ~10 min cold)
	$(BIN)/python benchmarks/weekly_scale.py

clean:
	rm -rf .insight build *.egg-info
