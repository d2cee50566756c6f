/*
** kafka.h - the Kafka connector (conn_kafka.c) and the embedded dev broker.
*/
#ifndef SLUICE_KAFKA_H
#define SLUICE_KAFKA_H

#include "connector.h"

extern const sl_connector sl_conn_kafka;

/* Start the process's dev broker (librdkafka's in-process mock cluster, one
** broker on 127.0.0.1) if it is not running; returns its bootstrap address
** (static storage), or NULL with err set. */
const char *sl_dev_broker_start(sl_err *err);
/* Accept clients on 127.0.0.1:port too (relayed to the mock broker, whose
** own port is chosen by librdkafka).  Returns "127.0.0.1:port", or NULL when
** the port is taken (the mock's own address still works). */
const char *sl_dev_broker_listen(int port);
/* Stop it (no-op when not running). */
void sl_dev_broker_stop(void);
/* Create topic on the dev broker when it runs (and leave an existing one);
** 0 when done or when there is no dev broker, -1 on failure. */
int sl_dev_broker_topic(const char *topic, int partitions);

/* Inject a fault into the dev broker, for tests: "down", "up", or "errors
** APIKEY COUNT CODE..." (the next COUNT requests of that Kafka API fail with
** those error codes).  A reply for people goes to reply.  0 or -1. */
int sl_dev_broker_control(const char *line, sl_buf *reply);

#endif /* SLUICE_KAFKA_H */
