# multiquote -- the two commands: `make run` and `make test`.
# Both install what is missing (scripts/setup.sh), build with Meson, then
# serve or test. `make` alone builds build/multiquote.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzzer
FUZZ_SECONDS ?= 120
MESON      ?= meson
NINJA      ?= ninja

.PHONY: all deps build run test bench fmt clean fuzz fuzz-build

all: build

deps:
	@bash scripts/setup.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

# -O1 with frame pointers, as AddressSanitizer's documentation advises for
# speed with whole stack traces (its tests ran far slower at -O0).
$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Doptimization=1 -Dc_args=-fno-omit-frame-pointer \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false

# ThreadSanitizer: the server's threads (rating, group commit, checkpoints,
# reloads) and the batch pipeline's, under the tests that drive them.
$(TSAN_BUILD)/build.ninja:
	$(MESON) setup $(TSAN_BUILD) --buildtype=debugoptimized -Db_sanitize=thread -Dbench=false

# libFuzzer targets (tests/fuzz): clang, ASan+UBSan, coverage in every library.
$(FUZZ_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ_BUILD) --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
	  -Dbench=false -Dnative=false -Db_sanitize=address,undefined -Db_lundef=false

fuzz-build: $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(FUZZ_BUILD)

# Fuzzes each target for FUZZ_SECONDS (two at a time); the grown corpora stay
# in $(FUZZ_BUILD)/fuzz-corpus, crashes go to $(FUZZ_BUILD)/fuzz-artifacts.
fuzz: deps fuzz-build
	FUZZ_CORPUS_DIR=$(CURDIR)/$(FUZZ_BUILD)/fuzz-corpus bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

build: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

# Serves the web page and the API on http://localhost:8080 (scripts/run.sh).
run: deps build
	@bash scripts/run.sh $(BUILD)

test: deps build $(ASAN_BUILD)/build.ninja $(TSAN_BUILD)/build.ninja
	$(NINJA) -C $(ASAN_BUILD)
	$(NINJA) -C $(TSAN_BUILD)
	@bash tests/run.sh $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

bench: deps build
	$(BUILD)/bench/bench_rating

fmt:
	clang-format -i src/*/*.c src/*/*.h tests/*/*.c bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
