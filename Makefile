# Balans: two commands do all the set-up on a fresh machine with Python 3.11.
#   make run    set up, then run the main job: the board members' app on the shipped case
#   make test   set up, then run the whole test suite (lint, format check, pytest, benchmark)
#   make lab    set up, then open the planners' workbench in JupyterLab
#   make hub    set up, then serve the app through JupyterHub on this machine (test login)
# Everything installs into .venv (pinned by constraints.txt); generated files go to build/.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

.PHONY: run lab test setup browser hub lint format bench bench-app clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Balans needs Python 3.11 (found %d.%d); set PYTHON=/path/to/python3.11" % sys.version_info[:2])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

run: setup
	$(BIN)/balans app

# The workbench in JupyterLab on localhost (the link with its token is printed). As root,
# JupyterLab refuses to start without --allow-root; LAB_ARGS adds more (e.g. --no-browser).
LAB_ARGS ?=
lab: setup
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS) notebooks/workbench.ipynb

# The browser tests drive Debian's Chromium (Playwright's own download does not work here)
# and run axe-core from the npm registry (the accessibility checks), into build/axe; the
# JupyterHub test runs configurable-http-proxy from npm, into build/chp.
AXE_VERSION := 4.14.1
CHP_VERSION := 5.3.0
browser:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -f build/axe/node_modules/axe-core/axe.min.js || { \
	  echo "Installing axe-core $(AXE_VERSION) from npm for the accessibility tests"; \
	  command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }; \
	  npm install --silent --no-audit --no-fund --prefix build/axe axe-core@$(AXE_VERSION) >/dev/null; }
	@test -x build/chp/node_modules/.bin/configurable-http-proxy || { \
	  echo "Installing configurable-http-proxy $(CHP_VERSION) from npm for the JupyterHub test"; \
	  command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }; \
	  npm install --silent --no-audit --no-fund --prefix build/chp configurable-http-proxy@$(CHP_VERSION) >/dev/null; }

# JupyterHub on this machine (deploy/jupyterhub/jupyterhub_config.py): the test login (one
# user, a password printed here), each user's server the Balans app; state in build/hub.
# The region's single sign-on instead: see README, "Serving the app".
HUB_PORT ?= 8000
HUB_USER ?= ledamot
hub: setup browser
	@pw=$${BALANS_HUB_PASSWORD:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(9))')}; \
	echo "Balans hub: http://127.0.0.1:$(HUB_PORT)/  user $(HUB_USER), password $$pw (Ctrl-C stops)"; \
	BALANS_HUB_AUTH=password BALANS_HUB_USERS=$(HUB_USER) BALANS_HUB_PASSWORD=$$pw BALANS_HUB_PORT=$(HUB_PORT) \
	  $(BIN)/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	$(BIN)/python benchmarks/bench_engine.py --quick
	$(BIN)/python benchmarks/bench_analysis.py --quick

lint: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup browser
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_analysis.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_hub.py

# The app's serving figures alone (first slider, redraw, 20 and 40 visitors at once, memory
# per viewer, kernels left after closing, the reload storm): about 20 minutes, one JSON line.
bench-app: setup browser
	$(BIN)/python benchmarks/bench_app.py --storm

clean:
	rm -rf build .pytest_cache .hypothesis
