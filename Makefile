# Two commands do all set-up on a fresh machine:
#   make demo   create .venv with infogan alone, train the MNIST preset on the bundled digits, write figures + evaluation
#   make test   create .venv with the test extras too, run the test suite
# and one more for the documentation site:
#   make docs   regenerate docs/reference/ from the code, build the site into site/ (mkdocs build --strict)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(shell date +%Y%m%d-%H%M%S)
RUN ?= runs/demo-$(STAMP)

.PHONY: demo test docs env env-demo browser-deps clean

env: $(VENV)/.installed
env-demo: $(VENV)/.installed-demo

# torch==2.13.0 first: a looser pin would pull a multi-GB CUDA build where no torch is installed.
$(VENV)/.torch:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	touch $@

# The demo needs the package alone: no test extras (pytest, hypothesis, Playwright, ONNX, TensorBoard, MkDocs).
$(VENV)/.installed-demo: pyproject.toml $(VENV)/.torch
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-demo

demo: env-demo
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

# One worker per core (-n auto), each one torch thread (tests/conftest.py); worksteal evens out the long tests.
test: env browser-deps
	$(PY) -m pytest -n auto --dist worksteal

docs: env
	$(PY) scripts/gen_docs.py
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache
