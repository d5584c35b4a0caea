# Two commands do all the set-up: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CRM_PORT ?= 8000
RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
export CRM_DATABASE_URL ?= sqlite:///var/crm.db
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
CRM := .venv/bin/crm
BOT := bot/.venv/bin
RASA_DATA := --data bot/data nlu_data --domain bot/domain --config bot/config.yml
MODEL := bot/models/assistant.tar.gz
# What the action server may do in the CRM (see docs/permissions.md).
ASSISTANT_SCOPES := identity:verify offers:show orders:read orders:write products:read customers:read \
  customers:write tickets:read tickets:write conversations:write
# The embedded default; run-postgres switches to PostgreSQL, Redis and RabbitMQ by these alone.
RASA_ENDPOINTS ?= bot/endpoints.yml
# bot/credentials.channels.yml adds Telegram, Slack and Facebook (docs/channels.md).
RASA_CREDENTIALS ?= bot/credentials.yml
export EVENTS_DB ?= var/rasa-events.db
export TRACKER_DB ?= var/rasa-tracker.db
export CRM_EVENTS_SOURCE ?= sql:sqlite:///$(EVENTS_DB)
# Rasa would otherwise report usage and errors to its vendor over the network.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install run run-postgres train test test-crm test-assistant nlu-report bench bench-scoring clean vendor-js

help:
	@echo "make run    install what is missing, migrate, load demo data, start the services"
	@echo "make test   install what is missing and run the whole test suite"
	@echo "make run-postgres   like make run, on the local PostgreSQL, Redis and RabbitMQ"
	@echo "make train  train the assistant's model (skipped when data and config are unchanged)"
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

# The web chat's socket.io client (socket.io-client 4.x, the line that speaks to Rasa 3.6's
# python-socketio 5.x) is vendored: the built file is committed in crm_backend/web/static/vendor/,
# so installing and running the CRM, and its Docker image (no Node there), need neither npm nor
# a network. web/package-lock.json pins the exact version with npm's integrity hashes; after
# changing the version in web/package.json, `make vendor-js` rebuilds the file from the lock and
# a test checks that the committed file is the locked version.
vendor-js:
	@cd web && npm install --ignore-scripts --no-audit --no-fund --silent && npm ci --ignore-scripts --no-audit --no-fund --silent
	@cp web/node_modules/socket.io-client/dist/socket.io.min.js crm_backend/web/static/vendor/socket.io.min.js
	@echo "vendored socket.io-client $$(node -p "require('./web/node_modules/socket.io-client/package.json').version")"

run: install
	@scripts/check-port $(CRM_PORT) "the CRM" CRM_PORT
	@scripts/check-port $(RASA_PORT) "the Rasa server" RASA_PORT
	@scripts/check-port $(ACTIONS_PORT) "the action server" ACTIONS_PORT
	@mkdir -p var
	@$(CRM) db upgrade
	@$(CRM) seed --demo --if-empty
	@$(CRM) models train --if-untrained
	@test -f $(MODEL) || $(MAKE) --no-print-directory train
	@# A new key whenever the assistant's scopes change.
	@test -s var/assistant-api-key -a "$$(cat var/assistant-api-key.scopes 2>/dev/null)" = "$(ASSISTANT_SCOPES)" \
	  || { $(CRM) apikeys create assistant --replace $(foreach s,$(ASSISTANT_SCOPES),--scope $(s)) > var/assistant-api-key \
	       && echo "$(ASSISTANT_SCOPES)" > var/assistant-api-key.scopes; }
	@test -s var/rasa-token || python3 -c 'import secrets; print(secrets.token_hex(24))' > var/rasa-token
	@echo "CRM: http://localhost:$(CRM_PORT)  (API docs at /docs; demo sign-in agent@example.com / demo-password-1)"
	@echo "Assistant: http://localhost:$(RASA_PORT)  (REST channel: POST /webhooks/rest/webhook)"
	@CRM_URL=http://localhost:$(CRM_PORT) CRM_API_KEY=$$(cat var/assistant-api-key) \
	 ACTION_SERVER_URL=http://localhost:$(ACTIONS_PORT)/webhook \
	 CRM_RASA_URL=http://localhost:$(RASA_PORT) CRM_RASA_TOKEN=$$(cat var/rasa-token) \
	 scripts/run-all "crm=$(CRM) serve --port $(CRM_PORT)" \
	  "events=$(CRM) events consume" \
	  "actions=$(BOT)/rasa run actions --actions actions --port $(ACTIONS_PORT)" \
	  "rasa=$(BOT)/rasa run --model $(MODEL) --enable-api --cors '*' --port $(RASA_PORT) \
	     --auth-token $$(cat var/rasa-token) \
	     --endpoints $(RASA_ENDPOINTS) --credentials $(RASA_CREDENTIALS)"

# The docker-compose topology without Docker: the CRM and Rasa's conversations on the local
# PostgreSQL, conversation locks in Redis, conversation events through RabbitMQ.
run-postgres:
	@createdb -h 127.0.0.1 -U postgres crm 2>/dev/null || true
	@$(MAKE) --no-print-directory run CRM_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/crm \
	  RASA_ENDPOINTS=bot/endpoints.production.yml \
	  TRACKER_DB_HOST=127.0.0.1 TRACKER_DB_PORT=5432 TRACKER_DB=rasa TRACKER_LOGIN_DB=postgres \
	  TRACKER_DB_USER=postgres TRACKER_DB_PASSWORD= REDIS_HOST=127.0.0.1 REDIS_PORT=6379 \
	  RABBITMQ_HOST=127.0.0.1 RABBITMQ_PORT=5672 RABBITMQ_USER=guest RABBITMQ_PASSWORD=guest \
	  CRM_EVENTS_SOURCE=amqp://guest:guest@127.0.0.1:5672/%2F?queue=rasa_events

# Rasa retrains only when the data, domain or config changed since the last model.
train: bot/.venv/.installed
	@mkdir -p bot/models
	@$(BOT)/rasa train $(RASA_DATA) --out bot/models --fixed-model-name assistant

test: test-crm test-assistant

test-crm: install
	@.venv/bin/python -m pytest $(PYTEST_ARGS)

# The assistant: data checks, story tests, NLU quality on the held-out set, then the real
# processes end to end (tests/assistant over Rasa's REST channel, tests/e2e in a browser).
test-assistant: install train
	@$(BOT)/rasa data validate $(RASA_DATA) --fail-on-warnings
	@$(BOT)/rasa test core --stories tests/assistant/stories --model $(MODEL) \
	  --fail-on-prediction-errors --out var/rasa-test-results
	@$(BOT)/python bench/nlu_quality.py --model $(MODEL)
	@$(BOT)/python -m pytest tests/assistant $(PYTEST_ARGS)
	@.venv/bin/python -m pytest tests/e2e $(PYTEST_ARGS)

nlu-report: train
	@$(BOT)/python bench/nlu_quality.py --model $(MODEL)

bench: install
	@.venv/bin/python bench/run.py $(BENCH_ARGS)

# Features, training and batch scoring on an already seeded database (see bench/scoring.py).
bench-scoring: install
	@.venv/bin/python bench/scoring.py $(BENCH_ARGS)

clean:
	rm -rf .venv bot/.venv .tools var .pytest_cache bot/models
