# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, train the MNIST preset on the bundled digits, write figures + evaluation
#   make test   create .venv, run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(shell date +%Y%m%d-%H%M%S)
RUN ?= runs/demo-$(STAMP)

.PHONY: demo test env clean

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
	@echo "figures: $(RUN)/figures/  samples: $(RUN)/samples/  evaluation: $(RUN)/evaluation.json"

test: env
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
