# storefront: `make run` serves the whole API locally; `make test` proves it.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export CARGO_TERM_COLOR ?= auto

FUNCTIONS := $(notdir $(wildcard functions/*))
ARM64 := aarch64-unknown-linux-gnu

.PHONY: help run reset test check lint unit e2e readme template lambda-build build-arm64 tools test-tools bench

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- tools (project-local)

$(VENV)/.run-tools: tools/requirements-run.txt
	@echo "==> installing cargo-lambda into $(VENV) (first run only)"
	@python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-run.txt
	@touch $@

$(VENV)/.test-tools: tools/requirements-test.txt $(VENV)/.run-tools
	@echo "==> installing aws-sam-cli and cfn-lint into $(VENV) (first run only)"
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-test.txt
	@touch $@

tools: $(VENV)/.run-tools

test-tools: $(VENV)/.test-tools
	@rustup component add rustfmt clippy >/dev/null 2>&1 || true
	@rustup target list --installed | grep -qx $(ARM64) || { echo "==> adding the $(ARM64) Rust target"; rustup target add $(ARM64); }

# ---------------------------------------------------------------- run

run: tools ## serve the whole API on http://127.0.0.1:$${STOREFRONT_PORT:-9000}, with demo data
	@echo "==> building storefront (debug; the first build takes a few minutes)"
	@cargo build --workspace --bins
	@./target/debug/storefront-local

reset: ## wipe local data (.local/): the table, the signing key, the seeded accounts
	@rm -rf "$${STOREFRONT_DATA_DIR:-.local}"
	@echo "local data wiped; the next 'make run' starts fresh"

# ---------------------------------------------------------------- test

test: test-tools check unit template lambda-build e2e readme ## everything that proves storefront works
	@echo "==> make test: all checks passed"

check: ## formatting and lints
	@echo "==> cargo fmt --check"
	@cargo fmt --all -- --check
	@echo "==> cargo clippy"
	@cargo clippy --workspace --all-targets --quiet -- -D warnings

unit: ## unit, integration (dynoxide) and function-level tests
	@echo "==> cargo test (unit, integration against dynoxide, function events, template agreement)"
	@cargo test --workspace --quiet

template: $(VENV)/.test-tools ## lint template.yaml offline
	@echo "==> cfn-lint template.yaml"
	@cfn-lint template.yaml
	@echo "==> sam validate --lint"
	@sam validate --lint

lambda-build: test-tools ## release build of every function for Lambda (arm64)
	@echo "==> cargo lambda build --release --arm64 ($(words $(FUNCTIONS)) functions)"
	@cargo lambda build --release --arm64 --quiet $(addprefix --package ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do test -f target/lambda/$$f/bootstrap || { echo "missing target/lambda/$$f/bootstrap"; exit 1; }; done
	@ls -l target/lambda/*/bootstrap | awk '{printf "    %-40s %6.1f MB\n", $$9, $$5/1048576}'

readme: test-tools ## run the README's walkthroughs, as written, against the local stack
	@echo "==> README walkthroughs, run as written against make run"
	@tests/readme.sh

# ---------------------------------------------------------------- bench

bench: ## measure every function as Lambda runs it; writes bench/RESULTS.md and bench/results.json
	@echo "==> building release binaries for the host with the Lambda profile ($(words $(FUNCTIONS)) functions + baseline)"
	@cargo build --release $(addprefix --package ,$(FUNCTIONS)) --package storefront-bench
	@./target/release/storefront-bench
	@python3 bench/quote_results.py

e2e: test-tools ## start the local stack exactly as `make run` does and drive it over HTTP
	@echo "==> end-to-end: make run, then register -> login -> me over HTTP"
	@tests/e2e.sh
