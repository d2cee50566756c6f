/*
** show_topics.h - SHOW TOPICS (show_topics.c): the Kafka topics of the
** brokers SET kafka.brokers names, one row (topic, partitions) each.
*/
#ifndef SLUICE_SHOW_TOPICS_H
#define SLUICE_SHOW_TOPICS_H

#include <signal.h>

#include "catalog.h"
#include "engine_int.h"

/* Rows (topic, partitions) of every topic, by name, to fn(ud, ...), asked of
** the brokers of cat's kafka.* settings (authorized through auth; borrowed)
** for 10 s at most or until *interrupted.  0, or -1 with err set. */
int sl_show_topics(sl_catalog *cat, const struct sl_auth *auth, volatile sig_atomic_t *interrupted,
                   sl_row_fn fn, void *ud, sl_err *err);

#endif /* SLUICE_SHOW_TOPICS_H */
