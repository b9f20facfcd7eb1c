# tatourney: `make up` runs the whole system locally, `make test` runs lint and every test.
# Each target installs what it needs: the virtualenv from requirements/dev.txt, the npm
# packages from package-lock.json, and the OS packages it uses when they are missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.DEFAULT_GOAL := help
.PHONY: help install install-os test lint format lock package up down play bench bench-cold-start bench-large bench-quick test-localstack fault-matrix

# `make help` lists these first, in this order, and the other targets after them.
EVERYDAY_TARGETS := up down play test package
space := $() $()
TARGET_HELP := awk -F':.*\#\# ' '{printf "  %-16s %s\n", $$1, $$2}'

help: ## List the targets, everyday ones first
	@echo "Everyday:"
	@for target in $(EVERYDAY_TARGETS); do grep -hE "^$$target:.*## " $(MAKEFILE_LIST) | $(TARGET_HELP); done
	@echo "Everything else:"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | grep -vE '^($(subst $(space),|,$(EVERYDAY_TARGETS))):' | sort | $(TARGET_HELP)

$(BIN)/.installed: requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install-os: ## Install memcached, Java (the JDK: DynamoDB Local's loopback launcher runs from source), Chromium and openssl where missing
	scripts/ensure-os-packages memcached=memcached java=openjdk-17-jre-headless javac=openjdk-17-jdk-headless chromium=chromium openssl=openssl

install: $(BIN)/.installed node_modules/.installed install-os ## Install everything the targets need

lint: $(BIN)/.installed ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install localstack-install lint tf-check validate ## Lint, the Terraform checks (offline, and terraform validate), then every test (real memcached, DynamoDB Local and LocalStack on loopback)
	$(BIN)/pytest

lock: ## Re-resolve requirements/dev.txt from requirements/dev.in
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements/dev.in
	{ echo "# Resolved from dev.in by \`make lock\` (pip freeze of a fresh venv). Do not edit by hand."; \
	  .venv-lock/bin/pip freeze; } > requirements/dev.txt
	rm -rf .venv-lock


fault-matrix: install ## The fault matrix alone (tests/cluster: memcached nodes hung and killed); writes bench/results/fault-matrix.md and its table in docs/benchmarks.md
	$(BIN)/pytest tests/cluster --fault-matrix bench/results/fault-matrix.md
	$(PY) tools/readme_section.py docs/benchmarks.md fault-matrix bench/results/fault-matrix.md

test-localstack: install localstack-install ## Only the tests marked localstack, against LocalStack only (LOCALSTACK_ENDPOINT: one you run)
	$(BIN)/pytest -m localstack --aws-backends localstack

-include mk/*.mk
