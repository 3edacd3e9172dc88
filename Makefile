# Every target first runs scripts/bootstrap.sh (installs iverilog and .venv when
# missing), then calls `appmult <verb>` or pytest (`make mutation`: mutmut, which
# runs pytest). No other logic lives here.
VENV    ?= .venv
APPMULT := $(VENV)/bin/appmult
PYTEST  := $(VENV)/bin/pytest
JOBS    ?=
# make characterize simulates with cocotb + Icarus (the reference); BACKEND=auto is the fast path.
BACKEND ?= icarus

.PHONY: setup characterize verify test test-all bench retrain-demo lint docs mutation

# test,demo: the suite also covers the PyTorch consumer (torch==2.13.0, pinned);
# docs: it also builds the documentation site (Sphinx); fast: the compiled streaming kernel (numba).
setup:
	@scripts/bootstrap.sh test,demo,docs,fast

characterize: setup
	$(APPMULT) characterize --library --backend $(BACKEND) -o artifacts $(if $(JOBS),-j $(JOBS))
	$(APPMULT) lutgen --library artifacts $(if $(JOBS),-j $(JOBS))

verify: setup
	$(APPMULT) verify --library --against model --backend icarus --backend bitsim

test: setup
	$(PYTEST)

test-all: setup
	$(PYTEST) -m "slow or not slow"

bench: setup
	$(PYTEST) bench -s -q -p no:cacheprovider -o python_files='bench_*.py' -o addopts=''

retrain-demo: setup
	$(APPMULT) retrain-demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The documentation site (docs/, Sphinx + MyST) into docs/_build/html; warnings are errors.
docs: setup
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# Mutation testing (tests/MUTATION.md): a fresh run over what [tool.mutmut] in
# pyproject.toml names, on the installed layout staged in build/mutation/, JOBS mutants
# at a time (default 1), then the survivors and the counts. MUTANTS='appmult.core.operands*'
# restricts the run.
mutation: setup
	@scripts/bootstrap.sh test,demo,docs,fast,mutation
	$(VENV)/bin/python scripts/mutation.py --jobs $(if $(JOBS),$(JOBS),1) $(MUTANTS)
