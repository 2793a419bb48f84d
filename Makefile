# fioguard — the two commands: `make run` and `make test`.
# Both install what is missing (Debian: libjansson-dev, libsqlite3-dev, pkg-config), then build.

SWIFT      ?= swift
BUILD_DIR  ?= .build
BIN        := $(BUILD_DIR)/debug
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS   := libjansson-dev libsqlite3-dev pkg-config

.PHONY: deps build run test test-swift test-examples bench demo clean

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is required (https://swift.org/install)"; exit 1; }

build: deps
	$(SWIFT) build --build-tests

# Serves on the embedded default socket and database (see README: Configuration).
run: deps
	$(SWIFT) build --product fioguard
	$(BIN)/fioguard serve $(ARGS)

test: build test-swift test-examples

test-swift:
	$(SWIFT) test --skip-build --parallel

# The example clients against a real daemon on a temporary socket and database.
test-examples:
	FIOGUARD_BIN=$(BIN) examples/run-example-tests.sh

bench: deps
	$(SWIFT) build -c release --product fioguard --product fioguard-bench
	$(BUILD_DIR)/release/fioguard-bench $(ARGS)

clean:
	rm -rf $(BUILD_DIR)
