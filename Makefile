# otgate: plain GNU make. Objects live under $(BUILD); SAN=1 builds an
# ASan+UBSan tree under build/san. Sources are found by folder:
#   common/ policy/ recorder/ pam/ broker/ report/ -> build/libotg.a (minus the below)
#   broker/main.c                           -> otgated's main
#   cli/otgate.c and */cmd_*.c              -> otgate (verbs live with their component)
#   pam/pam_otgate.c                        -> pam_otgate.so
#   tests/unit/test_*.c                     -> one cmocka program each
#   tests/fuzz/*_fuzz.c                     -> one libFuzzer program each (clang)

SAN ?= 0
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 30

ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD := build
SANFLAGS :=
endif

PKGS := libssh libevent liboath libcrypto libsodium sqlite3 libqrencode libseccomp vterm
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpam -lcrypt -lpthread

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -fPIC -I. $(WARN) $(PKG_CFLAGS) $(SANFLAGS) \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS += $(SANFLAGS) -Wl,-z,relro,-z,now

CMD_SRC := cli/otgate.c $(wildcard */cmd_*.c)
PAM_MODULE_SRC := pam/pam_otgate.c
LIB_SRC := $(filter-out $(CMD_SRC) $(PAM_MODULE_SRC) broker/main.c, \
	$(wildcard common/*.c policy/*.c recorder/*.c pam/*.c broker/*.c report/*.c))
PAM_LIB_SRC := $(wildcard common/*.c) $(filter-out $(PAM_MODULE_SRC) pam/cmd_%.c pam/qr.c,$(wildcard pam/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(LIB_SRC))
CMD_OBJ := $(call obj,$(CMD_SRC))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

PROGRAMS := $(BUILD)/otgate \
	$(if $(wildcard broker/main.c),$(BUILD)/otgated) \
	$(if $(wildcard $(PAM_MODULE_SRC)),$(BUILD)/pam_otgate.so)

.PHONY: all deps check unit e2e demo fuzz fuzz-build fuzz-long install clean deb
all: $(PROGRAMS)

# The one file that bridges libssh's message API may use its deprecated getters.
$(BUILD)/obj/broker/sshmsg.o: WARN += -Wno-error=deprecated-declarations

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libotg.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/otgated: $(call obj,broker/main.c) $(BUILD)/libotg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/otgate: $(CMD_OBJ) $(BUILD)/libotg.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/pam_otgate.so: $(call obj,$(PAM_MODULE_SRC) $(PAM_LIB_SRC))
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=pam/pam_otgate.map -o $@ $^ \
		$(shell pkg-config --libs liboath libcrypto) -lpam -lcrypt

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libotg.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libotg.a $(LDFLAGS) $(PKG_LIBS) -lcmocka

deps:
	@packaging/deps.sh

unit: $(UNIT_BIN)

check: deps
	@$(MAKE) --no-print-directory all unit
	@tests/run $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

# libFuzzer targets: every library source rebuilt with clang and the fuzzer's
# instrumentation; each target runs FUZZ_SECONDS on its seed corpus.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -g -O1 $(PKG_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC))
.SECONDARY: $(FUZZ_LIB_OBJ)	# shared by every target: keep them between runs

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Wno-deprecated-declarations -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-long: fuzz-build
	@tests/fuzz/run 3600 $(FUZZ_BIN)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/lib/security
	install -m 0755 $(BUILD)/otgated $(DESTDIR)$(PREFIX)/sbin/otgated
	install -m 0755 $(BUILD)/otgate $(DESTDIR)$(PREFIX)/bin/otgate
	install -m 0644 $(BUILD)/pam_otgate.so $(DESTDIR)$(PREFIX)/lib/security/pam_otgate.so
	for m in $(wildcard packaging/man/*.[158]); do \
		install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; done

# The Debian package, built from a staged copy under build/deb/; the .deb lands in build/.
deb:
	@packaging/deps.sh deb
	@packaging/mkdeb.sh

clean:
	rm -rf build

-include $(shell find build -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
