# The everyday verbs. `make run` serves the chat; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,postgres,dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	exec $(VENV)/bin/daphne -e tcp:port=$(PORT):interface=127.0.0.1:backlog=1024 \
		--websocket_connect_timeout 10 chatsite.asgi:application

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The benchmark (docs/performance.md): daphne + a throwaway Redis + a fresh SQLite, real
# users and sockets, ~10 minutes; results in bench-results/. BENCH_ARGS=--quick for a
# smoke run of a few seconds, e.g. `make bench BENCH_ARGS="--quick"`.
BENCH_ARGS ?=
bench: install
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	$(PY) bench/run.py $(BENCH_ARGS)
