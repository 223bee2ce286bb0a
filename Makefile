# Quick start: `make run` serves the app; `make test` runs the whole suite. Only python3 is needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format messages bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/qianke init --demo-if-empty --host $(HOST) --port $(PORT)
	$(BIN)/qianke serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	bash scripts/test.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check qianke bench
	$(BIN)/ruff format --check qianke bench

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix qianke bench
	$(BIN)/ruff format qianke bench

# Regenerate the translation catalogue and compile it (needs GNU gettext).
messages: $(VENV)/.installed
	cd qianke && ../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete --settings=qianke.settings
	cd qianke && ../$(BIN)/django-admin compilemessages --settings=qianke.settings

bench: $(VENV)/.installed-test
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) build *.egg-info
