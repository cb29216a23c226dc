# Two commands do everything on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: test demo bench lint install clean llms-full

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src

test: lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/aural-mcp demo

# The bench extra (psutil) joins the dev venv; FastMCP and the npm tokenizer are installed by
# bench/run.py into the gitignored .bench-cache/ (see bench/RESULTS.md, "Set-up").
$(VENV)/.installed-bench: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py

llms-full: $(STAMP)
	$(BIN)/python -m aural_mcp.docs_gen > llms-full.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
