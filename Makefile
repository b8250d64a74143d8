# Entry points. `make up` and `make test` each work as the first command on a fresh Debian 12.
.PHONY: up test lint services down install

up:  ## install, start databases, migrate, run web + worker + beat (Ctrl-C to stop)
	scripts/up.sh

test:  ## ruff, import-linter and pytest against real PostgreSQL and Redis
	scripts/test.sh $(ARGS)

lint: install  ## ruff and import-linter only
	.venv/bin/ruff check .
	.venv/bin/lint-imports

services: install  ## start PostgreSQL and Redis only
	scripts/services.sh start

down:  ## stop PostgreSQL, Redis and Cassandra
	scripts/services.sh stop

install:  ## system packages, .venv and Python packages, only what is missing
	scripts/install.sh
