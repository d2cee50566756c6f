/*
** serve_hist.h - what `sluice serve` remembers of a query's recent past
** (serve_hist.c): its throughput and batch latency sampled every second
** for the last SL_QHIST_N seconds, for GET /queries/ID and the console's
** charts; and the latency histogram's quantiles.
*/
#ifndef SLUICE_SERVE_HIST_H
#define SLUICE_SERVE_HIST_H

#include <cjson/cJSON.h>

#include "run.h"

#define SL_QHIST_N 600 /* samples kept: 10 minutes at one a second */

typedef struct sl_qhist sl_qhist;

/* The q-quantile (0 < q < 1) of a batch latency histogram (lat: counts per
** bucket of sl_lat_bounds, not cumulative) in milliseconds, as Prometheus'
** histogram_quantile estimates it: linear within the bucket the rank falls
** in, the last finite bound for the +Inf bucket.  -1 when it counts no
** batch. */
double sl_lat_quantile(const uint64_t *lat, double q);

/* Add a sample of query qi, taken at mono_ms (monotonic) and wall_ms (since
** the epoch), to *h (made at the first call; owned by the caller, freed
** with sl_qhist_free): its records in and out per second and the p50 and
** p99 of the batches since the previous sample.  The first sample only
** sets the baseline. */
void sl_qhist_sample(sl_qhist **h, const sl_query_info *qi, int64_t mono_ms, int64_t wall_ms);
/* {"now_ms": wall_ms, "points": [[t_ms, in_per_s, out_per_s, p50_ms, p99_ms], ...]}
** oldest first, t_ms since the epoch, a quantile null when no batch ran in
** that second.  h may be NULL (no point).  The caller owns the result. */
cJSON *sl_qhist_json(const sl_qhist *h, int64_t wall_ms);
void sl_qhist_free(sl_qhist *h);

#endif /* SLUICE_SERVE_HIST_H */
