# LabelDesk: `make run` opens the app, `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?=

.PHONY: run serve test bench screenshots setup system clean

run: setup
	$(BIN)/labeldesk start $(if $(DATA),--data-dir $(DATA))

serve: setup
	$(BIN)/labeldesk serve $(if $(DATA),--data-dir $(DATA))

# loadgroup: tests sharing one slow fixture (the Label Studio server) run on one worker.
test: setup
	$(BIN)/pytest -n 2 --dist loadgroup -q tests

bench: setup
	$(BIN)/python -m bench

# Refreshes docs/screenshots/ (shown in the README) from a demo data dir.
screenshots: setup
	$(BIN)/python scripts/screenshots.py

# Extra set-up steps (system packages, the labeling editor, model-server venv), one script each
# in scripts/setup.d/, run in name order; each is idempotent and quick once done.
setup: $(STAMP)
	@for step in scripts/setup.d/*.sh; do [ -e "$$step" ] || continue; \
	    VENV=$(VENV) bash "$$step" || exit 1; done

# System packages (python3-venv on Debian/Ubuntu); a no-op where they are present.
system:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml | system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[window,s3,test]'
	touch $@

clean:
	rm -rf $(VENV) .venv-ml .venv-ls build dist *.egg-info .pytest_cache
