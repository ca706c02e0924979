/*
 * Request metrics kept in plain arrays of atomic counters (no lock on the hot
 * path) and rendered in the Prometheus text format: requests by route, method
 * and status, a latency histogram per route, open connections, requests in
 * flight, and what the token caches did. Unmatched paths share one
 * pseudo-route, "unmatched".
 */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "http/http.h"

static const int statuses[] = { 200, 201, 202, 204, 206, 304, 400, 401, 403,
	404, 405, 409, 410, 412, 413, 414, 415, 416, 422, 428, 429, 431, 500,
	503 };
#define NSTATUS (nitems(statuses) + 1) /* the last slot counts the rest */

static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NBUCKET (nitems(bounds) + 1)

struct route_stats {
	uint64_t count[NSTATUS];
	uint64_t bucket[NBUCKET]; /* not cumulative; summed when rendered */
	uint64_t sum_us;
};

static struct route_stats *stats; /* nroutes + 1, the last is "unmatched" */
static size_t nstats;
static long connections, inflight;

void
metrics_init(size_t nroutes)
{
	nstats = nroutes + 1;
	stats = xcalloc(nstats, sizeof(*stats));
}

void
metrics_observe(int route_index, int status, int64_t us)
{
	struct route_stats *s;
	size_t i, b;

	if (stats == NULL)
		return;
	s = &stats[route_index < 0 ? nstats - 1 : (size_t)route_index];
	for (i = 0; i < nitems(statuses) && statuses[i] != status; i++)
		;
	for (b = 0; b < nitems(bounds) && (double)us / 1e6 > bounds[b]; b++)
		;
	__atomic_fetch_add(&s->count[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->sum_us, (uint64_t)us, __ATOMIC_RELAXED);
}

void
metrics_connection(int delta)
{
	__atomic_fetch_add(&connections, delta, __ATOMIC_RELAXED);
}

void
metrics_inflight(int delta)
{
	__atomic_fetch_add(&inflight, delta, __ATOMIC_RELAXED);
}

/* A growing string in the arena. */
struct buf {
	struct arena *a;
	char *p;
	size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *np;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if ((size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return;
	}
	need = b->len + (size_t)n + 1;
	while (b->cap < need)
		b->cap *= 2;
	np = arena_alloc(b->a, b->cap);
	memcpy(np, b->p, b->len);
	b->p = np;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
metrics_render(struct arena *a, const struct route *routes, size_t nroutes)
{
	struct buf b = { a, arena_alloc(a, 16384), 0, 16384 };
	const char *name, *method;
	struct token_cache_stats tc;
	uint64_t n, cum, total;
	size_t r, i;

	bprintf(&b,
	    "# HELP danvan_http_requests_total HTTP requests answered.\n"
	    "# TYPE danvan_http_requests_total counter\n");
	for (r = 0; r < nstats; r++) {
		name = r < nroutes ? router_template(a, routes[r].pattern) :
				     "unmatched";
		method = r < nroutes ? method_name(routes[r].method) : "any";
		for (i = 0; i < NSTATUS; i++) {
			n = __atomic_load_n(&stats[r].count[i],
			    __ATOMIC_RELAXED);
			if (n == 0)
				continue;
			if (i < nitems(statuses))
				bprintf(&b,
				    "danvan_http_requests_total{route=\"%s\","
				    "method=\"%s\",status=\"%d\"} %llu\n",
				    name, method, statuses[i],
				    (unsigned long long)n);
			else
				bprintf(&b,
				    "danvan_http_requests_total{route=\"%s\","
				    "method=\"%s\",status=\"other\"} %llu\n",
				    name, method, (unsigned long long)n);
		}
	}
	bprintf(&b,
	    "# HELP danvan_http_request_duration_seconds Time from the "
	    "request's first byte to its response.\n"
	    "# TYPE danvan_http_request_duration_seconds histogram\n");
	for (r = 0; r < nstats; r++) {
		name = r < nroutes ? router_template(a, routes[r].pattern) :
				     "unmatched";
		method = r < nroutes ? method_name(routes[r].method) : "any";
		for (i = 0, total = 0; i < NBUCKET; i++)
			total += __atomic_load_n(&stats[r].bucket[i],
			    __ATOMIC_RELAXED);
		if (total == 0)
			continue;
		for (i = 0, cum = 0; i < NBUCKET; i++) {
			cum += __atomic_load_n(&stats[r].bucket[i],
			    __ATOMIC_RELAXED);
			if (i < nitems(bounds))
				bprintf(&b,
				    "danvan_http_request_duration_seconds_"
				    "bucket{route=\"%s\",method=\"%s\",le=\"%g\"} "
				    "%llu\n",
				    name, method, bounds[i],
				    (unsigned long long)cum);
		}
		bprintf(&b,
		    "danvan_http_request_duration_seconds_bucket{route="
		    "\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n",
		    name, method, (unsigned long long)cum);
		bprintf(&b,
		    "danvan_http_request_duration_seconds_sum{route="
		    "\"%s\",method=\"%s\"} %.6f\n",
		    name, method,
		    (double)__atomic_load_n(&stats[r].sum_us, __ATOMIC_RELAXED) /
			1e6);
		bprintf(&b,
		    "danvan_http_request_duration_seconds_count{route="
		    "\"%s\",method=\"%s\"} %llu\n",
		    name, method, (unsigned long long)cum);
	}
	bprintf(&b,
	    "# HELP danvan_http_connections_open Client connections "
	    "open now.\n# TYPE danvan_http_connections_open gauge\n"
	    "danvan_http_connections_open %ld\n"
	    "# HELP danvan_http_requests_in_flight Requests being "
	    "handled now.\n# TYPE danvan_http_requests_in_flight gauge\n"
	    "danvan_http_requests_in_flight %ld\n",
	    __atomic_load_n(&connections, __ATOMIC_RELAXED),
	    __atomic_load_n(&inflight, __ATOMIC_RELAXED));
	tc = token_cache_stats();
	bprintf(&b,
	    "# HELP danvan_auth_token_cache_total Access tokens checked, by "
	    "whether a thread's cache of verified tokens had them.\n"
	    "# TYPE danvan_auth_token_cache_total counter\n"
	    "danvan_auth_token_cache_total{result=\"hit\"} %ld\n"
	    "danvan_auth_token_cache_total{result=\"miss\"} %ld\n"
	    "# HELP danvan_auth_token_cache_drops_total Times the token caches "
	    "were emptied because an account changed.\n"
	    "# TYPE danvan_auth_token_cache_drops_total counter\n"
	    "danvan_auth_token_cache_drops_total %ld\n",
	    tc.hits, tc.misses, tc.drops);
	bprintf(&b,
	    "# HELP danvan_changes_waiting Change-feed requests waiting "
	    "for a change now.\n# TYPE danvan_changes_waiting gauge\n"
	    "danvan_changes_waiting %d\n",
	    wait_count());
	return b.p;
}
