# Two commands do everything: `make book` builds the website, `make test` runs every test.
# Both create .venv and install requirements.txt plus the gradlab package (editable) first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NOTEBOOKS ?= $(sort $(wildcard chapters/*.ipynb))
# The course's matrices are small: one BLAS thread per process avoids threads spinning
# against each other on a 2-core machine (measured 3-6x slower notebooks without it).
# Only for speed: `make test` checks the notebooks under one and two threads.
export OPENBLAS_NUM_THREADS = 1

# A student's install for `make lab`: requirements-student.txt only, in its own venv.
STUDENT_VENV := .venv-student
STUDENT_INSTALLED := $(STUDENT_VENV)/.installed
LAB ?= lab
PORT ?= 8888
TOKEN ?=

.PHONY: install book student test test-site notebooks lab bench clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt code/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "gradlab needs Python 3.10 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e code
	touch $@

## Build the website into _build/html (every notebook executed, warnings are errors).
## MathJax and the widget JavaScript come from the npm registry into _vendor/ (never a CDN).
book: $(INSTALLED)
	bash tools/vendor_assets.sh
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Website built: open $(CURDIR)/_build/html/index.html"

## The student edition: the notebooks without solutions in _build/student-src, and the
## website built from them in _build/student/_build/html.
student: $(INSTALLED)
	bash tools/vendor_assets.sh
	$(BIN)/python -m gradlab.editions student . _build/student-src
	$(BIN)/jupyter-book build _build/student-src --path-output _build/student -W -n --keep-going
	@echo "Student edition built: open $(CURDIR)/_build/student/_build/html/index.html"

## Unit tests, then strict nbval over every chapter notebook under two OpenBLAS kernels,
## each with one thread and with two (tests/notebook_configs.py says which it used).
test: $(INSTALLED)
	bash tools/install_bubblewrap.sh  # the grader's tests run submissions in its sandbox
	$(BIN)/python -m pytest tests -n 2
	$(if $(NOTEBOOKS),$(BIN)/python tests/notebook_configs.py $(NOTEBOOKS))

## The built websites in headless Chromium (run after `make book` and `make student`): every
## page loads cleanly, math, alt text, solutions, explorers, search, links, no CDN, no solution
## text in the student edition; and every chapter run in JupyterLab. Screenshots: _build/screenshots.
test-site: $(INSTALLED)
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

## Refresh the committed outputs: execute each notebook in place in a fresh kernel.
## Afterwards volatile metadata (timings, saved widget state, Python's patch version) goes.
notebooks: $(INSTALLED)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=300 \
		--ExecutePreprocessor.record_timing=False $(NOTEBOOKS)
	$(BIN)/python -m gradlab.editions normalise $(NOTEBOOKS)

$(STUDENT_INSTALLED): requirements-student.txt code/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "gradlab needs Python 3.10 or newer"'
	$(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(STUDENT_VENV)/bin/python -m pip install --quiet -r requirements-student.txt -e code
	touch $@

## JupyterLab on the local edition: the chapters as plain notebooks (numbers written in,
## references resolved, no solutions; SOLUTIONS=1 for the instructor's) in a working copy,
## $(LAB)/, never the tracked chapters/. Notebooks already there are kept (your work).
## PORT=8888 and TOKEN=... are passed on. (As root JupyterLab needs --allow-root.)
lab: $(STUDENT_INSTALLED)
	$(STUDENT_VENV)/bin/python -m gradlab.local_edition . $(LAB) --keep-existing $(if $(SOLUTIONS),--solutions)
	$(STUDENT_VENV)/bin/jupyter lab $(LAB) --port=$(PORT) $(if $(TOKEN),--IdentityProvider.token=$(TOKEN)) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf _build _vendor .pytest_cache .hypothesis

## Benchmarks: notebooks, book build, explorer latency, package hot paths -> benchmarks/results.md
bench: $(INSTALLED)
	$(BIN)/python benchmarks/bench.py
