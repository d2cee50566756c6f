/*
** avro_registry.c - a client of the Confluent schema registry's REST
** protocol (docs/avro.md), over HTTP with libcurl: the schema of an id
** (GET /schemas/ids/{id}), registering a writer schema under a subject
** (POST /subjects/{subject}/versions) and a subject's latest schema (GET
** /subjects/{subject}/versions/latest).
**
** One easy handle per client, reused (keep-alive); every request is
** bounded (3 s to connect, 10 s in all).  Callers cache what they get:
** fmt_avro.c asks once per schema id and per sink.
*/
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "avro_types.h"
#include "json.h"

struct av_registry {
  char *base; /* without a trailing '/' (owned) */
  CURL *h;
  sl_buf body; /* the last answer's body */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
/* libcurl's global state, once per process. */
static void curl_init(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* See avro_types.h.  No connection is made until the first request. */
av_registry *av_registry_new(const char *base) {
  pthread_once(&curl_once, curl_init);
  av_registry *r = sl_calloc(1, sizeof *r);
  r->base = sl_strdup(base);
  size_t n = strlen(r->base);
  while (n && r->base[n - 1] == '/')
    r->base[--n] = 0;
  sl_buf_init(&r->body);
  return r;
}

/* Free r and its HTTP handle; NULL is nothing. */
void av_registry_free(av_registry *r) {
  if (!r) return;
  if (r->h) curl_easy_cleanup(r->h);
  sl_buf_free(&r->body);
  free(r->base);
  free(r);
}

/* See avro_types.h. */
int av_registry_hostport(const char *url, char *out, size_t n) {
  const char *p;
  if (!strncmp(url, "http://", 7))
    p = url + 7;
  else if (!strncmp(url, "https://", 8))
    p = url + 8;
  else
    return -1;
  size_t k = strcspn(p, "/?#");
  const char *at = memchr(p, '@', k); /* user:password@ is not part of the host */
  if (at) {
    k -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  if (!k || k >= n) return -1;
  memcpy(out, p, k);
  out[k] = 0;
  if (!strchr(out, ':') || out[0] == '[') /* no port: the scheme's */
    snprintf(out + k, n - k, ":%s", url[4] == 's' ? "443" : "80");
  return 0;
}

/* libcurl's write callback: the body into the sl_buf ud (16 MiB at most). */
static size_t on_body(char *z, size_t size, size_t nmemb, void *ud) {
  sl_buf *b = ud;
  if (b->n + size * nmemb > (16u << 20)) return 0; /* no schema is that large */
  sl_buf_append(b, z, size * nmemb);
  return size * nmemb;
}

/* One request: path below base, body (POST) or NULL (GET).  The answer's
** body in r->body, parsed into *json.  0, or -1 with err set (status not
** 200, unreachable, not JSON). */
static int request(av_registry *r, const char *path, const char *body, cJSON **json, sl_err *err) {
  *json = NULL;
  if (!r->h && !(r->h = curl_easy_init())) {
    sl_err_set(err, SL_EIO, "schema registry: cannot make an HTTP client");
    return -1;
  }
  CURL *h = r->h;
  curl_easy_reset(h);
  char *url = sl_mprintf("%s%s", r->base, path);
  sl_buf_reset(&r->body);
  struct curl_slist *hdrs = NULL;
  hdrs = curl_slist_append(hdrs, "Accept: application/vnd.schemaregistry.v1+json, "
                                 "application/json");
  if (body) hdrs = curl_slist_append(hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hdrs);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    sl_err_set(err, SL_EIO, "schema registry %s: %s", url, curl_easy_strerror(rc));
    free(url);
    return -1;
  }
  cJSON *j = cJSON_ParseWithLength(r->body.z ? r->body.z : "", r->body.n);
  if (status != 200) {
    const char *m = j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message")) : NULL;
    sl_err_set(err, SL_EIO, "schema registry %s: HTTP %ld%s%s", url, status, m ? ": " : "",
               m ? m : "");
    cJSON_Delete(j);
    free(url);
    return -1;
  }
  if (!j) {
    sl_err_set(err, SL_EIO, "schema registry %s: the answer is not JSON", url);
    free(url);
    return -1;
  }
  free(url);
  *json = j;
  return 0;
}

/* The member "schema" (a string) of j into out; 0 or -1 with err. */
static int take_schema(cJSON *j, sl_buf *out, const char *what, sl_err *err) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "schema"));
  if (!s) {
    sl_err_set(err, SL_EIO, "schema registry: the answer for %s has no schema", what);
    return -1;
  }
  sl_buf_reset(out);
  sl_buf_puts(out, s);
  return 0;
}

/* See avro_types.h. */
int av_registry_get(av_registry *r, int32_t id, sl_buf *out, sl_err *err) {
  char path[64];
  snprintf(path, sizeof path, "/schemas/ids/%d", (int)id);
  cJSON *j;
  if (request(r, path, NULL, &j, err)) return -1;
  int rc = take_schema(j, out, path, err);
  cJSON_Delete(j);
  return rc;
}

/* subject escaped for a URL path into b */
static void put_subject(sl_buf *b, const char *subject) {
  char *e = curl_easy_escape(NULL, subject, 0);
  sl_buf_puts(b, e ? e : "");
  curl_free(e);
}

/* The member "id" of j (a number) into *id; 0 or -1 with err. */
static int take_id(cJSON *j, int32_t *id, sl_err *err) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "id");
  if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 2147483647.0) {
    sl_err_set(err, SL_EIO, "schema registry: the answer has no schema id");
    return -1;
  }
  *id = (int32_t)x->valuedouble;
  return 0;
}

/* See avro_types.h. */
int av_registry_register(av_registry *r, const char *subject, const char *schema, int32_t *id,
                         sl_err *err) {
  sl_buf path, body;
  sl_buf_init(&path);
  sl_buf_init(&body);
  sl_buf_puts(&path, "/subjects/");
  put_subject(&path, subject);
  sl_buf_puts(&path, "/versions");
  sl_buf_puts(&body, "{\"schema\":");
  sl_json_append_string(&body, schema, strlen(schema));
  sl_buf_putc(&body, '}');
  cJSON *j;
  int rc = request(r, path.z, body.z, &j, err);
  if (!rc) rc = take_id(j, id, err);
  cJSON_Delete(j);
  sl_buf_free(&path);
  sl_buf_free(&body);
  return rc;
}

/* See avro_types.h. */
int av_registry_latest(av_registry *r, const char *subject, sl_buf *out, int32_t *id, sl_err *err) {
  sl_buf path;
  sl_buf_init(&path);
  sl_buf_puts(&path, "/subjects/");
  put_subject(&path, subject);
  sl_buf_puts(&path, "/versions/latest");
  cJSON *j;
  int rc = request(r, path.z, NULL, &j, err);
  if (!rc) rc = take_id(j, id, err);
  if (!rc) rc = take_schema(j, out, path.z, err);
  cJSON_Delete(j);
  sl_buf_free(&path);
  return rc;
}
