# pyengine developer commands. `make help` lists them; CI runs `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
CARGO ?= cargo
export PIP_DISABLE_PIP_VERSION_CHECK = 1
export CARGO_TERM_COLOR = never

.DEFAULT_GOAL := help
.PHONY: help install test test-rust test-python lint fmt stubtest core-is-pure-rust run replay bench bench-quick bench-smoke differential journal-bench gateway-bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

install: ## Build the extension (release) and install pyengine with test extras, editable
	$(PIP) install -q -e ".[test,bench]"

test: install core-is-pure-rust lint test-rust stubtest test-python bench-smoke ## Everything CI checks
	@echo "make test: all checks passed"

test-rust: ## Rust unit, scenario and property tests (core and FIX codec)
	$(CARGO) test -p pyengine-core -p pyengine-fix --release

test-python: ## pytest: the Python API, the batch API, bad inputs
	$(PYTHON) -m pytest tests

stubtest: ## Check pyengine/_engine.pyi against the built module
	$(PYTHON) -m mypy.stubtest pyengine._engine
	$(PYTHON) -m mypy pyengine tests/typecheck_example.py

lint: ## rustfmt, clippy (warnings are errors) and ruff
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(PYTHON) -m ruff check pyengine tests bench

fmt: ## Format Rust and Python sources
	$(CARGO) fmt --all
	$(PYTHON) -m ruff format pyengine tests bench

core-is-pure-rust: ## Prove engine/ does not depend on pyo3
	@if $(CARGO) tree -p pyengine-core -e normal,build --prefix none | grep -i pyo3; then \
		echo "engine/ must not depend on pyo3"; exit 1; \
	else echo "engine/ has no pyo3 dependency"; fi

run: install ## The main job: the FIX 4.4 gateway on embedded defaults (FIX 127.0.0.1:9878, HTTP :8080)
	$(PYTHON) -m pyengine.gateway

replay: install ## Replay a benchmark workload through the engine and report throughput and the state hash
	$(PYTHON) -m pyengine run

bench: install ## Full benchmark suite (core, Python APIs, peers), dated report and plots in bench/results/
	$(PYTHON) bench/run.py

bench-quick: install ## Quick benchmark run (under 2 minutes), report in bench/results/
	$(PYTHON) bench/run.py --quick

bench-smoke: install ## CI: quick benchmark and pytest-benchmark suite run once into a temp dir (never checks timings)
	@out=$$(mktemp -d) && echo "bench-smoke: report in $$out" && \
		$(PYTHON) bench/run.py --quick --out "$$out" > "$$out/report.md" && \
		$(PYTHON) -m pytest bench/ --benchmark-disable -p no:cacheprovider

differential: install ## Long differential campaign against the reference model (10M random commands)
	$(PYTHON) bench/differential_campaign.py --commands 10000000 --workers 2

journal-bench: ## Journal append, replay, recovery and snapshot figures (10M commands)
	$(CARGO) run --release -p pyengine-core --example journal_bench -- --commands 10000000
	$(CARGO) run --release -p pyengine-core --example journal_bench -- --commands 10000000 --workload ec_single

gateway-bench: install ## Gateway over FIX: round trip, sustained orders/s, p99 at 10k/s (ARGS=--quick: under a minute)
	$(PYTHON) bench/gateway_bench.py $(ARGS)

clean: ## Remove build outputs
	$(CARGO) clean
	rm -rf pyengine/*.so .pytest_cache .mypy_cache .ruff_cache .hypothesis
