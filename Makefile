# mig: build, test, install.
#
#   make                 build every program into bin/
#   make test            the whole bats suite (what CI runs; ends with "N passed,
#                        N failed"); among its tests make analyze and a fuzz
#                        smoke; the hostile-input suites run on the sanitizer build
#   make test-asan       the whole suite against the AddressSanitizer + UBSan build
#   make verify          the main job: verify migrations/ on a clean SQLite database
#   make asan            AddressSanitizer + UBSan build in build/asan/bin
#   make test-valgrind   the whole suite with every program under valgrind memcheck
#   make analyze         cppcheck and clang-tidy (.clang-tidy) over tools/; any finding fails
#   make bench           mig against Alembic + SQLAlchemy (scripts/bench.sh)
#   make fuzz            libFuzzer targets, FUZZ_SECONDS (default 60) each; then
#                        the exactly-once model, MIG_MODEL_HISTORIES (60) of them
#   make fuzz-smoke      the same, 15 s per target (CI)
#   make install         PREFIX=/usr/local DESTDIR= (programs and man pages)
#   make dist            mig-VERSION.tar.gz of the tracked files (in DISTDIR=.),
#                        which builds on its own with make && make install
#
# Warnings are appended after the user's CFLAGS, so they cannot be
# switched off from the command line; WERROR=0 keeps them warnings (for
# distribution builds with other compilers).  CPPFLAGS, CFLAGS and LDFLAGS
# are honoured.  LIBPQ names the libpq library loaded at run time
# (macOS: LIBPQ=libpq.5.dylib).

# The version is kept in one place, tools/lib/mig.h.
VERSION := $(shell sed -n 's/^\#define MIG_VERSION "\(.*\)"$$/\1/p' tools/lib/mig.h)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man/man1
MAN7DIR ?= $(PREFIX)/share/man/man7
CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
# libpq is loaded when a PostgreSQL URL is first used (tools/lib/pq.c), so
# its headers are needed to build but it is not linked.
# nettle: SHA-256 of migration files (mig.sum, mig_history)
# inih: alembic.ini beside an Alembic folder (its file_template)
PKGS = libpq sqlite3 yaml-0.1 nettle inih
LINK_PKGS = sqlite3 yaml-0.1 nettle inih

BUILD ?= build/default
BIN ?= bin

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null)
# dlopen() is in libc since glibc 2.34; older ones need libdl, which
# --as-needed keeps only then.
DL_LIBS = -Wl,--push-state,--as-needed -ldl -Wl,--pop-state
LIBPQ ?= libpq.so.5
WERROR ?= 1
WARN = -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(HARDEN) $(PKG_CFLAGS) $(WARN) -Itools/lib \
	-DMIG_LIBPQ=\"$(LIBPQ)\"
ALL_LDFLAGS = $(LDFLAGS) $(LDHARDEN)

PROGRAMS = mig-upgrade mig-downgrade mig-status mig-verify mig-check-schema mig-stamp mig-new \
	mig-import
