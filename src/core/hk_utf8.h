/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no UTF-16 surrogates,
 * nothing above U+10FFFF.  A hotel id becomes a proto3 string, which
 * protoc and other languages' decoders refuse to parse otherwise, so the
 * module checks every id it publishes and the consumer every id it reads.
 */

#ifndef HK_UTF8_H
#define HK_UTF8_H

#include <stddef.h>


/* 1 if s[0..len) is valid UTF-8, else 0; pure, allocates nothing */
int hk_utf8_valid(const unsigned char *s, size_t len);

/* 1 if s[0..len) holds an ASCII control character (C0 or DEL), else 0 */
int hk_utf8_has_control(const unsigned char *s, size_t len);


#endif /* HK_UTF8_H */
