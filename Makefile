# Every target first runs scripts/bootstrap.sh (installs iverilog and .venv when
# missing), then calls `appmult <verb>` or pytest. No other logic lives here.
VENV    ?= .venv
APPMULT := $(VENV)/bin/appmult
PYTEST  := $(VENV)/bin/pytest
JOBS    ?=

.PHONY: setup characterize lutgen verify test test-all bench lint

setup:
	@scripts/bootstrap.sh test

characterize: setup
	$(APPMULT) characterize --library -o artifacts $(if $(JOBS),-j $(JOBS))
	$(APPMULT) lutgen --library artifacts

verify: setup
	$(APPMULT) verify --library --against model --backend icarus --backend bitsim

test: setup
	$(PYTEST)

test-all: setup
	$(PYTEST) -m "slow or not slow"

bench: setup
	$(PYTEST) bench -s -q -p no:cacheprovider -o python_files='bench_*.py' -o addopts=''

lint: setup
	$(VENV)/bin/ruff check .
