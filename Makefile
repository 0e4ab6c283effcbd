# LabelDesk: `make run` opens the app, `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?=

.PHONY: run serve test lint bench bench-1m screenshots setup test-setup system clean fuzz \
	assistants assistant-pack

run: setup
	$(BIN)/labeldesk start $(if $(DATA),--data-dir $(DATA))

serve: setup
	$(BIN)/labeldesk serve $(if $(DATA),--data-dir $(DATA))

test: test-setup lint
	$(BIN)/pytest -n 2 -q tests

# One line length and one import style (ruff), and the layers of docs/adr/0008-layout.md
# (import-linter's contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check desktop tests bench scripts packaging
	$(BIN)/lint-imports

# The UI figures need Debian's Chromium too (SETUP_FOR=bench installs it, nothing of the tests').
bench: $(STAMP)
	$(call steps,bench)
	$(BIN)/python -m bench

# The million-task figures of issue 23 (not part of `make bench`, ~20 minutes on 2 cores): the
# API at 1M tasks (import, RSS after import and restart, restart to healthy, data manager sort
# and filter, exports), a double click until the window shows the project list, 1M tasks in one
# file through the web app's Import dialog, and the store at 1M documents (open, compaction, the
# longest write while one runs in the background).
bench-1m: $(STAMP)
	$(BIN)/python -m bench api --tasks 1000000
	$(BIN)/python -m bench window --tasks 1000000
	$(BIN)/python -m bench ui --import-tasks 1000000
	$(BIN)/python -m bench store --docs 1000000 --no-tinydb --reps 1

# Refreshes docs/screenshots/ (shown in the README) from a demo data dir.
screenshots: test-setup
	$(BIN)/python scripts/screenshots.py

# Extra set-up steps (system packages, Label Studio's web app; for the tests also Chromium, Xvfb,
# a model server and Label Studio in venvs of their own), one script each in scripts/setup.d/,
# run in name order with SETUP_FOR=run, test or package; each is idempotent and quick once done.
steps = @for step in scripts/setup.d/*.sh; do [ -e "$$step" ] || continue; \
	    SETUP_FOR=$(1) VENV=$(VENV) bash "$$step" || exit 1; done

setup: $(STAMP)
	$(call steps,run)

test-setup: $(STAMP)
	$(call steps,test)

# The heavy assistants' models into .venv: spaCy's English pipeline (named entities) and OpenCV
# (click-to-mask); `make run` carries the light one (OCR: Tesseract), `make test` all of them.
assistants: $(STAMP)
	$(call steps,assistants)

# The same heavy assistants as one file, for machines without the registry:
# dist/labeldesk-assistants-entities-mask-<python>-<platform>.zip (their wheels and everything
# they need, a checksummed manifest). Install it offline with `labeldesk assistants install
# FILE` or from the app's Assistants page (desktop/assistants/pack.py).
assistant-pack: $(STAMP)
	@mkdir -p dist
	$(BIN)/python -m desktop.assistants.pack build dist

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

# Longer fuzzing than `make test` does: schemathesis over every operation of /api/schema with
# many more cases, the hypothesis parser fuzzers with more examples, then atheris (coverage-
# guided) on the label-config parser, the importers and the project-zip importer. ~10 min.
FUZZ_EXAMPLES ?= 150
FUZZ_SECONDS  ?= 90
fuzz: test-setup
	-$(BIN)/python -m pip install -q -e '.[fuzz]'
	LABELDESK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) LABELDESK_FUZZ_PARSER_EXAMPLES=5000 \
	    $(BIN)/pytest -n 2 -q -p no:cacheprovider --timeout 1800 \
	    tests/api/test_fuzz_api.py tests/unit/test_fuzz_parsers.py
	@if $(BIN)/python -c "import atheris" 2>/dev/null; then \
	    for target in labelconfig importers archive; do \
	        $(BIN)/python scripts/fuzz_atheris.py $$target -max_total_time=$(FUZZ_SECONDS) \
	            -artifact_prefix=/tmp/labeldesk-fuzz- || exit 1; done; \
	else echo "atheris is not installed: skipping the coverage-guided fuzzers"; fi

# A double-clickable desktop build: dist/labeldesk/ (one folder, PyInstaller), and from it on
# Linux dist/LabelDesk-<version>-<arch>.AppImage (one file), on macOS dist/LabelDesk.app.
# See docs/packaging.md for other systems and for signing.
.PHONY: package
package: $(STAMP)
	$(call steps,package)
	$(BIN)/python -m PyInstaller --noconfirm --clean --log-level WARN packaging/labeldesk.spec
	@du -sh dist/labeldesk
	@if [ "$$(uname -s)" = Linux ]; then bash packaging/linux/appimage.sh dist build/appimage; fi
