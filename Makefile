# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench check messages clean

$(BIN)/python: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/python

## run: the portal on its embedded default (SQLite, filesystem broker, mail in var/mail/)
run: export DJANGO_DEBUG ?= 1
run: export PORTAL_BIND ?= $(HOST):$(PORT)
run: export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
run: $(BIN)/python
	mkdir -p var/mail var/broker var/broker-control
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Customer portal: http://$(PORTAL_BIND)/   (admin: http://$(PORTAL_BIND)/admin/)"
	@echo "  Emails: printed below and saved in var/mail/"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

## test: the whole suite (service and browser tests run where their services are up)
test: $(BIN)/python
	@# axe-core for the accessibility browser tests, where npm is installed
	@test -d tools/axe/node_modules || ! command -v npm >/dev/null || npm ci --prefix tools/axe --no-audit --no-fund --silent
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: benchmarks, each against a baseline measured in the same run
bench: $(BIN)/python
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider -s $(PYTEST_ARGS)

check: $(BIN)/python
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=1 $(BIN)/python manage.py check

messages: $(BIN)/python
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l es -l fr --ignore=.venv --ignore=var
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf var/broker var/broker-control var/celerybeat-schedule*
