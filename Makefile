# ProbSeg — every entry point a person or CI needs. `make serve` and `make test` install what
# is missing (idempotently, quietly when everything is there) and then do their job.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION := 0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/[" ]/, "", $$0); sub("version=", "", $$0); print; exit}' Cargo.lock)
WASM_TARGET := wasm32-unknown-unknown
CARGO_BIN := $(HOME)/.cargo/bin
E2E_DIR := tests/e2e
# Native builds cover the libraries and the CLI; the web app (root package) is wasm-only.
NATIVE := --workspace --exclude probseg-web
export PATH := $(CARGO_BIN):$(PATH)

.PHONY: help tools browser-deps build build-bench dist serve test lint test-native test-fuzz test-wasm test-e2e bench bench-peers bench-native bench-native-run bench-web bench-web-run clean-dist

help:
	@echo "make serve   build the app (release) and serve it on http://127.0.0.1:8080"
	@echo "make test    run every test: fmt, clippy (native + wasm32), native, fuzz (short), wasm (Chromium), e2e"
	@echo "make build   release build of the app into dist/"
	@echo "make dist    the same, checked and ready for any static host (README: Hosting)"
	@echo "make bench   every benchmark beside ../shared/peers in one run; rewrites BENCHMARKS.md"
	@echo "make bench-native / bench-web   one of them (each runs the peers first)"

## Toolchain: wasm32 target, trunk, wasm-bindgen-cli (exact version), crate sources.
tools:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@[[ "$$(trunk --version 2>/dev/null)" == "trunk $(TRUNK_VERSION)" ]] || \
		cargo install trunk --version $(TRUNK_VERSION) --locked
	@# Not --locked: the locked graph of wasm-bindgen-cli 0.2.130 names a yanked crate.
	@[[ "$$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]] || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@# Trunk runs cargo --offline (Trunk.toml), so the sources must be here first.
	@cargo fetch --locked -q

## Browser tests: Debian's Chromium + ChromeDriver, and playwright-core (never its own browsers).
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@if ! cmp -s $(E2E_DIR)/package-lock.json $(E2E_DIR)/node_modules/.package-lock.json; then \
		npm ci --prefix $(E2E_DIR) --no-audit --no-fund --loglevel=error; \
	fi

build: tools
	trunk build --release

serve: tools
	trunk serve --release

## A static site anyone can host: dist/ is all of it. URLs are relative (Trunk.toml), the CSP is a
## <meta> tag, and no threads are used (so no COOP/COEP headers): any static host that serves
## .wasm as application/wasm works, at its root or under a sub-path.
dist: build
	@test -f dist/index.html && test -f dist/sw.js && test -f dist/public/model/probunet-lidc.bpk
	@touch dist/.nojekyll
	@echo "dist/ is the whole site ($$(du -sh dist | cut -f1)): serve it as static files"

test: tools browser-deps lint test-native test-fuzz test-wasm test-e2e
	@echo "make test: all suites passed"

lint:
	cargo fmt --all --check
	cargo clippy $(NATIVE) --all-targets -q -- -D warnings
	@# The CLI's GPU training backend (crates/cli/src/device.rs) must keep building.
	cargo clippy -p probunet-cli --features wgpu --all-targets -q -- -D warnings
	cargo clippy --target $(WASM_TARGET) -p probseg-web --all-targets -q -- -D warnings
	cargo clippy --target $(WASM_TARGET) -p probseg-web --all-targets --features bench -q -- -D warnings

test-native:
	cargo test $(NATIVE) -q

# A short libFuzzer run of each imaging entry point (scripts/fuzz.sh; the long runs' figures are in
# the README), so a decoder change that panics on odd bytes fails here. A fixed seed and a fixed
# number of runs: the same inputs every time (a regression check, not a search: long runs search).
# The instrumented build lives beside cargo's other outputs.
# Decoding runs ~1,000 inputs/s here, reading a SEG ~50,000/s.
FUZZ_RUNS_DECODE ?= 20000
FUZZ_RUNS_SEGMENTATION ?= 200000
test-fuzz:
	FUZZ_TARGET_DIR=$${CARGO_TARGET_DIR:-$(CURDIR)/target}/fuzz scripts/fuzz.sh decode 300 -seed=1 -runs=$(FUZZ_RUNS_DECODE)
	FUZZ_TARGET_DIR=$${CARGO_TARGET_DIR:-$(CURDIR)/target}/fuzz scripts/fuzz.sh segmentation 300 -seed=1 -runs=$(FUZZ_RUNS_SEGMENTATION)

# The `web` profile (index.html names it for Trunk) shares the compiled dependencies with the
# page's build (burn compiles slowly).
# No -q: cargo would hand --quiet to wasm-bindgen-test-runner, which rejects it.
test-wasm:
	WASM_BINDGEN_TEST_TIMEOUT=60 cargo test --target $(WASM_TARGET) --profile web -p probseg-web

test-e2e: build build-bench browser-deps
	cd $(E2E_DIR) && PROBSEG_BENCH_DIST=$(BENCH_DIST) node --test --test-concurrency=1 ./*.test.mjs

## Benchmarks. Each compares with ../shared/peers (PyTorch, onnxruntime, ONNX Runtime Web) run
## in the same command, on the same machine, and rewrites its table in BENCHMARKS.md.
# The peers' copy (its venv holds torch, ~5 GB) lives outside the checkout and is reused.
PEERS_DIR ?= $(HOME)/.cache/probseg/peers
BENCH_OUT := $(CURDIR)/target/bench

bench: bench-peers bench-native-run bench-web-run
	PEERS_DIR=$(PEERS_DIR) node bench/report.mjs

bench-native: bench-peers bench-native-run
	PEERS_DIR=$(PEERS_DIR) node bench/report.mjs native

bench-web: bench-peers bench-web-run
	PEERS_DIR=$(PEERS_DIR) node bench/report.mjs web

bench-peers:
	@[[ -f $(PEERS_DIR)/run.sh ]] || { mkdir -p $(PEERS_DIR) && cp -r ../shared/peers/. $(PEERS_DIR)/ && chmod -R u+w $(PEERS_DIR); }
	bash $(PEERS_DIR)/run.sh

# Native CPU benchmark (paper preset, 128², batch 1; BENCH_PRESET / BENCH_RUNS change it).
bench-native-run:
	BENCH_JSON=$(BENCH_OUT)/native.json cargo bench -p probunet --bench native

# The page's own benchmark in headless Chromium on the release build with its benchmark entry
# point (bench/web.mjs; `--features bench`, target/bench-dist: the shipped page leaves it out).
BENCH_DIST := $(CURDIR)/target/bench-dist
build-bench: tools
	trunk build --release --features bench --dist $(BENCH_DIST)

bench-web-run: build-bench browser-deps
	PROBSEG_DIST=$(BENCH_DIST) node bench/web.mjs

clean-dist:
	rm -rf dist
