# fioguard — the two commands: `make run` and `make test`.
# Both install what is missing on Debian, then build: `make run` needs libjansson-dev,
# libsqlite3-dev and pkg-config; `make test` also installs what the example clients need
# (php-cli, chromium + chromium-driver, node, a Python venv with Flask and Selenium).

SWIFT      ?= swift
BUILD_DIR  ?= .build
BIN        := $(BUILD_DIR)/debug
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS   := libjansson-dev libsqlite3-dev pkg-config
# The examples (make test-examples, make demo): PHP client, headless browser test, Python venv.
EXAMPLES_APT_PKGS := php-cli chromium chromium-driver
PYTHON     ?= python3
EXAMPLES_VENV := examples/python/.venv
EXAMPLES_REQS := examples/python/requirements.txt examples/python/requirements-test.txt

.PHONY: deps deps-examples build run test test-swift test-asan test-examples bench bench-table callgrind demo clean

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is required (https://swift.org/install)"; exit 1; }

deps-examples:
	@missing=""; for p in $(EXAMPLES_APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v $(PYTHON) >/dev/null 2>&1 || missing="$$missing python3 python3-venv"; \
	if command -v $(PYTHON) >/dev/null 2>&1 && ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@[ -x $(EXAMPLES_VENV)/bin/python ] || $(PYTHON) -m venv $(EXAMPLES_VENV)
	@stamp=$(EXAMPLES_VENV)/.installed; fresh=yes; for r in $(EXAMPLES_REQS); do [ $$stamp -nt $$r ] || fresh=""; done; \
	if [ -z "$$fresh" ]; then \
	  echo "installing: $(EXAMPLES_REQS) into $(EXAMPLES_VENV)"; \
	  $(EXAMPLES_VENV)/bin/python -m pip install -q --disable-pip-version-check -r examples/python/requirements-test.txt \
	    && touch $$stamp; \
	fi

build: deps
	$(SWIFT) build --build-tests

# Serves on the embedded default socket and database (see README: Configuration).
run: deps
	$(SWIFT) build --product fioguard
	$(BIN)/fioguard serve $(ARGS)

test: build deps-examples test-swift test-examples

test-swift:
	$(SWIFT) test --skip-build --parallel

# The Swift tests with the daemon and the tests built under AddressSanitizer, in their own build
# folder (a first build takes about 12 minutes here). Leak checking is off: see README "Sanitizers".
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path $(BUILD_DIR)-asan
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 $(SWIFT) test --skip-build --sanitize=address --scratch-path $(BUILD_DIR)-asan --parallel

# The example clients (shell, Python + headless Chromium, Node, PHP) against a real daemon on a
# temporary socket and database; examples/README.md.
test-examples: deps-examples
	FIOGUARD_BIN=$(BIN) PYTHON=$(EXAMPLES_VENV)/bin/python examples/run-example-tests.sh

# The daemon (demo policy) and the demo web app on http://localhost:5000/ (PORT=...); Ctrl-C stops both.
demo: deps deps-examples
	$(SWIFT) build --product fioguard
	FIOGUARD_BIN=$(BIN) PYTHON=$(EXAMPLES_VENV)/bin/python examples/run-demo.sh

# The load generator against release builds; figures and how to read them: README "Performance".
bench: deps
	$(SWIFT) build -c release --product fioguard
	$(SWIFT) build -c release --product fioguard-bench
	$(BUILD_DIR)/release/fioguard-bench $(ARGS)

# The README's whole table (three runs of every workload, record at 24x1 and 16x1, the open loop)
# with a summary of ranges and targets; about 10 minutes. ARGS="--runs 5 --no-open-loop" etc.
bench-table: deps
	SWIFT=$(SWIFT) BUILD_DIR=$(BUILD_DIR) Benchmarks/table.sh $(ARGS)

# Instructions per call under callgrind: repeatable where throughput is not (README "Performance").
callgrind: deps
	@command -v valgrind >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq valgrind >/dev/null; }
	SWIFT=$(SWIFT) BUILD_DIR=$(BUILD_DIR) Benchmarks/callgrind.sh $(ARGS)

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-asan
