PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install install-dev install-ml test test-postgres test-fuzz test-e2e lint format migrations-check bench clean serve-prod

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PRINTDESK_SEMANTIC=1 adds the ML extra (semantic product search) to run/test installs.
ML_STAMP := $(if $(filter 1,$(PRINTDESK_SEMANTIC)),$(VENV)/.installed-ml)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# torch==2.13.0 resolves to the CPU wheel on this machine's disk (see requirements-ml.txt).
$(VENV)/.installed-ml: requirements-ml.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-ml.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed $(ML_STAMP)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed $(ML_STAMP)

install-dev: $(VENV)/.installed-dev

install-ml: $(VENV)/.installed-ml

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver_embedded --host $(HOST) --port $(PORT)

# The production topology on this machine (docs/deploy.md): gunicorn for HTTP, daphne for /ws/,
# db_worker for tasks, behind a small router standing in for nginx. Plain HTTP on loopback, so the
# HTTPS-only settings are off; everything else is production (DEBUG off, hashed static files).
serve-prod: install
	export DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_HSTS_SECONDS=0 \
	  DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')}" \
	  REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" PUBLIC_BASE_URL="http://$(HOST):$(PORT)" \
	  DJANGO_ALLOWED_HOSTS="$(HOST),localhost"; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py collectstatic --noinput -v0 && \
	$(BIN)/python deploy/serve_prod.py --port $(PORT) $(SERVE_PROD_ARGS)

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi

test-postgres: install-dev
	DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The fuzz and browser suites (e2e/, outside testpaths) each start a live daphne server on a
# seeded SQLite file; they run once, not in both passes of `make test`.
test-fuzz: install-dev
	$(BIN)/python -m pytest e2e -m fuzz $(PYTEST_ARGS)

test-e2e: install-dev
	$(BIN)/python -m pytest e2e -m e2e $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# The peer (django-helpdesk) gets its own venv under bench/, never a project dependency.
bench/.peer-venv/bin/gunicorn: bench/peer/requirements.txt
	bash bench/peer/setup.sh
	touch $@

bench: install-dev bench/.peer-venv/bin/gunicorn
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
