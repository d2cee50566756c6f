/*
** kafka_broker.h - the dev broker (kafka_broker.c): librdkafka's in-process
** mock cluster, one broker on 127.0.0.1, for `sluice --dev-broker`,
** `sluice broker` and the tests.
**
** It behaves as a broker with topic auto-creation does: a topic a producer
** names is created (with the mock cluster's default of 4 partitions); a
** consumer's metadata request does not create one, as on a real broker.
** Topics with other partition counts are made up front (--topics, or
** sl_dev_broker_topics).  The Kafka connector (kafka.h) knows nothing of it:
** the engine only points kafka.brokers at its address.
**
** One dev broker per process; the calls are thread-safe.
*/
#ifndef SLUICE_KAFKA_BROKER_H
#define SLUICE_KAFKA_BROKER_H

#include "util.h"

/* Start the process's dev broker if it is not running; returns its
** bootstrap address (static storage), or NULL with err set. */
const char *sl_dev_broker_start(sl_err *err);
/* Accept clients on 127.0.0.1:port too (relayed to the mock broker, whose
** own port is chosen by librdkafka).  Returns "127.0.0.1:port" (static
** storage), or NULL when the port is taken (the mock's own address still
** works) or the broker does not run. */
const char *sl_dev_broker_listen(int port);
/* Create the topics of spec, "NAME[:PARTITIONS],..." (1 partition when none
** is given); a topic that exists is left as it is.  0, or -1 with err set
** (a malformed spec, no dev broker, or a topic the mock cluster refuses). */
int sl_dev_broker_topics(const char *spec, sl_err *err);
/* Stop it (no-op when not running). */
void sl_dev_broker_stop(void);

/* Inject a fault into the dev broker, for tests: "down", "up", "errors
** APIKEY COUNT CODE..." (the next COUNT requests of that Kafka API fail with
** those error codes), "topic-error TOPIC CODE", or "topics NAME:N,..." (as
** sl_dev_broker_topics).  A reply for people goes to reply.  0 or -1. */
int sl_dev_broker_control(const char *line, sl_buf *reply);

#endif /* SLUICE_KAFKA_BROKER_H */
