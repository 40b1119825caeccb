# Two commands do everything: `make book` builds the website, `make test` runs every test.
# Both create .venv and install requirements.txt plus the gradlab package (editable) first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NOTEBOOKS ?= $(sort $(wildcard chapters/*.ipynb))
# The course's matrices are small: one BLAS thread per process avoids threads spinning
# against each other on a 2-core machine (measured 3-6x slower notebooks without it).
export OPENBLAS_NUM_THREADS = 1

.PHONY: install book test notebooks lab bench clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt code/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "gradlab needs Python 3.10 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e code
	touch $@

## Build the website into _build/html (every notebook executed, warnings are errors).
book: $(INSTALLED)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Website built: open $(CURDIR)/_build/html/index.html"

## Unit tests, then strict nbval over every chapter notebook.
test: $(INSTALLED)
	$(BIN)/python -m pytest tests -n 2
	$(if $(NOTEBOOKS),$(BIN)/python -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -n 2 --dist loadfile $(NOTEBOOKS))

## Refresh the committed outputs: execute each notebook in place in a fresh kernel.
notebooks: $(INSTALLED)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=300 $(NOTEBOOKS)

## JupyterLab on the chapters (JupyterLab and its MyST renderer are installed only here).
lab: $(INSTALLED)
	$(BIN)/python -m pip install --quiet "jupyterlab>=4.1,<5" "jupyterlab-myst>=2.4"
	$(BIN)/jupyter lab chapters

clean:
	rm -rf _build .pytest_cache .hypothesis

## Benchmarks: notebooks, book build, explorer latency, package hot paths -> benchmarks/results.md
bench: $(INSTALLED)
	$(BIN)/python benchmarks/bench.py
