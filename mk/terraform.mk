# Terraform, verified offline: the formatter, the AWS provider 6.x schema and references
# (tools/terraform/check.py), checkov and tests/terraform's structural tests (run by pytest); and
# for real where Terraform and an AWS provider 5.100-6.x are found (tools/terraform/workspace.py:
# TF_PLUGIN_DIR, the machine's filesystem mirror, a plugin cache, else the registry): `validate`
# here, and the apply / plan / destroy of examples/localstack in tests/localstack.

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

validate: $(BIN)/.installed ## terraform init + validate of the root and both examples on a copy of the sources (says NOT RUN, and why, without Terraform or a provider; TF_REQUIRE_PROVIDER=1 fails then)
	$(PY) tools/terraform/workspace.py . examples/complete examples/localstack

.PHONY: docs

docs: $(BIN)/.installed ## Rewrite the generated docs: the modules' inputs and outputs (READMEs, docs/deploy.md), docs/api.md's OpenAPI tables
	PYTHONPATH=. $(PY) tools/terraform/module_docs.py
	PYTHONPATH=. $(PY) tools/openapi_doc.py
