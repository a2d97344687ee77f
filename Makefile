# Jirei — `make demo` and `make test` work on a machine that has only Python.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/jirei demo --evaluate --report out/report.html

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/bench.py
	@echo
	$(BIN)/python bench/bench_batch.py
	@echo
	$(BIN)/python bench/bench_app.py
	@echo
	$(BIN)/python bench/bench_ocr.py

# PNGs of the reviewer app (queue, case, dashboard) for the README, in headless /usr/bin/chromium
screenshots: install
	$(BIN)/python scripts/screenshots.py
	$(BIN)/python scripts/screenshots_spans.py
	$(BIN)/python scripts/screenshot_retrain.py

clean:
	rm -rf $(VENV) out .pytest_cache
