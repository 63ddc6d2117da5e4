/*
 * A minimal TAP producer for the C unit tests, read by prove.
 *
 * Each test binary calls ok()/is_int()/is_str() and ends with
 * done_testing(), which prints the plan and returns the exit status.
 */

#ifndef TAP_H
#define TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>


static int  tap_run;
static int  tap_failed;


static int
tap_ok(int pass, const char *file, int line, const char *name)
{
    tap_run++;

    if (!pass) {
        tap_failed++;
    }

    printf("%sok %d - %s\n", pass ? "" : "not ", tap_run, name);

    if (!pass) {
        printf("#   failed at %s line %d\n", file, line);
    }

    return pass;
}


#define ok(cond, name)  tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, name)

#define is_int(got, want, name)                                               \
    do {                                                                      \
        int64_t  got_ = (int64_t) (got), want_ = (int64_t) (want);            \
        if (!ok(got_ == want_, name)) {                                       \
            printf("#   got %" PRId64 ", want %" PRId64 "\n", got_, want_);   \
        }                                                                     \
    } while (0)

#define is_str(got, want, name)                                               \
    do {                                                                      \
        const char  *got_ = (got), *want_ = (want);                           \
        if (!ok(got_ != NULL && strcmp(got_, want_) == 0, name)) {            \
            printf("#   got \"%s\", want \"%s\"\n",                           \
                   got_ ? got_ : "(null)", want_);                            \
        }                                                                     \
    } while (0)

#define done_testing()                                                        \
    (printf("1..%d\n", tap_run), tap_failed ? 1 : 0)


/* the elements of an array a test walks */
#define nelts(a)  (sizeof(a) / sizeof((a)[0]))


#endif /* TAP_H */
