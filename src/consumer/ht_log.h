/*
 * Logging for hotel-trends: one line per event on stderr, with a UTC
 * timestamp and a level, so that a supervisor (systemd, a test script)
 * can keep and grep it.  Nothing here allocates.
 *
 * How a failure travels, everywhere in the consumer: the function that
 * fails returns a status (-1, NULL or an HT_STORE_* code) and writes one
 * line into the caller's buffer, "char *err, size_t errlen", the way
 * librdkafka does (its calls fill our buffer directly).  It does not log.
 * The code that decides what happens next (retry, drop the batch, exit)
 * logs it once, with what it was doing.  Only librdkafka's callbacks,
 * which have no caller to hand a failure to, log where they run.  A
 * function that can only run out of memory returns -1 or NULL and says
 * nothing more: its caller knows what that means.
 */

#ifndef HT_LOG_H
#define HT_LOG_H


#define HT_LOG_ERROR  0
#define HT_LOG_WARN   1
#define HT_LOG_INFO   2
#define HT_LOG_DEBUG  3


extern int  ht_log_level;


void ht_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define ht_log_error(...)  ht_log(HT_LOG_ERROR, __VA_ARGS__)
#define ht_log_warn(...)   ht_log(HT_LOG_WARN, __VA_ARGS__)
#define ht_log_info(...)   ht_log(HT_LOG_INFO, __VA_ARGS__)
#define ht_log_debug(...)  ht_log(HT_LOG_DEBUG, __VA_ARGS__)


#endif /* HT_LOG_H */
