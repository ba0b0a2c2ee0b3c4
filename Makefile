PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo tour test bench test-compat clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip || echo "(pip upgrade skipped; the bundled pip is used)"

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py featherflow/_src/ops/_fused.c featherflow/_src/framework/_ctensor.c featherflow/_src/framework/_ctensor_dispatch.c featherflow/_src/framework/_ctensor.h
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/train_digits.py

tour: $(VENV)/.installed
	$(BIN)/python examples/variables_tour.py

# Extra pytest arguments, e.g. make test PYTEST_ARGS="-x tests/module"
PYTEST_ARGS ?=

# The suite runs twice: with the C tensor core (featherflow/_src/framework/_ctensor*.c), and
# without it (FEATHERFLOW_NATIVE=0: the Python dispatch it mirrors, which is also what runs
# where no compiler was found at install time).
test: $(VENV)/.installed
	FEATHERFLOW_SIMULATED_GPUS=2 $(BIN)/python -m pytest tests $(PYTEST_ARGS)
	FEATHERFLOW_NATIVE=0 FEATHERFLOW_SIMULATED_GPUS=2 $(BIN)/python -m pytest tests $(PYTEST_ARGS)

# Extra arguments, e.g. make bench BENCH_ARGS="--tf-python /path/to/python-with-tensorflow"
BENCH_ARGS ?=

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

.venv-compat/bin/python:
	$(PY) -m venv .venv-compat
	.venv-compat/bin/pip install -q --upgrade pip
	.venv-compat/bin/pip install -q -e '.[test]' tensorflow-cpu

test-compat: .venv-compat/bin/python
	FEATHERFLOW_SIMULATED_GPUS=2 .venv-compat/bin/python -m pytest tests/compat

clean:
	rm -rf $(VENV) .venv-compat
