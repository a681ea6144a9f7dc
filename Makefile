# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test venv clean-data kafka tools translations messages

$(BIN)/activate:
	@command -v $(PYTHON) >/dev/null || { echo "need Python 3.11 (python3.11 or python3)"; exit 1; }
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

run: venv translations
	PORT=$(PORT) $(BIN)/casefile run

# kcat (a Kafka client that is not kafka-python) for the stream's interoperability test.
tools:
	@command -v kcat >/dev/null || { command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq kcat >/dev/null) || \
	  echo "could not install kcat: install the Debian package kcat by hand"; }
	@bash scripts/browser-tools.sh $(VENV)

test: venv tools translations
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
