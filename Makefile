# Two commands for readers: `make book` and `make test`. Both install the pinned stack into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The browser of the browser check: Debian's Chromium, installed if missing; any other Chrome or Chromium
# with `make test BOOK_CHROMIUM=/path/to/it` (e.g. /snap/bin/chromium on Ubuntu).
CHROMIUM := $(or $(BOOK_CHROMIUM),/usr/bin/chromium)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install book test browser bench seeds reliability colab-links colab-check clean

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Debian's Chromium for the browser test (tests/test_browser.py); never a downloaded browser.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

# Execute every chapter (cached) and write the HTML book to _build/html.
book: $(STAMP)
	$(BIN)/python tools/build_book.py

# Unit tests of utils, every chapter notebook at the smoke budget (nbval), the book's structure,
# and the book (one chapter executed) opened in headless Chromium. Two workers, one CPU thread each
# (a notebook's cells stay together on one worker); chapters that measure time run afterwards, alone.
TEST_ENV := BOOK_BUDGET=smoke BOOK_LEDGER_DIR=$(CURDIR)/_build/claims/test HF_HUB_OFFLINE=1 BOOK_THREADS=1
test: $(STAMP) $(CHROMIUM)
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadscope -m "not runs_alone" \
	  --nbval-lax --nbval-cell-timeout=300 tests notebooks
	if grep -lq '"runs_alone": true' notebooks/*/*.ipynb; then \
	  $(TEST_ENV) $(BIN)/python -m pytest -m runs_alone --nbval-lax --nbval-cell-timeout=300 tests notebooks; fi

# The browser check on the executed book: every chapter at the smoke budget, figures, widget state, claims.
browser: $(STAMP) $(CHROMIUM)
	BOOK_BROWSER_EXECUTE=1 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests/test_browser.py

# Every chapter in its own process at $(BUDGET): wall time, peak memory, claims -> _build/bench/<budget>.md
BUDGET ?= smoke
bench: $(STAMP)
	$(BIN)/python tools/bench.py --budget $(BUDGET)

# Every chapter under SEEDS values of BOOK_SEED (two processes at a time): each claim's range over the seeds
# against its bar and the calibration rule's margin -> book/results/seeds-<budget>.json. CHAPTERS="<part>/<NN_slug> ..."
SEEDS ?= 5
CHAPTERS ?=
seeds: $(STAMP)
	$(BIN)/python tools/seeds.py --budget $(BUDGET) --seeds $(SEEDS) $(CHAPTERS)

# Determinism (two runs, same claims), memory ceiling (3 GB a chapter), nbval 5 runs in a row.
reliability: $(STAMP)
	$(BIN)/python tools/reliability.py

# After changing `repository` in _config.yml (a fork): rewrite every chapter's Colab install line to match.
colab-links: $(STAMP)
	$(BIN)/python tools/colab_links.py

# Maintainer check: chapters 1, 4 and 13 at smoke in a fresh environment holding Colab's package versions,
# the book installed as the set-up cell does (a few minutes; downloads those versions once).
colab-check: $(STAMP)
	$(BIN)/python tools/colab_check.py

# Remove what builds and tests write (all of it under _build/); committed files are never touched.
clean:
	rm -rf _build
