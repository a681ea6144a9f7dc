# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test venv clean-data kafka tools pdf-tools

$(BIN)/activate:
	@command -v $(PYTHON) >/dev/null || { echo "need Python 3.11 (python3.11 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

run: venv pdf-tools
	PORT=$(PORT) $(BIN)/casefile run

# What printing a case file as PDF (WeasyPrint) needs of the system: Pango, HarfBuzz and a
# CJK font (apt-get, when missing).
pdf-tools:
	@bash scripts/pdf-tools.sh

# kcat (a Kafka client that is not kafka-python) for the stream's interoperability test.
tools: pdf-tools
	@command -v kcat >/dev/null || { command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq kcat >/dev/null) || \
	  echo "could not install kcat: install the Debian package kcat by hand"; }
	@bash scripts/browser-tools.sh $(VENV)

test: venv tools
	$(BIN)/pytest $(PYTEST_ARGS)

# A local Kafka 0.9.0.1 on 127.0.0.1:9092 (fetched with npm, run with Java), until Ctrl-C.
kafka:
	@bash scripts/kafka.sh run

clean-data:
	-@bash scripts/kafka.sh stop
	-@KAFKA_VAR=var/kafka-test bash scripts/kafka.sh stop
	rm -rf var/

# Benchmarks (issue 8): figures against ceilings measured in the same run; see docs/BENCHMARKS.md.
# BENCH_ARGS=--quick for a short run (CI), --only NAME[,NAME] for some of them.
.PHONY: bench
bench: venv
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
	  (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && \
	   apt-get install -y -qq wrk >/dev/null)) || \
	  echo "could not install wrk (the HTTP load client of b. and c.): the Python one is used"; }
	$(BIN)/pip install -q -e ".[test,bench]"
	$(BIN)/python -m bench.run $(BENCH_ARGS)
