/*
** serve_hist.c - a query's recent throughput and batch latency, sampled
** by `sluice serve` every second (serve_hist.h), and the quantiles of its
** latency histogram.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve_hist.h"
#include "util.h"

struct sl_qhist {
  int64_t last_mono; /* the previous sample: when, and its counters */
  int64_t last_in, last_out;
  uint64_t last_lat[SL_LAT_NB];
  int n, head; /* points held; the next one's index in the ring */
  struct {
    int64_t t;       /* wall clock, ms since the epoch */
    double in, out;  /* records per second */
    double p50, p99; /* ms; -1: no batch */
  } pt[SL_QHIST_N];
};

double sl_lat_quantile(const uint64_t *lat, double q) {
  uint64_t total = 0, cum = 0;
  for (int l = 0; l < SL_LAT_NB; l++)
    total += lat[l];
  if (!total) return -1;
  double rank = q * (double)total;
  for (int l = 0; l < SL_LAT_NB; l++) {
    if (!lat[l] || (double)(cum + lat[l]) < rank) {
      cum += lat[l];
      continue;
    }
    if (l == SL_LAT_NB - 1) return sl_lat_bounds[SL_LAT_NB - 2] * 1e3;
    double lo = l ? sl_lat_bounds[l - 1] : 0, hi = sl_lat_bounds[l];
    return (lo + (hi - lo) * (rank - (double)cum) / (double)lat[l]) * 1e3;
  }
  return sl_lat_bounds[SL_LAT_NB - 2] * 1e3;
}

void sl_qhist_sample(sl_qhist **hp, const sl_query_info *qi, int64_t mono_ms, int64_t wall_ms) {
  sl_qhist *h = *hp;
  if (!h) {
    h = *hp = sl_calloc(1, sizeof *h);
  } else if (mono_ms > h->last_mono) {
    double dt = (double)(mono_ms - h->last_mono) / 1000.0;
    uint64_t d[SL_LAT_NB];
    for (int l = 0; l < SL_LAT_NB; l++)
      d[l] = qi->lat[l] >= h->last_lat[l] ? qi->lat[l] - h->last_lat[l] : 0;
    int k = h->head;
    h->pt[k].t = wall_ms;
    h->pt[k].in = qi->in >= h->last_in ? (double)(qi->in - h->last_in) / dt : 0;
    h->pt[k].out = qi->out >= h->last_out ? (double)(qi->out - h->last_out) / dt : 0;
    h->pt[k].p50 = sl_lat_quantile(d, 0.5);
    h->pt[k].p99 = sl_lat_quantile(d, 0.99);
    h->head = (k + 1) % SL_QHIST_N;
    if (h->n < SL_QHIST_N) h->n++;
  }
  h->last_mono = mono_ms;
  h->last_in = qi->in;
  h->last_out = qi->out;
  memcpy(h->last_lat, qi->lat, sizeof h->last_lat);
}

/* A number rounded to 3 decimals, or null for a negative one (none). */
static cJSON *num(double v) {
  return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(round(v * 1000.0) / 1000.0);
}

cJSON *sl_qhist_json(const sl_qhist *h, int64_t wall_ms) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "now_ms", (double)wall_ms);
  cJSON *pts = cJSON_AddArrayToObject(o, "points");
  for (int i = 0; h && i < h->n; i++) {
    int k = (h->head - h->n + i + SL_QHIST_N) % SL_QHIST_N;
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateNumber((double)h->pt[k].t));
    cJSON_AddItemToArray(p, num(h->pt[k].in));
    cJSON_AddItemToArray(p, num(h->pt[k].out));
    cJSON_AddItemToArray(p, num(h->pt[k].p50));
    cJSON_AddItemToArray(p, num(h->pt[k].p99));
    cJSON_AddItemToArray(pts, p);
  }
  return o;
}

void sl_qhist_free(sl_qhist *h) {
  free(h);
}
