# Thin wrapper over CMake presets. PRESET=asan make test, for instance.
PRESET ?= default
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)

.PHONY: all build deps test test-long demo bench clean format install

all: build

# scripts/deps's tier: test (everything the tests need) unless a target below asks for less.
deps:
	@scripts/deps $(DEPS_TIER)

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Every test but the long ones (label `long`: the Ansible deploys, 1,000 agent
# processes, the lab's partitions, the HTML screenshots, fault injection, every
# example and the report schema; about 20 minutes together here), in under 5
# minutes on 2 cores; `make test-long` runs those. CI (.ci/run) runs both.
test: build
	@ctest --preset $(PRESET) -j $(JOBS) -LE long

test-long: build
	@ctest --preset $(PRESET) -j $(JOBS) -L long

# Only what the demo runs: the coordinator and the server and agents it starts (found beside
# it in the build tree) and their links in build/PRESET/bin (the README's next commands use
# them), not the tests `make build` and `make test` build too; and only the build tier of
# scripts/deps.
demo: DEPS_TIER = build
demo: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS) --target coordinator server agent bin_links
	@scripts/demo $(BUILD)

# The three binaries into $(PREFIX)/bin (with the package's systemd units and README
# under $(PREFIX)/lib and $(PREFIX)/share). Without it: build/$(PRESET)/bin/.
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# The README's benchmark table, in its order (each script's arguments and what it prints there).
bench: build
	@echo "benchmarks (README, Benchmarks): bench/scale, bench/server-memory, bench/agent,"
	@echo "  bench/coordinator, bench/compare, bench/agent-load, bench/models, bench/ports,"
	@echo "  bench/load, bench/fuzz; results in docs/RESULTS.md and bench/RESULTS-*.md"

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# The Debian package deploy/ installs (README "Deploy on real machines"):
# build/$(PRESET)/connscale_VERSION-REVISION_ARCH.deb, made by CPack (cmake/Packaging.cmake).
# It needs only the build tier of scripts/deps (compiler, CMake, -dev packages, dpkg-dev and
# file for dpkg-shlibdeps), not the test tools.
.PHONY: package
package: DEPS_TIER = build
package: build
	@cd $(BUILD) && cpack -G DEB >/dev/null
	@ls -1 $(BUILD)/connscale_*.deb
