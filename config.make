# Sourced by nginx's auto/make after it has written objs/Makefile: the
# C++ objects of the module (src/extract/hk_extract_fast*.cpp) get flags of
# their own.  nginx compiles every source with $(CC) and $(CFLAGS); C++ needs
# no exceptions (none may unwind into nginx's C) and no RTTI.

cat << END                                            >> $NGX_MAKEFILE

$NGX_OBJS/addon/extract/hk_extract_fast.o: CFLAGS += -std=gnu++17 \\
	-fno-exceptions -fno-rtti
$NGX_OBJS/addon/extract/hk_extract_fast_shape.o: CFLAGS += -std=gnu++17 \\
	-fno-exceptions -fno-rtti
END
