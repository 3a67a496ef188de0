# Two entry points, both self-contained on a fresh machine (Python 3.11 + pip):
#   make demo   installs polyret into .venv and runs `polyret demo` on the embedded collection
#   make test   installs polyret with its test extras into .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint clean

# torch first, pinned: the CPU build on this machine; anything unpinned would pull CUDA.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[all,test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/polyret demo

# pytest exits 5 when it collects nothing: that fails here too, with a clear message.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$status

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks scripts

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
