# Sourced by nginx's auto/make after it has written objs/Makefile: the
# C++ object of the module (src/extract/hk_extract_fast.cpp) gets flags of
# its own.  nginx compiles every source with $(CC) and $(CFLAGS); C++ needs
# no exceptions (none may unwind into nginx's C) and no RTTI.

cat << END                                            >> $NGX_MAKEFILE

$NGX_OBJS/addon/extract/hk_extract_fast.o: CFLAGS += -std=gnu++17 \\
	-fno-exceptions -fno-rtti
END
