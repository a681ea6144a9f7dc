# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test venv clean-data

$(BIN)/activate:
	@command -v $(PYTHON) >/dev/null || { echo "need Python 3.11 (python3.11 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

run: venv
	PORT=$(PORT) $(BIN)/casefile run

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

clean-data:
	rm -rf var/
