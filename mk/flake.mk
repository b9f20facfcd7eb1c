# `make flake-hunt`: the whole suite several times in a row, each run in a new random order
# (pytest-random-order; the seed is printed, so a failing order can be replayed with
# `pytest --random-order-bucket=package --random-order-seed=<seed>`). Not part of `make test`: a run
# takes minutes.
#   make flake-hunt                                   5 runs, DynamoDB Local and LocalStack
#   make flake-hunt FLAKE_RUNS=3 FLAKE_BACKENDS=localstack
# FLAKE_BACKENDS chooses what the tests marked `localstack` run against (both, by default).

FLAKE_RUNS ?= 5
FLAKE_BACKENDS ?= dynamodb-local,localstack

.PHONY: flake-hunt

# The suite needs what `make test` installs: the venvs (checkov's too: its tests run it) and LocalStack.
flake-hunt: install localstack-install .venv-checkov/bin/.installed ## The whole suite FLAKE_RUNS times in a row, each in a new random order (FLAKE_BACKENDS=dynamodb-local|localstack)
	@for run in $$(seq 1 $(FLAKE_RUNS)); do \
	  seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	  echo "== flake hunt: run $$run of $(FLAKE_RUNS), --random-order-seed=$$seed, backends $(FLAKE_BACKENDS)"; \
	  $(BIN)/pytest -q -p no:cacheprovider --random-order-bucket=package \
	    --random-order-seed=$$seed --aws-backends $(FLAKE_BACKENDS) || exit 1; \
	done; echo "== flake hunt: $(FLAKE_RUNS) runs passed"
