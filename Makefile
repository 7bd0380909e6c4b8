# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, train the MNIST preset on the bundled digits, write figures + evaluation
#   make test   create .venv, run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(shell date +%Y%m%d-%H%M%S)
RUN ?= runs/demo-$(STAMP)

.PHONY: demo test env browser-deps clean

env: $(VENV)/.installed

# torch==2.13.0 first: a looser pin would pull a multi-GB CUDA build where no torch is installed.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: env
	$(VENV)/bin/infogan train --out $(RUN)
	$(VENV)/bin/infogan evaluate $(RUN)
	$(VENV)/bin/infogan report $(RUN)
	@echo "report: $(RUN)/report.html  figures: $(RUN)/figures/  evaluation: $(RUN)/evaluation.json"

# What the browser tests need, best effort (they skip, saying why, without it): Debian's Chromium (apt, as root) and
# onnxruntime-web for the static web export (npm pack, into build/), at the version infogan pins.
ORT_WEB_VERSION := $(shell sed -n 's/^ORT_WEB_VERSION = "\(.*\)"/\1/p' src/infogan/explore/web.py)
browser-deps:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "chromium not installed: the browser tests will skip"
	test -f build/onnxruntime-web-$(ORT_WEB_VERSION).tgz || (mkdir -p build && cd build && npm pack -q onnxruntime-web@$(ORT_WEB_VERSION)) \
		|| echo "onnxruntime-web not fetched: the web export's browser test will skip"

test: env browser-deps
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
