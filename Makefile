# Silent Scalper — one entry point for people and CI.
#   make demo   set up, then run the whole pipeline offline on the local stack
#   make test   set up, then lint, type-check, validate + build the SAM app, run every test
#   make bench  set up, then run the benchmarks (results in benchmarks/results/)
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The venv's bin goes first on PATH: `sam build` looks for a `python3.13` executable there.
export PATH := $(abspath $(BIN)):$(PATH)
export SAM_CLI_TELEMETRY := 0
# The venv is installed without bytecode (below): the tools and tests write it as they
# import, so a PYTHONDONTWRITEBYTECODE from outside would make every process compile
# everything it imports. (The local stack's Lambda workers still set it, as Lambda's
# read-only code folder does.)
unexport PYTHONDONTWRITEBYTECODE
export AWS_DEFAULT_REGION ?= us-east-1
PYTEST_ARGS ?=
# checkov pins boto3 1.35.x, which aws-sam-cli's exact boto3 pin excludes: it gets its own venv,
# rebuilt only when its bounds change (they are in the stamp's name). New checkov checks arrive
# in minor releases, so the upper bound keeps CI from failing on a scanner upgrade.
CHECKOV_VENV  := .venv-checkov
CHECKOV_MIN   := 3.3.30
CHECKOV_BELOW := 3.4
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_MIN)-$(CHECKOV_BELOW)
SCAN_OUT      := build/security/template.cfn.json

.PHONY: help setup lint fmt types sam scan test unit fuzz demo bench arm64-check clean

help:
	@echo "make demo    run the pipeline offline on the local stack (sets up first)"
	@echo "make test    lint, types, sam validate --lint, sam build, every test (sets up first)"
	@echo "make lint    ruff + mypy strict"
	@echo "make scan    cfn-lint (+serverless rules), our checks, checkov on the SAM and transformed template"
	@echo "make fuzz    the differential suite (engine vs JSON Schema) with many random examples"
	@echo "make bench   benchmarks -> benchmarks/results/"
	@echo "make arm64-check  the built layer on arm64 under qemu, against this machine"

$(STAMP): pyproject.toml setup.py layers/core/silent_scalper/engine/_native.c layers/core/requirements.txt scripts/find-python.sh
	@py=$$(sh scripts/find-python.sh) || exit 1; \
	  if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	    echo "creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV) || exit 1; \
	  fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# --no-compile: pip byte-compiles all ~10,000 installed modules one by one (about a
	@# minute here); Python compiles and caches each module the first time one is imported.
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	@touch $@

setup: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# Every handler is an app.py, so each is checked on its own (same strict config).
	@for f in functions/*/app.py; do $(BIN)/mypy --no-error-summary $$f || exit 1; done
	$(BIN)/mypy --no-error-summary layers/core/finish_layer.py

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sam: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/sam build --template template.yaml --parallel --cached

$(CHECKOV_STAMP): scripts/find-python.sh
	@py=$$(sh scripts/find-python.sh) || exit 1; \
	  echo "creating $(CHECKOV_VENV) with $$py"; rm -rf $(CHECKOV_VENV); "$$py" -m venv $(CHECKOV_VENV) || exit 1
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --no-compile 'checkov>=$(CHECKOV_MIN),<$(CHECKOV_BELOW)'
	@touch $@

# Security scanners, offline, failing on any finding (docs/security.md).
scan: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	$(BIN)/python -m scalper.security --template template.yaml --out $(SCAN_OUT)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --framework cloudformation \
	  --skip-download --quiet --compact -f template.yaml -f $(SCAN_OUT)

# Two workers (or more on a bigger machine): tests sharing a local stack stay together on
# one worker (--dist loadgroup in pyproject.toml, groups from tests/conftest.py).
PYTEST_WORKERS ?= auto
unit: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The checks and pytest share nothing, and the checks spend much of their time waiting on
# pip and the disk, so all four run side by side (each one's output kept together and
# printed when it ends); pytest's own workers take every core.
test: $(STAMP)
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint sam scan unit

# The differential suite with the `fuzz` Hypothesis profile: random seeds, many examples
# (the default run in `make test` is a few seconds with a fixed seed). docs/testing.md.
fuzz: $(STAMP)
	$(BIN)/pytest tests/differential -p no:cacheprovider --hypothesis-profile=fuzz $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/scalper demo

# The peers (jsonschema, frictionless) live in the `bench` extra; BENCH_ARGS e.g. --quick.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The layer `sam build` made, run on arm64 under qemu-user (docs/deploying.md). Not part of
# `make test`: it needs qemu-aarch64-static and fetches Debian's arm64 python3.13 once.
arm64-check: sam
	$(BIN)/python scripts/check_arm64_layer.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build/security .aws-sam .mypy_cache .ruff_cache .pytest_cache
	find layers -name '*.so' -delete
