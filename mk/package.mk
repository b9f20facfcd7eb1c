# Lambda packaging: build.py writes dist/<function>.zip and dist/manifest.json (reproducible;
# see build.py's docstring), with bytecode compiled by LAMBDA_PYTHON (Python 3.12, mk/localstack.mk).
# LAMBDA_ARCH must match the functions' architecture in Terraform.
LAMBDA_ARCH ?= arm64

.PHONY: clean

package: $(BIN)/.installed ## Build the Lambda zips and dist/manifest.json (LAMBDA_ARCH=arm64|x86_64)
	$(PY) build.py --arch $(LAMBDA_ARCH)

clean: ## Remove dist/
	rm -rf dist
