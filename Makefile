# The front door. `make run` starts the whole system; `make test` runs every test.
# Both set up what they need (uv, the locked environment, Kafka jars, Postgres binaries).
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv
PYTEST_ARGS ?=

.PHONY: help setup run test test-unit lint typecheck format migrate bench bench-store bench-judge \
        bench-evaluator bench-chat bench-replay bench-rebuild faults score rescore ops kafka compose-up compose-down clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: ## Install uv and the locked Python environment
	@deploy/scripts/bootstrap.sh
	@# Bytecode compiled once here: uv does not by default, and where PYTHONDONTWRITEBYTECODE is
	@# set nothing caches it, so every service start recompiled its libraries (an import took
	@# 3.4-5.0 s of CPU instead of 1.2-1.5 s). Re-checking a compiled environment takes 0.7 s.
	@$(UV) sync --frozen --quiet --compile-bytecode

run: setup ## Start Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), the topics and the four services
	@$(UV) run --frozen python -m interview_localinfra.system

test: setup ## Every test: unit, integration (real Kafka + Postgres) and end-to-end
	@deploy/scripts/bootstrap.sh --test
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: setup ## Only the tests that need no infrastructure
	@$(UV) run --frozen pytest tests/unit tests/evaluator_llm $(PYTEST_ARGS)

lint: setup ## ruff check and format check
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .

# Test folders are checked one at a time: each has its own conftest module.
TEST_DIRS := tests/unit tests/integration tests/e2e tests/faults tests/compose tests/evaluator_llm tests/store tests/plugins
typecheck: setup ## mypy --strict
	@$(UV) run --frozen mypy shared deploy bench services
	@for d in $(TEST_DIRS) "tests/conftest.py tests/support.py tests/settings_env.py tests/kustomize_render.py tests/fake_openai.py tests/chat_support.py"; do \
	  MYPYPATH=tests:tests/evaluator_llm $(UV) run --frozen mypy --no-error-summary $$d || exit 1; \
	done; echo "mypy: no issues"

format: setup ## Apply ruff's formatting and safe fixes
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

migrate: setup ## Apply database migrations to DATABASE_URL (or POSTGRES_*)
	@$(UV) run --frozen python -m interview_store.migrate upgrade

bench: setup ## The whole system under load, as ratios to same-run baselines: make bench ARGS="--quick"
	@deploy/scripts/bootstrap.sh --bench
	@$(UV) run --frozen python -m interview_bench $(ARGS)

bench-store: setup ## Store ingest and listing benchmark (memory vs Postgres vs raw COPY)
	@deploy/scripts/bootstrap.sh --test
	@$(UV) run --frozen python -m interview_store.bench

bench-rebuild: setup ## Rebuild of 100,000 events into an empty Postgres vs the live ingest rate (docs/performance.md)
	@deploy/scripts/bootstrap.sh --test
	@$(UV) run --frozen python -m interview_store.bench_rebuild $(ARGS)

bench-judge: setup ## Scorers vs human graders (JUDGE=llm with a real key; ARGS="--golden F")
	@$(UV) run --frozen python -m interview_evaluator.cli bench-judge $(if $(JUDGE),--judge $(JUDGE)) $(ARGS)

bench-evaluator: setup ## Evaluator service throughput vs a raw aiokafka relay
	@$(UV) run --frozen python -m interview_evaluator.bench_service

bench-chat: setup ## Interviewer time to first token: gateway + Kafka vs the model directly
	@deploy/scripts/bootstrap.sh --test
	@$(UV) run --frozen python services/chat/bench/ttft.py

bench-replay: setup ## Replay rate vs the live drain, and live p99 during a replay (docs/replay.md)
	@deploy/scripts/bootstrap.sh --test
	@$(UV) run --frozen python -m interview_evaluator.bench_replay

faults: setup ## Fault suite R1-R5 on both stores; table to docs/reliability.md (ARGS="--chaos-minutes 5")
	@deploy/scripts/bootstrap.sh --test
	@$(UV) run --frozen python -m interview_faults $(ARGS)

score: setup ## Score a JSONL file offline: make score IN=answers.jsonl OUT=scores.jsonl
	@test -n "$(IN)" && test -n "$(OUT)" || { echo "usage: make score IN=answers.jsonl OUT=scores.jsonl" >&2; exit 2; }
	@$(UV) run --frozen python -m interview_evaluator.cli score "$(IN)" "$(OUT)"

rescore: setup ## Re-score answers from the Kafka log: make rescore ARGS="--since 2026-10-01 --max-cost-usd 5"
	@$(UV) run --frozen python -m interview_evaluator.cli rescore $(ARGS)

ops: setup ## Operations CLI: make ops ARGS="topics" (or groups, dead-letters count|inspect)
	@$(UV) run --frozen python -m interview_localinfra.ops $(ARGS)

kafka: setup ## Run only a local Kafka broker in the foreground
	@$(UV) run --frozen python -m interview_localinfra kafka --port 9092

compose-up: setup ## Build and start docker-compose.yml detached; wait for the gateway (COMPOSE_OFFLINE=1: stand-in images)
	@deploy/compose/compose.sh up

compose-down: ## Remove the compose stack, its volumes included
	@deploy/compose/compose.sh down

clean: ## Remove local state (Kafka data of make run, caches); keeps the Kafka jars
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache .hypothesis