# mig-import's Python driver: beside the programs in a build, in
# PREFIX/share/mig when installed (tools/lib/import_driver.h).
IMPORT_DRIVER = mig_import_driver.py
SHAREDIR ?= $(PREFIX)/share/mig
LIB_SRC = $(sort $(wildcard tools/lib/*.c))
LIB_OBJ = $(LIB_SRC:tools/lib/%.c=$(BUILD)/lib/%.o)
LIB = $(BUILD)/libmig.a
HEADERS = $(wildcard tools/lib/*.h)
MANPAGES = $(PROGRAMS:%=tools/man/%.1)

all: $(PROGRAMS:%=$(BIN)/%) $(BIN)/$(IMPORT_DRIVER)

$(BIN)/$(IMPORT_DRIVER): tools/$(IMPORT_DRIVER)
	@mkdir -p $(@D)
	cp $< $@

# Each object depends on the headers it includes (-MMD writes them to a .d
# file beside it), so changing one module's header rebuilds only its users.
$(BUILD)/lib/%.o: tools/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(PROGRAMS:%=$(BUILD)/%.d)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(BIN)/%: $(BUILD)/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(DL_LIBS)

# The sanitizer build: same sources, its own objects and programs.
asan:
	$(MAKE) BUILD=build/asan BIN=build/asan/bin \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" HARDEN="-fPIE" all

# The suites that feed the programs hostile input (those that call
# use_sanitizer_build: the bad-input catalog, the fuzz regressions, mig-stamp,
# mig-check-schema) run against the sanitizer build, the rest against bin/.
test: all asan
	MIG_BIN=$(CURDIR)/$(BIN) MIG_ASAN_BIN=$(CURDIR)/build/asan/bin test/run.sh

test-asan: all asan
	MIG_BIN=$(CURDIR)/build/asan/bin MIG_ASAN_BIN=$(CURDIR)/build/asan/bin test/run.sh

# The whole suite with every program under valgrind's memcheck: any error or
# leak fails (scripts/test-valgrind.sh; library-internal suppressions, each
# with its reason, in test/valgrind.supp).
test-valgrind: all
	scripts/test-valgrind.sh

# Static analysis of every program and library source, with the build's
# flags.  cppcheck gets only the include paths: a -D would narrow the
# configurations it checks.  clang-tidy runs ANALYZE_JOBS files at a time;
# each file's report is printed whole, and any finding fails the target.
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
ANALYZE_JOBS ?= 2
ANALYZE_SRC = $(sort $(wildcard tools/*.c)) $(LIB_SRC)

analyze:
	$(CPPCHECK) --quiet --std=c11 --library=posix -j$(ANALYZE_JOBS) \
		--enable=warning,style,performance,portability --error-exitcode=1 \
		--suppress=missingIncludeSystem \
		$(filter -I%,$(PKG_CFLAGS)) -Itools/lib $(ANALYZE_SRC)
	@echo "clang-tidy: $(words $(ANALYZE_SRC)) files, $(ANALYZE_JOBS) at a time"
	@printf '%s\n' $(ANALYZE_SRC) | xargs -P$(ANALYZE_JOBS) -I{} sh -c \
		'out=$$($(CLANG_TIDY) --quiet --config-file=.clang-tidy "$$1" -- $(ALL_CFLAGS) 2>&1); rc=$$?; \
		printf "%s\n" "$$out" | grep -Ev "^\$$|^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.\$$"; \
		exit $$rc' sh {}

# The main job: this repository's migrations on a clean SQLite database.
verify: all
	@scripts/verify-main.sh $(BIN)

# mig against Alembic, side by side (BENCH_QUICK=1: small and once).
bench: all
	scripts/bench.sh

FUZZ_SECONDS ?= 60

fuzz: all
	fuzz/run.sh $(FUZZ_SECONDS)
	# the exactly-once model (issue 15), more histories than CI's fixed seed
	MIG_MODEL_SEED=$${MIG_MODEL_SEED:-$$$$} MIG_MODEL_HISTORIES=$${MIG_MODEL_HISTORIES:-60} \
		MIG_BIN=$(CURDIR)/$(BIN) test/run.sh test/exactly-once-model.bats

fuzz-smoke:
	fuzz/run.sh 15

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(MAN7DIR)
	install -m 755 $(PROGRAMS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)/
	install -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/
	install -m 644 tools/man/mig.7 $(DESTDIR)$(MAN7DIR)/
	install -d $(DESTDIR)$(SHAREDIR)
	install -m 644 tools/$(IMPORT_DRIVER) $(DESTDIR)$(SHAREDIR)/

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%) $(PROGRAMS:%=$(DESTDIR)$(MANDIR)/%.1)
	rm -f $(DESTDIR)$(MAN7DIR)/mig.7 $(DESTDIR)$(SHAREDIR)/$(IMPORT_DRIVER)

# The release tarball: every tracked file as in the work tree, under
# mig-VERSION/, written to DISTDIR (default: here).  Needs a git checkout.
DIST = mig-$(VERSION)
DISTDIR ?= .

dist:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "make dist: needs a git checkout (it packs the tracked files)" >&2; exit 2; }
	git ls-files -z | LC_ALL=C sort -z | tar --null -T - --transform 's|^|$(DIST)/|' \
		--owner=0 --group=0 --numeric-owner --mode=go-w -czf $(DISTDIR)/$(DIST).tar.gz
	@echo "make dist: $(DISTDIR)/$(DIST).tar.gz"

clean:
	rm -rf build $(BIN) fuzz/build

.PHONY: all asan test test-asan test-valgrind analyze verify bench fuzz fuzz-smoke install uninstall dist clean
.SECONDARY: $(LIB_OBJ) $(PROGRAMS:%=$(BUILD)/%.o)
