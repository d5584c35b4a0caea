# Two commands do all the set-up: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CRM_PORT ?= 8000
export CRM_DATABASE_URL ?= sqlite:///var/crm.db
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
CRM := .venv/bin/crm

.PHONY: help install run run-postgres test bench bench-scoring clean

help:
	@echo "make run    install what is missing, migrate, load demo data, start the services"
	@echo "make test   install what is missing and run the whole test suite"
	@echo "make run-postgres   like make run, on the local PostgreSQL"
	@echo "make bench  run the benchmarks (slow; see docs/benchmarks.md)"

.tools/bin/uv:
	@python3 -m venv .tools && .tools/bin/pip install -q uv \
	  || { echo "Could not install uv from PyPI: check the network or proxy, or install uv yourself (https://docs.astral.sh/uv/)." >&2; exit 1; }

# Stamps make a second `make install` instant; they are renewed when a lock file changes.
.venv/.installed: pyproject.toml uv.lock | $(UV)
	@$(UV) sync --frozen --quiet \
	  || { echo "Installing the CRM environment failed (see uv's output above); retry make install, or delete .venv and retry." >&2; exit 1; }
	@touch $@

bot/.venv/.installed: bot/pyproject.toml bot/uv.lock | $(UV)
	@py=$$(scripts/find-python310) || exit 1; \
	$(UV) sync --frozen --quiet --project bot --python "$$py" \
	  || { echo "Installing the assistant environment failed (see uv's output above); retry make install, or delete bot/.venv and retry." >&2; exit 1; }
	@touch $@

install: .venv/.installed bot/.venv/.installed

run: install
	@scripts/check-port $(CRM_PORT) "the CRM" CRM_PORT
	@mkdir -p var
	@$(CRM) db upgrade
	@$(CRM) seed --demo --if-empty
	@echo "CRM: http://localhost:$(CRM_PORT)  (API docs at /docs; demo sign-in agent@example.com / demo-password-1)"
	@scripts/run-all "crm=$(CRM) serve --port $(CRM_PORT)"

# The docker-compose topology without Docker: the CRM on the local PostgreSQL.
run-postgres:
	@createdb -h 127.0.0.1 -U postgres crm 2>/dev/null || true
	@$(MAKE) --no-print-directory run CRM_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/crm

test: install
	@.venv/bin/python -m pytest $(PYTEST_ARGS)

bench: install
	@.venv/bin/python bench/run.py $(BENCH_ARGS)

# Features, training and batch scoring on an already seeded database (see bench/scoring.py).
bench-scoring: install
	@.venv/bin/python bench/scoring.py $(BENCH_ARGS)

clean:
	rm -rf .venv bot/.venv .tools var .pytest_cache
