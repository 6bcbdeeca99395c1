# The two commands of the README: `make demo` and `make test`; `make docs` after changing a flag.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
SHARED ?= $(abspath ../shared)

.PHONY: demo test lint docs typecheck unit bench install install-dev wrapper-deps postgres-deps browser-deps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[server]'  # the demo's second part runs a team server
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(PY) examples/demo/demo.py

lint: install-dev
	$(VENV)/bin/ruff check core tests bench examples actions docs
	$(VENV)/bin/mypy --strict core/ docs/gen_cli_reference.py
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/hadolint Dockerfile
	$(PY) docs/gen_cli_reference.py --check

# docs/cli-reference.md from the live parsers (lint fails while it is stale).
docs: install
	$(PY) docs/gen_cli_reference.py

# The tools the wrapper tests drive (groovy, act, gitlab-ci-local), installed when missing.
wrapper-deps: install-dev
	@for script in tests/wrappers/install-*.sh; do sh "$$script" || exit 1; done

# PostgreSQL for the ledger conformance suite (Debian `postgresql`), installed when missing.
postgres-deps:
	@sh tests/ledger/install-postgresql.sh

# Debian's chromium for the web UI's browser tests (Playwright drives it), installed when missing.
browser-deps:
	@sh tests/ui/install-chromium.sh

unit: install-dev wrapper-deps postgres-deps browser-deps
	AFFIDAVIT_CORPUS=$${AFFIDAVIT_CORPUS:-$(SHARED)/corpus} \
	AFFIDAVIT_VECTORS=$${AFFIDAVIT_VECTORS:-$(SHARED)/vectors} \
	$(VENV)/bin/pytest -n 2 -q

test: lint unit

bench: install-dev
	$(PY) bench/run

clean:
	rm -rf $(VENV) .affidavit .pytest_cache .mypy_cache .ruff_cache
