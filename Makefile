# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# This checkout's runtime files (SQLite, broker folders, pid files, sockets, mail copies).
VAR_DIR := $(or $(PORTAL_VAR_DIR),var)
# What is installed in the virtualenv, by requirements file (stamps inside .venv/).
RUNTIME := $(VENV)/.installed-requirements
DEV := $(VENV)/.installed-requirements-dev
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet \
	--strip-extras --no-emit-index-url --no-emit-trusted-host --no-emit-find-links

.PHONY: run test bench check messages clean requirements upgrade install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The runtime only (web, worker, beat): what `make run` and a production machine need.
$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The runtime and the test and development tools (pytest, Playwright, the SMTP sink...).
$(DEV): requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## install, install-dev: the virtualenv with the runtime only, or with the tools too
install: $(RUNTIME)
install-dev: $(DEV)

# This checkout's development configuration, written once: DJANGO_DEBUG=1 and a
# generated DJANGO_SECRET_KEY, read by the settings in every process and every
# `manage.py` command (a variable set in the environment wins).
.env: | $(BIN)/python
	$(BIN)/python tools/dev_env.py .env

## run: the portal on its embedded default (SQLite, filesystem broker, mail in var/mail/)
run: export PORTAL_BIND ?= $(HOST):$(PORT)
run: export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
# SQLite takes one writer at a time: more worker processes than this would only queue.
run: export WORKER_CONCURRENCY ?= 2
run: $(RUNTIME) .env
	mkdir -p $(VAR_DIR)/mail $(VAR_DIR)/broker $(VAR_DIR)/broker-control
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Customer portal: http://$(PORTAL_BIND)/   (admin: http://$(PORTAL_BIND)/admin/)"
	@echo "  Emails: printed below and saved in $(VAR_DIR)/mail/"
	@echo
	@# --env /dev/null: the settings read .env themselves, after the real environment;
	@# honcho's own reading would let the file win over it.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile --env /dev/null

## test: the whole suite (service and browser tests run where their services are up)
test: $(DEV)
	@# axe-core for the accessibility browser tests, where npm is installed
	@test -d tools/axe/node_modules || ! command -v npm >/dev/null || npm ci --prefix tools/axe --no-audit --no-fund --silent
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: benchmarks, each against a baseline measured in the same run
bench: $(DEV)
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider -s $(PYTEST_ARGS)

check: $(DEV)
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=1 $(BIN)/python manage.py check

## requirements: pin again after a line was added to or removed from requirements*.in
requirements: $(DEV)
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

## upgrade: every pinned package (runtime and tools) to its newest allowed release
upgrade: $(DEV)
	$(PIP_COMPILE) --upgrade --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --upgrade --output-file requirements-dev.txt requirements-dev.in

messages: $(DEV)
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l es -l fr --ignore=.venv --ignore=var
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VAR_DIR)/broker $(VAR_DIR)/broker-control $(VAR_DIR)/celerybeat-schedule*
