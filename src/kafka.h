/*
** kafka.h - the Kafka connector, kafka('topic', ...), on librdkafka.
**
** Three files make it: kafka_source.c (the consumer), kafka_sink.c (the
** producer, with its exactly-once id set) and kafka.c (what both share: the
** connector entry, the librdkafka configuration made from a call's options,
** the topic's partition count).  The connector talks to brokers only through
** the Kafka protocol: it knows nothing of the dev broker (kafka_broker.h),
** which behaves as any broker does (a topic a producer names is created).
**
** Options shared by source and sink: the topic (positional), brokers =>
** 'host:port' (default: SET kafka.brokers, which --brokers and --dev-broker
** set), and any librdkafka property by its dotted name ('security.protocol'
** => 'SSL'); librdkafka's own message is the bind error for a bad one.
**
** Planning (sl_options.check_only): both opens read and check every option,
** properties included (a local rd_kafka_conf_t does no I/O), and fill the
** schema and format, but create no client handle: nothing is contacted.
*/
#ifndef SLUICE_KAFKA_H
#define SLUICE_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "connector.h"

extern const sl_connector sl_conn_kafka;

/* The opens behind sl_conn_kafka (kafka_source.c, kafka_sink.c); the
** connector contract of connector.h. */
sl_source *sl_kafka_open_source(sl_options *o, sl_err *err);
sl_sink *sl_kafka_open_sink(sl_options *o, sl_err *err);
/* The consumer lag of source s per partition it reads, as its lag() counts
** it: up to max (partition, lag) pairs into parts and lags; returns how
** many (0 for a source that is not Kafka's, or before any fetch answer). */
int sl_kafka_partition_lag(sl_source *s, int32_t *parts, int64_t *lags, int max);

/* The header a sink with origin => true puts on each message:
** "<partition>:<offset>" of the row's input record (kafka_sink.c), read
** back into sl_record.origin and origin_pos (kafka_source.c). */
#define SL_ORIGIN_HEADER "sluice-origin"

/* The longest origin header value sl_kafka_parse_origin accepts, in bytes:
** the longest canonical one is 30 ("2147483646:9223372036854775807"), the
** rest is room for leading zeros. */
#define SL_ORIGIN_MAX 40

/* Parse an origin header's value z[0..n) ("<partition>:<offset>": decimal
** digits only, no sign or spaces, leading zeros allowed, at most
** SL_ORIGIN_MAX bytes; partition 0 to 2^31-2, offset 0 to 2^63-1) into
** *part and *pos.  0, or -1 when it is not one (the record then has no
** origin) and *part and *pos are left as they were.  Reads z[0..n) only;
** z need not be terminated. */
int sl_kafka_parse_origin(const char *z, size_t n, int32_t *part, int64_t *pos);

/* The topic, option "0": NULL with a bind error naming an example
** (kafka('<example>')) when it is missing.  Borrowed from o. */
const char *sl_kafka_topic(sl_options *o, const char *example, sl_err *err);

/* A librdkafka configuration from the call's options: brokers, and every
** dotted option as a property (each marked used).  The caller owns the
** result.  NULL with a bind error (at the option) when brokers are missing
** or librdkafka refuses a property.  No I/O. */
rd_kafka_conf_t *sl_kafka_conf(sl_options *o, sl_err *err);

/* The number of partitions of topic, asked of the brokers through rk for
** 10 s at most (a topic being created has no leader yet: asked again for up
** to 5 s more), or until *interrupted is set (interrupted may be NULL).
** -1 with err set ("kafka: <what> <topic>: <reason>"). */
int sl_kafka_partition_count(rd_kafka_t *rk, const char *topic, const char *what,
                             volatile sig_atomic_t *interrupted, sl_err *err);

/* Make topic with nparts partitions unless the brokers list it, through
** rk: the admin API's CreateTopics (the brokers' replication factor),
** waiting 5 s at most; compact: a state topic (state_topic =>:
** cleanup.policy=compact, max.message.bytes SL_KAFKA_STATE_MAX).  A broker
** that does not create it (one without CreateTopics) gets a metadata
** request for it, which creates it as a producer's does, with the broker's
** own partition count; stderr says so.  The partition count the topic
** has (a topic already there keeps its own: the caller checks), or -1 with
** err set ("kafka: topic <topic>: <reason>"). */
int sl_kafka_make_topic(rd_kafka_t *rk, const char *topic, int nparts, int compact,
                        volatile sig_atomic_t *interrupted, sl_err *err);

/* The watermarks of partition p of topic, asked of the brokers through rk:
** *lo the first offset kept, *hi the first past the end.  0, or -1 with err
** set ("kafka: end offsets of <topic>: <reason>"). */
int sl_kafka_watermarks(rd_kafka_t *rk, const char *topic, int p, int64_t *lo, int64_t *hi,
                        sl_err *err);

/* The largest state record of a partition (state_topic =>): the state
** producer's message.max.bytes and the state topic's max.message.bytes. */
#define SL_KAFKA_STATE_MAX "67108864"

#endif /* SLUICE_KAFKA_H */
