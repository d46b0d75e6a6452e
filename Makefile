# pc6risk — plain make. `make demo` and `make test` install what they need.
#
#   make            build build/pc6risk
#   make demo       run the Den Haag demo (starts a throwaway PostGIS unless PG* is set)
#   make view       serve the demo's map viewer at http://127.0.0.1:8080/ (Ctrl-C stops)
#   make viewer     build the map viewer (npm) into maps/viewer/dist
#   make test       unit + integration tests (throwaway PostGIS unless PG* is set)
#   make check      the same tests built with ASan+UBSan, in build/asan
#   make bench      benchmarks, as ratios to a peer on this machine
#   make install    install to $(DESTDIR)$(PREFIX)
#   make fuzz       fuzz the CSV and config readers (FUZZ_SECONDS each; not in CI)
#   make deps       install the Debian packages (as root; else print the apt-get line)

VERSION = 0.1.0
PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/pc6risk
CC = cc
CFLAGS = -O2 -g
BUILD = build
SAN =

PKGS = libpq gdal libcjson sqlite3 libdeflate libmicrohttpd cairo
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# GLPK (the audit's LPs) has no pkg-config file on Debian.
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lglpk
TEST_LIBS := $(shell pkg-config --libs criterion 2>/dev/null)

ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -pthread -Wall -Wextra -Iinclude \
	$(PKG_CFLAGS) -DPC6RISK_VERSION='"$(VERSION)"' -DPC6RISK_DATADIR='"$(DATADIR)"' $(CFLAGS) $(SAN)
ALL_LDFLAGS = $(LDFLAGS) -pthread $(SAN)

# The map viewer's bundle, rebuilt when a file of it changes (npm packages
# are installed from the lock file the first time).
VIEWER = maps/viewer/dist/index.html
VIEWER_SRC := $(shell find maps/viewer -path maps/viewer/node_modules -prune -o -path maps/viewer/dist -prune \
	-o -type f -print 2>/dev/null)

LIB_SRC = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/migrations.o $(BUILD)/obj/presets.o
UNIT_SRC = $(wildcard tests/unit/*.c) tests/mvtdec.c
INTEG_SRC = $(wildcard tests/integration/*.c) tests/support.c tests/mvtdec.c
UNIT_OBJ = $(UNIT_SRC:tests/%.c=$(BUILD)/obj/tests/%.o)
INTEG_OBJ = $(INTEG_SRC:tests/%.c=$(BUILD)/obj/tests/%.o)

all: $(BUILD)/pc6risk

$(BUILD)/pc6risk: $(BUILD)/obj/main.o $(BUILD)/libpc6risk.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/libpc6risk.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/gen/migrations.c: scripts/embed-sql.sh $(wildcard sql/*.sql) | $(BUILD)/.deps-ok
	mkdir -p $(@D)
	scripts/embed-sql.sh $(wildcard sql/*.sql) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/presets.c: scripts/embed-text.sh $(wildcard presets/*.json) | $(BUILD)/.deps-ok
	mkdir -p $(@D)
	scripts/embed-text.sh embedded_presets embedded_npresets $(wildcard presets/*.json) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/presets.o: $(BUILD)/gen/presets.c
	mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/migrations.o: $(BUILD)/gen/migrations.c
	mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/.deps-ok
	mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c | $(BUILD)/.deps-ok
	mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit: $(UNIT_OBJ) $(BUILD)/libpc6risk.a
	mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(PKG_LIBS) -lm

$(BUILD)/tests/integration: $(INTEG_OBJ) $(BUILD)/libpc6risk.a
	mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(PKG_LIBS) -lm

# A friendly stop instead of a wall of compiler errors when libraries are missing.
$(BUILD)/.deps-ok:
	@{ pkg-config --exists $(PKGS) && printf '#include <glpk.h>\n' | $(CC) -E - >/dev/null; } 2>/dev/null || { \
		echo "pc6risk: build dependencies are missing; run 'make deps' (as root) or:" >&2; \
		echo "  apt-get install -y $$(scripts/deps.sh --print)" >&2; exit 1; }
	mkdir -p $(@D) && touch $@

deps:
	@scripts/deps.sh

# The targets below first install what is missing, then re-enter make so the
# pkg-config flags are read again.
test: deps
	@scripts/deps.sh chromium || echo "pc6risk: Chromium is not installable here: the browser tests will be skipped" >&2
	@$(MAKE) --no-print-directory test-run

check: deps
	@scripts/deps.sh chromium || echo "pc6risk: Chromium is not installable here: the browser tests will be skipped" >&2
	@$(MAKE) --no-print-directory BUILD=build/asan \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
		CFLAGS="-O1 -g" test-run

test-run: $(BUILD)/pc6risk $(BUILD)/tests/unit $(BUILD)/tests/integration $(VIEWER)
	scripts/with-pg.sh tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory -s all $(VIEWER)
	@scripts/with-pg.sh scripts/demo.sh $(BUILD)/pc6risk demo/pc6risk.json maps/out

# The demo served with its viewer: publishes it again into a database of its
# own (a throwaway one unless PG* is set), then serves until Ctrl-C.
view: deps
	@$(MAKE) --no-print-directory -s all $(VIEWER)
	@scripts/with-pg.sh scripts/view.sh $(BUILD)/pc6risk demo/pc6risk.json maps/out

viewer: $(VIEWER)

$(VIEWER): $(VIEWER_SRC)
	scripts/build-viewer.sh

bench: deps
	@scripts/deps.sh jq sqlite3 time nghttp2-client nginx curl
	@$(MAKE) --no-print-directory -s all
	@scripts/with-pg.sh bench/run.sh $(BUILD)/pc6risk

# Fuzzing (not in CI): libFuzzer targets for the CSV reader and the config
# reader, FUZZ_SECONDS each, with ASan+UBSan; crashes land in build/fuzz/.
FUZZ_SECONDS = 600
FUZZ_SRC = src/csv.c src/cbs.c src/config.c src/err.c src/sbuf.c src/xalloc.c

fuzz: deps
	@scripts/deps.sh clang
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: build/fuzz/fuzz_csv build/fuzz/fuzz_config
	cd build/fuzz && ./fuzz_csv -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 corpus-csv ../../tests/fuzz/corpus/csv
	cd build/fuzz && ./fuzz_config -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 corpus-config ../../tests/fuzz/corpus/config

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) $(wildcard include/pc6risk/*.h)
	mkdir -p build/fuzz/corpus-csv build/fuzz/corpus-config
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -g -O1 -Iinclude $$(pkg-config --cflags libcjson) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_SRC) $$(pkg-config --libs libcjson) -lm

install: $(BUILD)/pc6risk
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/demo/data
	install -m 755 $(BUILD)/pc6risk $(DESTDIR)$(BINDIR)/pc6risk
	install -m 644 demo/pc6risk.json $(DESTDIR)$(DATADIR)/demo/
	install -m 644 demo/data/* $(DESTDIR)$(DATADIR)/demo/data/
	if [ -f $(VIEWER) ]; then install -d $(DESTDIR)$(DATADIR)/viewer && \
		cp -R maps/viewer/dist/. $(DESTDIR)$(DATADIR)/viewer/; fi

clean:
	rm -rf build

.PHONY: all deps test check test-run demo view viewer bench fuzz fuzz-run install clean

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/tests/*/*.d $(BUILD)/obj/tests/*.d)
