# The two commands a fresh machine needs:
#   make demo   start a complete local instance (source site and caseworker app)
#   make test   install everything the tests need and run the whole suite
PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test install

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Options for lumen demo, for example: make demo ARGS="--source-port 18080"
ARGS ?=

demo: install
	$(VENV)/bin/lumen demo $(ARGS)

test:
	tools/run-tests
