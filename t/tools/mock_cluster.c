/*
 * A librdkafka mock cluster in its own process, for the faults a real
 * broker cannot be made to produce on demand (a fatal idempotence error).
 * It is never the broker a test relies on to say the system works.
 *
 *   mock_cluster [BROKERS]
 *
 * Prints the bootstrap list on the first line of stdout, then reads
 * commands on stdin, one per line, and answers "ok" or "error ...":
 *
 *   produce-errors ERRNAME COUNT   the next COUNT Produce requests fail
 *                                  with ERRNAME (rd_kafka_err2name())
 *   quit                           (or end of input) stops the cluster
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>


/* the Kafka protocol's ApiKey of ProduceRequest */
#define MOCK_API_PRODUCE  0


static int
mock_err_by_name(const char *name, rd_kafka_resp_err_t *err)
{
    const struct rd_kafka_err_desc  *descs;
    size_t                           n, i;

    rd_kafka_get_err_descs(&descs, &n);

    for (i = 0; i < n; i++) {
        if (descs[i].name && strcmp(descs[i].name, name) == 0) {
            *err = descs[i].code;
            return 0;
        }
    }

    return -1;
}


int
main(int argc, char **argv)
{
    int                       brokers, count;
    char                      line[256], name[128], errstr[512];
    rd_kafka_t               *rk;
    rd_kafka_conf_t          *conf;
    rd_kafka_resp_err_t       err;
    rd_kafka_mock_cluster_t  *mcluster;

    brokers = (argc > 1) ? atoi(argv[1]) : 1;

    conf = rd_kafka_conf_new();

    /* the handle only hosts the cluster; it never connects anywhere */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "mock_cluster: %s\n", errstr);
        return 1;
    }

    mcluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (mcluster == NULL) {
        fprintf(stderr, "mock_cluster: cluster not created\n");
        return 1;
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
    fflush(stdout);

    while (fgets(line, sizeof(line), stdin) != NULL) {

        if (sscanf(line, "produce-errors %127s %d", name, &count) == 2) {
            if (mock_err_by_name(name, &err) != 0 || count < 1) {
                printf("error unknown error name %s\n", name);

            } else {
                while (count--) {
                    rd_kafka_mock_push_request_errors(mcluster,
                                                      MOCK_API_PRODUCE, 1,
                                                      err);
                }

                printf("ok\n");
            }

        } else if (strncmp(line, "quit", 4) == 0) {
            break;

        } else {
            printf("error unknown command\n");
        }

        fflush(stdout);
    }

    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);

    return 0;
}
