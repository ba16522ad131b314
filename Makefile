# oncallgen: `make generate` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPECS  ?= specs
OUTPUT ?= output
# Extra targets for every service, e.g. TARGETS="operator mimir" (specs ask per service with spec.deploy.targets).
# Empty: the targets recorded in $(OUTPUT)/.oncallgen-manifest by the last generate; TARGETS=none drops them.
TARGETS ?=
# Thanos Ruler shards, e.g. SHARDS=4: the thanos target's files split across 4 rulers. Empty: the shards recorded in
# $(OUTPUT)/.oncallgen-manifest by the last generate (none: not split); SHARDS=1 drops them.
SHARDS ?=
# What `make diff` compares with, e.g. BASE=origin/main.
BASE   ?= HEAD
TARGET_FLAGS := $(foreach t,$(TARGETS),--target $(t)) $(if $(SHARDS),--shards $(SHARDS))

.PHONY: all generate test test-fast check diff e2e bench bench-eval golden mutation tools screenshots release clean

all: generate

# A virtualenv with the package (editable) and its test dependencies; redone when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# prometheus, promtool, prometheus-alertmanager and amtool from Debian's prometheus and prometheus-alertmanager packages;
# envsubst (gettext-base) fills the Mimir Alertmanager configuration's secret placeholders in its test; chromium
# (headless) draws the HTML reports in theirs, which are skipped, not failed, where it cannot be installed.
tools:
	@if command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 && \
	    command -v prometheus >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 && \
	    command -v envsubst >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing prometheus, promtool, alertmanager, amtool and envsubst (Debian packages prometheus, prometheus-alertmanager, gettext-base)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    prometheus prometheus-alertmanager gettext-base >/dev/null; \
	else \
	  echo "prometheus/promtool/alertmanager/amtool/envsubst not found: run 'sudo apt-get install prometheus prometheus-alertmanager gettext-base'" >&2; exit 1; \
	fi
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium (Debian package chromium): it draws the HTML reports in their tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	    >/dev/null) || echo "chromium could not be installed: the tests that draw the HTML reports are skipped" >&2; \
	else \
	  echo "chromium not found ('sudo apt-get install chromium'): the tests that draw the HTML reports are skipped" >&2; \
	fi

generate: $(STAMP)
	$(BIN)/oncallgen generate $(SPECS) -o $(OUTPUT) $(TARGET_FLAGS)

# Every test: the fast tier and every promtool, amtool and prometheus proof (each run once), on every core (xdist),
# the slowest tests listed at the end. What CI and the README run.
test: $(STAMP) tools
	$(BIN)/python -m pytest -q -n auto --dist worksteal --durations=15

# The fast tier, for every change: compiled objects, schema, loader, errors, the CLI; no promtool, amtool or server
# (tests marked `proof` are left out, and one that starts such a tool fails). Under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q --fast -n auto

# The staleness gate: fails when output/ is not what the specs compile to.
check: $(STAMP)
	$(BIN)/oncallgen generate $(SPECS) -o $(OUTPUT) $(TARGET_FLAGS) --check

# What the specs change in alerting against $(OUTPUT)/ as committed at $(BASE); exits 4 when behaviour changes.
diff: $(STAMP)
	$(BIN)/oncallgen diff $(SPECS) -o $(OUTPUT) --base $(BASE) $(TARGET_FLAGS)

# The whole chain in real Prometheus and Alertmanager (Debian's), on loopback, once under each generation of OTel
# GenAI names: about 8 minutes each, bounded at 10.
e2e: $(STAMP) tools
	$(BIN)/python -m pytest -q -s -m e2e tests/e2e

# Mutants of every threshold, comparison and `for` in the compiled rules, judged by the generated and hand-written
# promtool tests (score per signal), after the reviewer's six changes of issue 8 (also run by make test). Tens of
# minutes on 2 cores.
mutation: $(STAMP) tools
	$(BIN)/python -m pytest -q -n auto tests/test_review_changes.py
	$(BIN)/python -m tests.mutation

bench: $(STAMP)
	$(BIN)/python -m tests.bench --oncall

# What the generated rules cost the real Prometheus that evaluates them, at 25, 50 and 100 services with their
# history backfilled, extrapolated to 1,000 (docs/benchmark.md). About 15 minutes a size on 2 cores.
bench-eval: $(STAMP) tools
	$(BIN)/python -m tests.bench_eval

# Regenerate the golden files (output trees, diff reports), docs/spec-reference.md and oncallgen.schema.json
# after an intended change; review the diff.
golden: $(STAMP)
	UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py tests/test_readme.py tests/test_diff.py \
	  tests/test_schema_file.py

# Tag this commit v<version of pyproject.toml>, the `rev:` other repositories pin for the pre-commit hooks; refuses
# a tree with uncommitted changes and a version already tagged (bump pyproject.toml's version first). Push the tag.
VERSION = $(shell sed -n '/^\[project\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' pyproject.toml)
release:
	@test -n "$(VERSION)" || { echo "release: no version in pyproject.toml's [project]" >&2; exit 1; }
	@test -z "$$(git status --porcelain)" || \
	  { echo "release: the tree has uncommitted changes: commit or stash them first" >&2; exit 1; }
	@! git rev-parse -q --verify "refs/tags/v$(VERSION)" >/dev/null || \
	  { echo "release: tag v$(VERSION) exists: bump the version in pyproject.toml" >&2; exit 1; }
	git tag -a "v$(VERSION)" -m "oncallgen $(VERSION)"
	@echo "tagged v$(VERSION); publish it with: git push origin v$(VERSION)"

# docs/report.png and docs/backtest.png: the HTML reports of the tests' histories, drawn by headless Chromium.
screenshots: $(STAMP) tools
	$(BIN)/python -m tests.screenshots

clean:
	rm -rf $(VENV) .pytest_cache
