/*
 * Logging for hotel-trends.  The line is formatted into one buffer and
 * written with a single write(2) so that lines from the consumer and from
 * librdkafka's log callback (another thread) never interleave.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ht_log.h"


int  ht_log_level = HT_LOG_INFO;

static const char  *ht_log_names[] = { "error", "warn", "info", "debug" };


void
ht_log(int level, const char *fmt, ...)
{
    char            line[1024];
    size_t          len;
    va_list         args;
    struct tm       tm;
    struct timeval  tv;

    if (level > ht_log_level) {
        return;
    }

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);

    len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    len += snprintf(line + len, sizeof(line) - len, ".%03dZ hotel-trends %s: ",
                    (int) (tv.tv_usec / 1000), ht_log_names[level]);

    va_start(args, fmt);
    vsnprintf(line + len, sizeof(line) - len, fmt, args);
    va_end(args);

    len = strlen(line);

    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
    }

    line[len++] = '\n';

    /* stderr is unbuffered; a short write of a log line is not worth a retry */
    if (write(STDERR_FILENO, line, len) < 0) {
        return;
    }
}
