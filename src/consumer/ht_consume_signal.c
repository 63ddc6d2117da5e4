/*
 * SIGINT and SIGTERM end the consume loop: the handler only sets a flag,
 * which the loop reads once a turn (a poll waits HT_POLL_MS at most) and
 * a wait for the database reads before each try.
 */

#include <signal.h>
#include <string.h>

#include "ht_consume_state.h"


static volatile sig_atomic_t  ht_consume_stop;


static void ht_consume_on_signal(int signo);


void
ht_consume_catch_signals(void)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ht_consume_on_signal;
    sigemptyset(&sa.sa_mask);

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}


int
ht_consume_stopping(void)
{
    return ht_consume_stop;
}


static void
ht_consume_on_signal(int signo)
{
    ht_consume_stop = 1;
}
