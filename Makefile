# make demo / make test set everything up on a fresh machine, then run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-gpu lint bench bench-gpu fuzz clean

setup: $(STAMP) dot

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# The Graphviz `dot` program is a system package; install it when missing.
dot:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "installing graphviz (dot)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq graphviz >/dev/null; }

demo: setup
	$(PY) examples/demo.py

lint: setup
	$(PY) -m ruff check .

test: setup lint
	$(PY) -m pytest -q tests

# the whole suite on the reference and the numba backend, every op-table variant
# (slow: Numba compiles; the cache in .pytest_cache/graphdl makes reruns fast)
test-compiled: setup
	GRAPHDL_TEST_BACKENDS=numpy,numba GRAPHDL_FULL_OPTABLE=1 $(PY) -m pytest -q tests

# differential fuzzing: 1000 random graphs, every registered backend against the
# reference and central differences (make test runs a small derandomized sample)
fuzz: setup
	GRAPHDL_FUZZ_EXAMPLES=$${GRAPHDL_FUZZ_EXAMPLES:-1000} $(PY) -m pytest -q tests/test_fuzz.py \
	  --hypothesis-show-statistics

# On a machine with an NVIDIA GPU: the op table and gradients at realistic shapes
test-gpu: setup
	GRAPHDL_TEST_GPU=1 $(PY) -m pytest -q tests/test_cuda_gpu.py

# GPU train steps against PyTorch CUDA eager (needs a CUDA build of PyTorch)
bench-gpu: setup
	$(PY) bench/bench_gpu.py

# the peers (PyTorch CPU, torchviz, JAX, PyTensor) are an optional extra, installed here only
bench: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) bench/bench_render.py
	$(PY) bench/bench_train.py

clean:
	rm -rf $(VENV) out .pytest_cache
