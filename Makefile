# Carebase: the two commands are `make demo` and `make test`.
#
#   make            release build in build/
#   make test       sanitizer build (ASan + UBSan) in build-asan/, then every
#                   unit and end-to-end test through ctest
#   make demo       installs dependencies, builds, generates and imports a
#                   demo consortium into demo/carebase.db, shows what loaded
#   make bench      the benchmarks of bench/ (results in bench/RESULTS.md)
#   make deps       scripts/install-deps.sh (Debian and npm packages)

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2

.PHONY: all build build-asan test demo bench deps clean

all: build

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCB_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

test: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

deps:
	scripts/install-deps.sh

demo: deps build
	scripts/demo.sh $(BUILD)/carebase

bench: build
	bench/run.sh $(BUILD)/carebase
	bench/run_drg.sh $(BUILD)
	bench/run_ind.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
