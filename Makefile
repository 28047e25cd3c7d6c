# embvsattn — build, test, benchmark.  See README.md.
CC      ?= cc
PKGS    := openblas libcjson
PREFIX  ?= /usr/local
BUILD   ?= build
OPT     ?= -O2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CFLAGS_ALL  = -std=c11 $(OPT) -Wall -Wextra -Iinclude $(PKG_CFLAGS) $(CFLAGS) $(SAN)
ifeq ($(CI),true)
CFLAGS_ALL += -Werror
endif
LDLIBS_ALL  = $(PKG_LIBS) -lm -lpthread $(LDLIBS)

BIN      := $(BUILD)/embvsattn
LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
HEADERS  := $(wildcard include/*.h)
UNIT     := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))

.PHONY: all test unit asan bench install clean vectors fixtures
all: embvsattn

# ./embvsattn is the release build; other builds (asan) live in their own BUILD directory.
embvsattn: $(BIN)
	@if [ "$(BUILD)" = build ]; then cp $(BIN) embvsattn; fi

$(BIN): $(BUILD)/obj/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/obj/%.o: src/%.c $(HEADERS) | $(BUILD)/obj
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB_OBJ) $(HEADERS) | $(BUILD)/tests
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB_OBJ) $(LDLIBS_ALL)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT)

# Unit tests, CLI end-to-end cases, gensim/numpy interop, and the integration tier on the real GloVe vectors
# (fetched first if missing; idempotent).
test: $(BIN) $(UNIT) vectors
	EMBVSATTN=$(BIN) BUILD=$(BUILD) tests/run.sh

vectors: $(BIN)
	EMBVSATTN_BIN=$(abspath $(BIN)) scripts/fetch-vectors.sh

# ASan + UBSan build running the whole suite.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g" SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

bench: $(BIN) vectors $(BUILD)/bench_parse_floor
	EMBVSATTN=$(abspath $(BIN)) scripts/bench.sh

$(BUILD)/bench_parse_floor: tests/bench_parse_floor.c $(BUILD)/obj/numparse.o | $(BUILD)/obj
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# Reference fixtures written by gensim (committed; regenerate only when the script changes).
fixtures:
	/usr/bin/python3 scripts/make-gensim-fixtures.py tests/fixtures/gensim
	/usr/bin/python3 scripts/make-attention-fixtures.py tests/fixtures/attention

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/embvsattn

clean:
	rm -rf build build-asan embvsattn
