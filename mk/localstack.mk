# LocalStack on this host, no Docker needed (src/tatourney_local/localstack.py starts and stops it):
# .venv-localstack holds LocalStack's community runtime (Python 3.13) and our Lambda executor
# plugin (tools/localstack/executor); lambda-runtime/ the boto3 that Lambda's runtime provides,
# for the functions, which run under Python 3.12 (their Lambda runtime is python3.12); and
# lib/ddb-local-loader.jar the no-op agent LocalStack's DynamoDB Local is started with.
# Both interpreters come from pyenv (`pyenv install 3.13 3.12`) or PATH (python3.13, python3.12).

LOCALSTACK_VENV := .venv-localstack
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
# The newest pyenv Python $(1).x, else python$(1) on PATH.
find_python = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1)))
LOCALSTACK_PYTHON ?= $(call find_python,3.13)
LAMBDA_PYTHON ?= $(call find_python,3.12)
# build.py compiles the functions' bytecode with it too.
export LAMBDA_PYTHON
LOCALSTACK_SOURCES := requirements/localstack.txt requirements/lambda-runtime.txt \
	tools/localstack/executor/pyproject.toml $(wildcard tools/localstack/executor/*/*.py) \
	tools/localstack/dynamodb-agent/NoOpAgent.java tools/localstack/dynamodb-agent/MANIFEST.MF
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: localstack-install lock-localstack

localstack-install: $(LOCALSTACK_VENV)/.installed ## Install LocalStack for host mode (.venv-localstack: Python 3.13 and 3.12 from pyenv, javac)

$(LOCALSTACK_VENV)/.installed: $(LOCALSTACK_SOURCES)
	@test -n "$(LOCALSTACK_PYTHON)" || { echo "LocalStack (localstack-core 2026.3.0) needs Python 3.13: pyenv install 3.13, or LOCALSTACK_PYTHON=/path/to/python3.13" >&2; exit 1; }
	@test -n "$(LAMBDA_PYTHON)" || { echo "The functions run under Python 3.12 (Lambda's python3.12): pyenv install 3.12, or LAMBDA_PYTHON=/path/to/python3.12" >&2; exit 1; }
	scripts/ensure-os-packages java=openjdk-17-jre-headless javac=openjdk-17-jdk-headless
	rm -rf $(LOCALSTACK_VENV)
	$(LOCALSTACK_PYTHON) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/pip install $(PIP_QUIET) -r requirements/localstack.txt
	$(LOCALSTACK_VENV)/bin/pip install $(PIP_QUIET) --no-deps ./tools/localstack/executor
	rm -rf tools/localstack/executor/build tools/localstack/executor/*.egg-info
	ln -s $(LAMBDA_PYTHON) $(LOCALSTACK_VENV)/bin/lambda-python
	$(LAMBDA_PYTHON) -m pip install $(PIP_QUIET) --no-deps --target $(LOCALSTACK_VENV)/lambda-runtime -r requirements/lambda-runtime.txt
	mkdir -p $(LOCALSTACK_VENV)/lib/agent
	javac --release 11 -d $(LOCALSTACK_VENV)/lib/agent tools/localstack/dynamodb-agent/NoOpAgent.java
	jar --create --file $(LOCALSTACK_VENV)/lib/ddb-local-loader.jar --manifest tools/localstack/dynamodb-agent/MANIFEST.MF -C $(LOCALSTACK_VENV)/lib/agent NoOpAgent.class
	touch $@

# The direct pins are in localstack.in and lambda-runtime.in; these resolve them (pip freeze of
# fresh virtualenvs of the interpreters above).
lock-localstack: ## Re-resolve requirements/localstack.txt and lambda-runtime.txt from their .in files
	rm -rf .venv-lock-localstack && $(LOCALSTACK_PYTHON) -m venv .venv-lock-localstack
	.venv-lock-localstack/bin/pip install $(PIP_QUIET) -r requirements/localstack.in
	{ echo "# Resolved from localstack.in by \`make lock-localstack\` (pip freeze, Python 3.13). Do not edit by hand."; \
	  .venv-lock-localstack/bin/pip freeze; } > requirements/localstack.txt
	rm -rf .venv-lock-localstack && $(LAMBDA_PYTHON) -m venv .venv-lock-localstack
	.venv-lock-localstack/bin/pip install $(PIP_QUIET) -r requirements/lambda-runtime.in
	{ echo "# Resolved from lambda-runtime.in by \`make lock-localstack\` (pip freeze, Python 3.12). Do not edit by hand."; \
	  .venv-lock-localstack/bin/pip freeze; } > requirements/lambda-runtime.txt
	rm -rf .venv-lock-localstack
