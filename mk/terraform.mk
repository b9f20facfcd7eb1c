# Terraform, verified offline (this project's machines cannot download providers, so there is no
# `terraform validate` in `make test`): the formatter, the AWS provider schema and references
# (tools/terraform/check.py), checkov, and tests/terraform's structural tests (run by pytest).

TF_DIRS := . $(wildcard modules/*) $(wildcard examples/*)
TF_FILES := $(wildcard *.tf modules/*/*.tf examples/*/*.tf)
CHECKOV_VENV := .venv-checkov

.PHONY: tf-check tf-fmt tf-format tf-schema tf-schema-check tf-checkov validate lock-checkov

tf-check: tf-fmt tf-schema-check tf-checkov ## Offline Terraform checks: format, AWS provider schema and references, checkov

tf-fmt: node_modules/.installed ## Format check: terraform fmt where installed, else HashiCorp's formatter from @cdktf/hcl-tools
	@if command -v terraform >/dev/null 2>&1; then \
	  echo "terraform fmt -check"; terraform fmt -check -diff $(TF_FILES); \
	else node tools/terraform/fmt.mjs $(TF_FILES); fi

tf-format: node_modules/.installed ## Format the Terraform files
	@if command -v terraform >/dev/null 2>&1; then terraform fmt $(TF_FILES); \
	else node tools/terraform/fmt.mjs --write $(TF_FILES); fi

tf-schema-check: $(BIN)/.installed
	$(PY) tools/terraform/check.py $(TF_DIRS)

tf-schema: $(BIN)/.installed ## Regenerate tools/terraform/aws_provider_schema.json.gz from cdktn-provider-aws
	$(PY) tools/terraform/aws_schema.py

$(CHECKOV_VENV)/bin/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	touch $@

tf-checkov: $(CHECKOV_VENV)/bin/.installed ## checkov over the modules and examples (settings and skips: .checkov.yaml)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

lock-checkov: ## Re-resolve requirements/checkov.txt (latest checkov)
	rm -rf .venv-lock-checkov && $(PYTHON) -m venv .venv-lock-checkov
	.venv-lock-checkov/bin/pip install --quiet checkov
	{ sed -n '1,3p' requirements/checkov.txt; .venv-lock-checkov/bin/pip freeze; } > requirements/checkov.tmp
	mv requirements/checkov.tmp requirements/checkov.txt && rm -rf .venv-lock-checkov

validate: ## terraform init + validate in the root and both examples (needs terraform and provider downloads; not in make test)
	@command -v terraform >/dev/null 2>&1 || { echo "validate needs terraform on PATH"; exit 1; }
	@for dir in . examples/complete examples/localstack; do \
	  echo "== $$dir"; \
	  (cd $$dir && terraform init -backend=false -input=false >/dev/null && terraform validate) || exit 1; \
	done

.PHONY: docs

docs: $(BIN)/.installed ## Rewrite the generated docs: the modules' inputs and outputs (READMEs, docs/deploy.md), docs/api.md's OpenAPI tables
	PYTHONPATH=. $(PY) tools/terraform/module_docs.py
	PYTHONPATH=. $(PY) tools/openapi_doc.py
