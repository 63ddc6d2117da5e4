# The project's build: the nginx module, the consumer, the unit tests.
# `make` builds everything, `make test` runs every test, `make demo` the
# main job. Warnings are errors everywhere.

SHELL       := /bin/bash
NGINX_SRC   ?= /usr/share/nginx/src
BUILD       := build

# SANITIZE=1 builds the module, the consumer and the unit tests with
# ASan and UBSan (into build-asan/ unless BUILD is given).
ifeq ($(SANITIZE),1)
BUILD       := build-asan
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
endif

GEN         := $(BUILD)/gen
MODULE      := $(BUILD)/ngx_http_hotel_kafka_module.so
CONSUMER    := $(BUILD)/hotel-trends


CC          ?= cc
PKGS        := rdkafka libprotobuf-c yajl sqlite3 libpq
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN        := -Wall -Wextra -Werror -Wstrict-prototypes -Wno-unused-parameter
CFLAGS      ?= -O2 -g
ALL_CFLAGS  := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $(SAN_FLAGS) \
               -Isrc -I$(GEN) $(PKG_CFLAGS)
LDLIBS      := $(PKG_LIBS) -lm -lpthread

PROTO       := proto/hotel_search_result.proto
GEN_C       := $(GEN)/hotel_search_result.pb-c.c
HK_SRCS     := $(GEN_C) $(wildcard src/hk_*.c)
HT_SRCS     := $(wildcard src/ht_*.c)
HK_OBJS     := $(patsubst %.c,$(BUILD)/obj/%.o,$(notdir $(HK_SRCS)))
HT_OBJS     := $(patsubst %.c,$(BUILD)/obj/%.o,$(notdir $(HT_SRCS)))
UNIT_SRCS   := $(wildcard t/unit/test_*.c)
UNIT_BINS   := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

vpath %.c src $(GEN) t/unit

.PHONY: all module consumer unit tools deps test demo bench clean

all: module consumer

$(GEN_C): $(PROTO)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=proto $(PROTO)

$(BUILD)/obj/%.o: %.c $(GEN_C) $(wildcard src/*.h)
	@mkdir -p $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

consumer: $(CONSUMER)

$(CONSUMER): $(BUILD)/obj/hotel_trends.o $(HT_OBJS) $(HK_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BINS)
	prove --exec '' $(UNIT_BINS)

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(HT_OBJS) $(HK_OBJS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -It/unit -o $@ $< $(HT_OBJS) $(HK_OBJS) $(LDLIBS)

# test tools (t/tools/*.c): small programs the suites drive
TOOLS       := $(patsubst t/tools/%.c,$(BUILD)/tools/%,$(wildcard t/tools/*.c))

tools: $(TOOLS)

$(BUILD)/tools/%: t/tools/%.c
	@mkdir -p $(BUILD)/tools
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

# configure must run again when a module source file comes or goes
MODULE_SRCS := $(sort $(wildcard ngx_module/*.[ch] src/hk_*.[ch]))
$(shell mkdir -p $(BUILD); echo '$(MODULE_SRCS)' | cmp -s - $(BUILD)/module-srcs \
    || echo '$(MODULE_SRCS)' > $(BUILD)/module-srcs)

# The module is built inside a copy of Debian's nginx source tree,
# configured exactly like the installed binary (its conf_flags) so that
# load_module accepts the result.
module: $(MODULE)

$(BUILD)/nginx/objs/Makefile: config $(NGINX_SRC)/conf_flags $(BUILD)/module-srcs $(PROTO)
	@test -f $(NGINX_SRC)/conf_flags || { \
	    echo "missing $(NGINX_SRC): apt-get install nginx-dev" >&2; exit 1; }
	rm -rf $(BUILD)/nginx && mkdir -p $(BUILD)/nginx
	cp -r $(NGINX_SRC)/. $(BUILD)/nginx/
	cd $(BUILD)/nginx && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="-O2 -g $(SAN_FLAGS)" --with-ld-opt="$(SAN_FLAGS)" \
	    --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 configure.log >&2; exit 1; }

$(MODULE): $(BUILD)/nginx/objs/Makefile $(MODULE_SRCS) $(PROTO)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@# a new inode: an nginx running the old module keeps its mapping
	cp $(BUILD)/nginx/objs/ngx_http_hotel_kafka_module.so $@.tmp
	mv -f $@.tmp $@

deps:
	scripts/deps

test:
	scripts/test

demo:
	scripts/demo

bench:
	bench/run

clean:
	rm -rf build build-asan t/servroot
