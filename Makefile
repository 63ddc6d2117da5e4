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
PKGS        := rdkafka libprotobuf-c yajl simdjson sqlite3 libpq
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
pkg_libs     = $(shell pkg-config --libs $(1) 2>/dev/null) -lm -lpthread
WARN        := -Wall -Wextra -Werror -Wstrict-prototypes -Wno-unused-parameter
CFLAGS      ?= -O2 -g
BASE_CFLAGS := $(CFLAGS) $(CPPFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE \
               $(SAN_FLAGS) $(PKG_CFLAGS)
LDLIBS      := $(call pkg_libs,$(PKGS)) -lstdc++

# C++ (the extractor's simdjson reading only): C's warnings without the
# C-only ones, and no exceptions, so that none can unwind into C.
CXX         ?= g++
CXXFLAGS    ?= -O2 -g
BASE_CXXFLAGS := $(CXXFLAGS) $(CPPFLAGS) -Wall -Wextra -Werror \
               -Wno-unused-parameter -std=gnu++17 -fno-exceptions \
               -fno-rtti -D_GNU_SOURCE $(SAN_FLAGS) $(PKG_CFLAGS)

# The parts of src/, each a folder built into one static library; a
# program names the libraries it uses and the linker takes from each only
# the objects it needs.  Each part sees its own headers and those of the
# parts below it, never those of a part beside it:
#
#   core      the record schema and its rules, decimals, UTF-8, Kafka
#             configuration: shared by the module and the consumer
#   extract   the JSON result-page extractor: the module's only
#   consumer  hotel-trends
PROTO       := proto/hotel_search_result.proto
GEN_C       := $(GEN)/hotel_search_result.pb-c.c
PARTS       := core extract consumer
INC_core    := -Isrc/core -I$(GEN)
INC_extract := -Isrc/extract $(INC_core)
INC_consumer := -Isrc/consumer $(INC_core)
SRCS_core   := $(wildcard src/core/*.c) $(GEN_C)
SRCS_extract := $(wildcard src/extract/*.c src/extract/*.cpp)
SRCS_consumer := $(filter-out src/consumer/hotel_trends.c,\
                 $(wildcard src/consumer/*.c))
objs         = $(patsubst %,$(BUILD)/obj/$(1)/%.o,\
               $(basename $(notdir $(SRCS_$(1)))))
lib          = $(BUILD)/lib/libhk$(1).a
LIB_core    := $(call lib,core)
LIB_extract := $(call lib,extract)
LIB_consumer := $(call lib,consumer)
UNIT_SRCS   := $(wildcard t/unit/test_*.c)
UNIT_BINS   := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

.PHONY: all libs module consumer unit tools deps test demo bench deb clean

all: module consumer

$(GEN_C): $(PROTO)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=proto $(PROTO)

# one pattern rule and one library per part
define part
$(BUILD)/obj/$(1)/%.o: src/$(1)/%.c $(GEN_C) $(wildcard src/*/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(BASE_CFLAGS) $$(INC_$(1)) -c -o $$@ $$<

$(BUILD)/obj/$(1)/%.o: src/$(1)/%.cpp $(wildcard src/*/*.h)
	@mkdir -p $$(@D)
	$$(CXX) $$(BASE_CXXFLAGS) $$(INC_$(1)) -c -o $$@ $$<

$(LIB_$(1)): $(call objs,$(1))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef

$(foreach p,$(PARTS),$(eval $(call part,$(p))))

$(BUILD)/obj/core/%.o: $(GEN)/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(INC_core) -c -o $@ $<

libs: $(foreach p,$(PARTS),$(LIB_$(p)))

consumer: $(CONSUMER)

$(CONSUMER): $(BUILD)/obj/consumer/hotel_trends.o $(LIB_consumer) $(LIB_core)
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $^ \
	    $(call pkg_libs,rdkafka libprotobuf-c yajl sqlite3 libpq)

# unit tests see every part and link what they use
UNIT_INC    := -It/unit -Isrc/consumer -Isrc/extract $(INC_core)
UNIT_LIBS   := $(LIB_consumer) $(LIB_extract) $(LIB_core)

unit: $(UNIT_BINS)
	prove --exec '' $(UNIT_BINS)

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(UNIT_LIBS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(BASE_CFLAGS) $(UNIT_INC) -o $@ $< $(UNIT_LIBS) $(LDLIBS)

# test tools (t/tools/*.c): small programs the suites drive
TOOLS       := $(patsubst t/tools/%.c,$(BUILD)/tools/%,$(wildcard t/tools/*.c))

tools: $(TOOLS)

$(BUILD)/tools/%: t/tools/%.c
	@mkdir -p $(BUILD)/tools
	$(CC) $(BASE_CFLAGS) -o $@ $< $(LDLIBS)

# configure must run again when a module source file comes or goes
MODULE_SRCS := $(sort $(wildcard ngx_module/*.[ch] src/core/*.[ch] \
                                 src/extract/*.[ch] src/extract/*.cpp))
$(shell mkdir -p $(BUILD); echo '$(MODULE_SRCS)' | cmp -s - $(BUILD)/module-srcs \
    || echo '$(MODULE_SRCS)' > $(BUILD)/module-srcs)

# The module is built inside a copy of Debian's nginx source tree,
# configured exactly like the installed binary (its conf_flags) so that
# load_module accepts the result.  CFLAGS, CPPFLAGS and LDFLAGS reach it
# through --with-cc-opt and --with-ld-opt (debian/rules builds through
# this target with dpkg-buildflags'); a CFLAGS in the environment would
# make nginx's configure drop its own warnings and -Werror.
module: $(MODULE)

$(BUILD)/nginx/objs/Makefile: config $(NGINX_SRC)/conf_flags $(BUILD)/module-srcs $(PROTO)
	@test -f $(NGINX_SRC)/conf_flags || { \
	    echo "missing $(NGINX_SRC): apt-get install nginx-dev" >&2; exit 1; }
	rm -rf $(BUILD)/nginx && mkdir -p $(BUILD)/nginx
	cp -r $(NGINX_SRC)/. $(BUILD)/nginx/
	cd $(BUILD)/nginx && . ./conf_flags && env -u CFLAGS ./configure \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(CFLAGS) $(CPPFLAGS) $(SAN_FLAGS)" \
	    --with-ld-opt="$(LDFLAGS) $(SAN_FLAGS)" \
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

# The Debian packages (debian/), built by dpkg-buildpackage in a copy of
# this tree so that its results land in build/deb/ and not beside the
# checkout: libnginx-mod-http-hotel-kafka_*.deb, hotel-trends_*.deb and
# their .changes.  `lintian build/deb/*.changes` checks them.
DEB_DIR     := $(BUILD)/deb
DEB_JOBS    ?= 2

deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -c --exclude-vcs --exclude=./build --exclude=./build-asan \
	    --exclude=./t/servroot --exclude=./fuzz/build . \
	    | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc --jobs-try=$(DEB_JOBS)
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan t/servroot
