/*
 * The libmicrohttpd server: an epoll thread pool (each thread also owns one
 * PostgreSQL connection, see api/db), request set-up and limits, body
 * collection, dispatch through the route table, and one place where every
 * response is finished: problem rendering, ETag and 304, gzip, common headers,
 * metrics and the access log.
 */
#include <ctype.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "http/http.h"

#define GZIP_MIN_BYTES 1024
#define OFFLOAD_THREADS 2

static struct MHD_Daemon *daemon_;
static struct http_options opts;
static int stopping;
/* Requests whose handler has started and whose answer is not sent yet:
 * what a graceful stop waits for. A client still sending its body is not
 * waited for. */
static long handling;

struct conn_req {
	struct req r;
	struct MHD_Connection *c;
	struct conn_req *next;	/* in the offload queue */
	size_t seen;		/* body bytes received, kept or not */
	size_t room;		/* bytes the body buffer holds */
	int too_big;
	int has_body;
	int early;	/* answered on the headers-only call, body unread */
	int dispatched;
	int queued;
};

/*
 * The offload pool: routes flagged ROUTE_OFFLOAD (password hashing, ~0.2 s of
 * CPU and 64 MiB each) run here, suspended from the event loop, so at most
 * OFFLOAD_THREADS hashes run at once and no event thread stalls on one.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct conn_req *head, *tail;
	pthread_t threads[OFFLOAD_THREADS];
	int started, quit;
} offload = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
	{ 0 }, 0, 0 };

const char *
req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(((struct conn_req *)r)->c,
	    MHD_HEADER_KIND, name);
}

const char *
req_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(((struct conn_req *)r)->c,
	    MHD_GET_ARGUMENT_KIND, name);
}

void
req_client_addr(struct req *r, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, cap, "unknown");
	ci = MHD_get_connection_info(((struct conn_req *)r)->c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)cap);
}

/* Compresses src as a gzip stream into arena memory (or malloc when a is NULL). */
static unsigned char *
gzip(struct arena *a, const void *src, size_t len, size_t *outlen)
{
	unsigned char *out;
	z_stream z;
	size_t cap;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		abort();
	cap = deflateBound(&z, len);
	out = a ? arena_alloc(a, cap) : xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)src;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

void
static_body_init(struct static_body *sb, const unsigned char *data, size_t len)
{
	sb->data = data;
	sb->len = len;
	sb->gz = gzip(NULL, data, len, &sb->gzlen);
	snprintf(sb->etag, sizeof(sb->etag), "\"%016llx\"",
	    (unsigned long long)hash_fnv1a(data, len));
}

/* True when the client accepts gzip (a "gzip" coding without q=0). */
static int
accepts_gzip(struct req *r)
{
	const char *ae = req_header(r, "Accept-Encoding"), *p, *q;

	if (ae == NULL || (p = strcasestr(ae, "gzip")) == NULL)
		return 0;
	q = p + 4;
	while (*q == ' ')
		q++;
	if (*q == ';') {
		q = strchr(q, '=');
		if (q != NULL && strtod(q + 1, NULL) == 0)
			return 0;
	}
	return 1;
}

/* True when If-None-Match names etag (or is "*"); weak comparison. */
static int
etag_matches(const char *inm, const char *etag)
{
	size_t n;
	const char *p;

	if (inm == NULL || etag == NULL)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	if (strncmp(etag, "W/", 2) == 0)
		etag += 2;
	n = strlen(etag);
	for (p = inm; (p = strstr(p, etag)) != NULL; p += n)
		return 1;
	return 0;
}

/* Text that shrinks; files (photos, PDFs) are sent as they are. */
static int
compressible(const char *ctype)
{
	return ctype != NULL && (strncmp(ctype, "application/json", 16) == 0 ||
	    strncmp(ctype, "application/problem+json", 24) == 0 ||
	    strncmp(ctype, "text/", 5) == 0);
}

/*
 * Range: bytes=a-b (one range) on a GET that allows it: 206 with the slice,
 * or 416 when it lies outside. Anything else is served whole, as RFC 9110
 * allows.
 */
static void
apply_range(struct req *r)
{
	const char *h = req_header(r, "Range");
	unsigned long long a, b, len = r->resp_len;
	char *end;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return;
	h += 6;
	/* Digits and one '-' only: strtoull alone would take signs and
	 * spaces. */
	if (strspn(h, "0123456789-") != strlen(h) || strchr(h, '-') == NULL ||
	    strchr(h, '-') != strrchr(h, '-'))
		return;
	if (*h == '-') { /* the last b bytes */
		b = strtoull(h + 1, &end, 10);
		if (end == h + 1 || b == 0)
			return;
		a = b >= len ? 0 : len - b;
		b = len - 1;
	} else {
		a = strtoull(h, &end, 10);
		b = end[1] == '\0' ? len - 1 : strtoull(end + 1, NULL, 10);
		if (b >= len)
			b = len - 1;
	}
	if (a >= len || a > b) {
		req_header_add(r, "Content-Range", arena_printf(r->arena,
		    "bytes */%llu", len));
		req_fail(r, 416, "range_not_satisfiable",
		    "the range lies outside the %llu bytes of the file", len);
		return;
	}
	req_header_add(r, "Content-Range", arena_printf(r->arena,
	    "bytes %llu-%llu/%llu", a, b, len));
	r->status = 206;
	r->resp = (const char *)r->resp + a;
	r->resp_len = b - a + 1;
}

/* Keeps only the named members of obj (fields is "a,b,c", checked). */
static void
trim_object(json_t *obj, const char *fields)
{
	const char *key, *p;
	json_t *v;
	void *tmp;
	size_t n;

	json_object_foreach_safe(obj, tmp, key, v) {
		n = strlen(key);
		for (p = fields; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p,
		    ",")] == ',')) {
			if (strncmp(p, key, n) == 0 && (p[n] == ',' ||
			    p[n] == '\0'))
				break;
		}
		if (*p == '\0')
			json_object_del(obj, key);
	}
}

/*
 * fields=a,b trims a JSON entity, or each item of a list, to the named
 * members: village phones pay for every byte. The ETag becomes the trimmed
 * body's.
 */
static void
trim_fields(struct req *r, const char *fields)
{
	json_t *doc, *items, *it;
	size_t i, n;
	char *out;

	doc = json_loadb(r->resp, r->resp_len, 0, NULL);
	if (doc == NULL)
		return;
	req_own(r, doc);
	if (!json_is_object(doc))
		return;
	items = json_object_get(doc, "items");
	if (json_is_array(items) && json_object_get(doc, "next_cursor") != NULL)
		json_array_foreach(items, i, it) {
			if (json_is_object(it))
				trim_object(it, fields);
		}
	else
		trim_object(doc, fields);
	n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
	out = arena_alloc(r->arena, n + 1);
	json_dumpb(doc, out, n, JSON_COMPACT);
	r->resp = out;
	r->resp_len = n;
	r->etag = NULL;
	r->stat = NULL;
}

/* A fields= list: names of [a-z0-9_], comma-separated, at most 64. */
static int
valid_fields(const char *s)
{
	size_t n = 0;

	if (*s == '\0' || strlen(s) > 1024)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == ',') {
			if (s[1] == ',' || s[1] == '\0' || ++n >= 64)
				return 0;
		} else if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return 0;
	}
	return 1;
}

static enum MHD_Result
finish(struct conn_req *cr)
{
	struct req *r = &cr->r;
	struct MHD_Response *resp;
	const void *body;
	struct header *h;
	enum MHD_Result ret;
	size_t len;
	int gz = 0;

	if (r->fail.status == 0 && r->ranges && r->method == M_GET &&
	    r->status == 200) {
		req_header_add(r, "Accept-Ranges", "bytes");
		if (!etag_matches(req_header(r, "If-None-Match"), r->etag))
			apply_range(r);
	}
	if (r->fail.status == 0 && r->status == 0)
		req_fail(r, 500, "internal", "the request could not be handled");
	if (r->fail.status != 0) {
		if (r->fail.status >= 500)
			log_error("request %s %s failed: %d %s: %s", r->id,
			    r->path, r->fail.status, r->fail.code,
			    r->fail.detail ? r->fail.detail : "");
		r->status = r->fail.status;
		if (r->fail.header != NULL)
			req_header_add(r, r->fail.header, r->fail.header_value);
		r->ctype = "application/problem+json";
		r->resp = problem_render(r, &r->resp_len);
		r->etag = NULL;
		r->stat = NULL;
	}
	if (r->method == M_GET && r->status == 200 && r->ctype != NULL &&
	    strcmp(r->ctype, "application/json") == 0 &&
	    req_query(r, "fields") != NULL)
		trim_fields(r, req_query(r, "fields"));
	body = r->resp;
	len = r->resp_len;
	if (r->method == M_GET && r->status == 200) {
		if (r->etag == NULL)
			r->etag = arena_printf(r->arena, "W/\"%016llx\"",
			    (unsigned long long)hash_fnv1a(body, len));
		if (etag_matches(req_header(r, "If-None-Match"), r->etag)) {
			r->status = 304;
			body = "";
			len = 0;
		}
	}
	if (len >= GZIP_MIN_BYTES && compressible(r->ctype) && accepts_gzip(r)) {
		if (r->stat != NULL && r->stat->gz != NULL) {
			body = r->stat->gz;
			len = r->stat->gzlen;
		} else
			body = gzip(r->arena, body, len, &len);
		gz = 1;
	}
	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		abort();
	if (r->ctype != NULL && r->status != 304)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    r->ctype);
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* GETs may be kept and revalidated; nothing else (a new key, a token)
	 * may be stored by a cache. */
	MHD_add_response_header(resp, "Cache-Control",
	    r->method == M_GET && r->etag ? "no-cache" : "no-store");
	if (r->etag != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	if (compressible(r->ctype))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
		    "Accept-Encoding");
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
		    "gzip");
	for (h = r->headers; h != NULL; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	if (__atomic_load_n(&stopping, __ATOMIC_RELAXED) || cr->too_big ||
	    cr->early)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(cr->c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->resp_len = len;
	cr->queued = 1;
	return ret;
}

/* The Allow header for a path that exists with other methods. */
static const char *
allow_header(struct arena *a, unsigned allow)
{
	char *s = arena_zalloc(a, 64);
	unsigned m;

	if (allow & M_GET)
		strcat(s, "GET, HEAD");
	for (m = M_POST; m <= M_DELETE; m <<= 1)
		if (allow & m) {
			if (*s != '\0')
				strcat(s, ", ");
			strcat(s, method_name(m));
		}
	return s;
}

/* The largest body the request's route takes. */
static size_t
body_cap(const struct req *r)
{
	size_t cap;

	if (r->route == NULL)
		return 0;
	cap = r->route->flags & ROUTE_RAW_BODY ? cfg.max_upload_bytes :
						 cfg.max_body_bytes;
	return r->route->body_max < cap ? r->route->body_max : cap;
}

static int
valid_request_id(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++)
		if (n >= 64 || !(isalnum((unsigned char)s[n]) ||
		    strchr("._:-", s[n]) != NULL))
			return 0;
	return n > 0;
}

static enum MHD_Result
add_size(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(k) + (v ? strlen(v) : 0) + 4;
	return MHD_YES;
}

/* application/json, and for PATCH also application/merge-patch+json. */
/* Counts query values that hide a NUL ("%00"): C code would see less. */
static enum MHD_Result
count_nul(void *cls, enum MHD_ValueKind kind, const char *k, size_t klen,
    const char *v, size_t vlen)
{
	(void)kind;
	if (strlen(k) != klen || (v != NULL && strlen(v) != vlen))
		(*(int *)cls)++;
	return MHD_YES;
}

static int
json_content_type(const char *ct, enum method m)
{
	size_t n;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, "; \t");
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	    (m == M_PATCH && n == 28 &&
		strncasecmp(ct, "application/merge-patch+json", 28) == 0);
}

/*
 * The first call for a request: set up the context and check everything the
 * headers alone decide. Returns -1 when the request has already failed.
 */
static int
begin(struct conn_req *cr, const char *url, const char *method)
{
	struct req *r = &cr->r;
	const char *rid, *cl, *te;
	size_t urlsize = strlen(url), hdrsize = 0;
	unsigned allow;
	int idx, nuls = 0;

	r->arena = arena_new();
	r->started = mono_us();
	r->path = arena_strdup(r->arena, url);
	r->route_index = -1;
	metrics_inflight(1);
	rid = req_header(r, "X-Request-Id");
	if (valid_request_id(rid))
		snprintf(r->id, sizeof(r->id), "%s", rid);
	else
		random_hex(r->id, 16);

	MHD_get_connection_values(cr->c, MHD_GET_ARGUMENT_KIND, add_size,
	    &urlsize);
	MHD_get_connection_values_n(cr->c, MHD_GET_ARGUMENT_KIND, count_nul,
	    &nuls);
	MHD_get_connection_values(cr->c, MHD_HEADER_KIND, add_size, &hdrsize);
	cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	cr->has_body = (cl != NULL && strcmp(cl, "0") != 0) || te != NULL;

	if ((r->method = method_parse(method)) == 0) {
		/* No route takes it; Allow says what the path does take. */
		router_match(opts.routes, opts.nroutes, 0, url, NULL, NULL,
		    &allow);
		if (allow != 0)
			req_header_add(r, MHD_HTTP_HEADER_ALLOW,
			    allow_header(r->arena, allow));
		return req_fail(r, allow ? 405 : 404, allow ?
		    "method_not_allowed" : "not_found", allow ?
		    "method %.16s is not supported" : "no resource at this path",
		    method);
	}
	if (urlsize > cfg.max_url_bytes)
		return req_fail(r, 414, "uri_too_long",
		    "the URL is longer than %zu bytes", cfg.max_url_bytes);
	if (nuls > 0) {
		req_field_error(r, "query", "format", "a NUL character is not "
		    "allowed");
		return req_fail(r, 400, "invalid_query",
		    "a query parameter holds a NUL character");
	}
	if (hdrsize > cfg.max_header_bytes)
		return req_fail(r, 431, "headers_too_large",
		    "the request headers are larger than %zu bytes",
		    cfg.max_header_bytes);
	idx = router_match(opts.routes, opts.nroutes, r->method, url, r->arena,
	    r->param, &allow);
	if (idx < 0 && allow != 0) {
		req_header_add(r, MHD_HTTP_HEADER_ALLOW,
		    allow_header(r->arena, allow));
		return req_fail(r, 405, "method_not_allowed",
		    "%s is not allowed on this resource", method);
	}
	if (idx < 0)
		return req_fail(r, 404, "not_found", "no resource at this path");
	r->route_index = idx;
	r->route = &opts.routes[idx];
	if (req_query(r, "fields") != NULL && (r->method != M_GET ||
	    !valid_fields(req_query(r, "fields")))) {
		req_field_error(r, "fields", "format", "fields is a comma-separated "
		    "list of member names, on GET only");
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	}
	/* Who asks, from the headers alone: a caller without the route's
	 * permission has no byte of its body read or buffered. */
	if (pipeline_admit(r) == -1) {
		cr->early = cr->has_body;
		return -1;
	}
	if (cr->has_body) {
		size_t cap = body_cap(r);

		if (cap == 0)
			return req_fail(r, 413, "payload_too_large",
			    "this operation takes no request body");
		if (cl != NULL && strtoull(cl, NULL, 10) > cap) {
			cr->too_big = cr->early = 1;
			return req_fail(r, 413, "payload_too_large",
			    "the body is larger than %zu bytes", cap);
		}
		if (!(r->route->flags & ROUTE_RAW_BODY) &&
		    !json_content_type(req_header(r,
			MHD_HTTP_HEADER_CONTENT_TYPE), r->method))
			return req_fail(r, 415, "unsupported_media_type",
			    "the body must be application/json");
		/* A file takes what it announces, not the whole cap. */
		if (cl != NULL && strtoull(cl, NULL, 10) < cap)
			cap = strtoull(cl, NULL, 10);
		r->body = arena_alloc(r->arena, cap + 1);
		cr->room = cap;
	}
	return 0;
}

static void
dispatch(struct conn_req *cr)
{
	struct req *r = &cr->r;

	if (cr->too_big) {
		req_fail(r, 413, "payload_too_large",
		    "the body is larger than %zu bytes", body_cap(r));
		return;
	}
	pipeline_run(r);
}

static void *
offload_main(void *arg)
{
	struct conn_req *cr;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&offload.mu);
		while (offload.head == NULL && !offload.quit)
			pthread_cond_wait(&offload.cv, &offload.mu);
		if ((cr = offload.head) == NULL) {
			pthread_mutex_unlock(&offload.mu);
			break;
		}
		if ((offload.head = cr->next) == NULL)
			offload.tail = NULL;
		pthread_mutex_unlock(&offload.mu);
		dispatch(cr);
		MHD_resume_connection(cr->c);
	}
	return NULL;
}

static void
offload_push(struct conn_req *cr)
{
	pthread_mutex_lock(&offload.mu);
	cr->next = NULL;
	if (offload.tail != NULL)
		offload.tail->next = cr;
	else
		offload.head = cr;
	offload.tail = cr;
	pthread_cond_signal(&offload.cv);
	pthread_mutex_unlock(&offload.mu);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct conn_req *cr = *con_cls;

	(void)cls;
	(void)version;
	if (cr == NULL) {
		cr = xcalloc(1, sizeof(*cr));
		cr->c = c;
		cr->r.conn = c;
		*con_cls = cr;
		/*
		 * A body that is announced too big, or that the caller may
		 * not send, is refused now, before it is read: answering on
		 * this first call makes libmicrohttpd close the connection.
		 */
		if (begin(cr, url, method) == -1 && cr->early)
			return finish(cr);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (cr->r.body != NULL && !cr->too_big &&
		    cr->r.body_len + *upload_size <= cr->room) {
			memcpy(cr->r.body + cr->r.body_len, upload, *upload_size);
			cr->r.body_len += *upload_size;
		} else if (cr->r.fail.status == 0)
			cr->too_big = 1;
		cr->seen += *upload_size;
		*upload_size = 0;
		/* Past the cap, reading on only wastes bandwidth: hang up. */
		if (cr->seen > (cr->r.route ? body_cap(&cr->r) :
		    cfg.max_body_bytes) + 65536)
			return MHD_NO;
		return MHD_YES;
	}
	if (cr->queued)
		return MHD_YES;
	if (!cr->dispatched && cr->r.fail.status == 0) {
		cr->dispatched = 1;
		__atomic_fetch_add(&handling, 1, __ATOMIC_RELAXED);
		if (cr->r.route->flags & ROUTE_OFFLOAD) {
			MHD_suspend_connection(c);
			offload_push(cr);
			return MHD_YES;
		}
		dispatch(cr);
	}
	return finish(cr);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_req *cr = *con_cls;
	struct req *r;
	int64_t us;

	(void)cls;
	(void)c;
	if (cr == NULL)
		return;
	r = &cr->r;
	us = mono_us() - r->started;
	/* A client that hung up before an answer is logged with status 0. */
	if (!cr->queued || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		r->status = cr->queued ? r->status : 0;
	metrics_observe(r->route_index, r->status, us);
	log_access(r->id, method_name(r->method),
	    r->route ? router_template(r->arena, r->route->pattern) :
		       "unmatched",
	    r->status, r->resp_len, us);
	metrics_inflight(-1);
	if (cr->dispatched)
		__atomic_fetch_sub(&handling, 1, __ATOMIC_RELAXED);
	arena_free(r->arena);
	free(cr);
	*con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)c;
	(void)socket_ctx;
	metrics_connection(toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

/* Resolves "host:port" ("[v6]:port" for IPv6) into addr. */
static int
parse_listen(const char *listen, struct sockaddr_storage *addr)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t hl;
	int rc;

	if (colon == NULL || colon == listen || colon[1] == '\0')
		goto bad;
	hl = (size_t)(colon - listen);
	if (listen[0] == '[' && hl > 2 && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		log_error("DANVAN_LISTEN %s: %s", listen, gai_strerror(rc));
		return -1;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
bad:
	log_error("DANVAN_LISTEN must be host:port, not %s", listen);
	return -1;
}

int
http_start(const struct http_options *o)
{
	struct sockaddr_storage addr;
	unsigned flags;
	size_t mem;

	opts = *o;
	if (router_check(opts.routes, opts.nroutes) == -1 ||
	    parse_listen(cfg.listen, &addr) == -1)
		return -1;
	metrics_init(opts.nroutes);
	flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
	    MHD_ALLOW_SUSPEND_RESUME;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * Room for the headers we accept plus the read buffer. Not more:
	 * libmicrohttpd zeroes the whole pool after every request, so each
	 * spare KiB costs a KiB of memset per request.
	 */
	mem = cfg.max_header_bytes + 16384;
	if (mem < 32768)
		mem = 32768;
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg.connection_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
	    MHD_OPTION_END);
	if (daemon_ == NULL) {
		log_error("cannot listen on %s", cfg.listen);
		return -1;
	}
	for (; offload.started < OFFLOAD_THREADS; offload.started++)
		if (pthread_create(&offload.threads[offload.started], NULL,
			offload_main, NULL) != 0)
			abort();
	log_info("listening on %s with %d threads", cfg.listen, cfg.threads);
	return 0;
}

void
http_stop(void)
{
	int64_t deadline;
	MHD_socket fd;

	if (daemon_ == NULL)
		return;
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	fd = MHD_quiesce_daemon(daemon_);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	deadline = mono_us() + (int64_t)cfg.shutdown_grace_s * 1000000;
	while (__atomic_load_n(&handling, __ATOMIC_RELAXED) > 0 &&
	    mono_us() < deadline)
		usleep(10000);
	/* Offloaded requests still queued get answered before the stop. */
	pthread_mutex_lock(&offload.mu);
	offload.quit = 1;
	pthread_cond_broadcast(&offload.cv);
	pthread_mutex_unlock(&offload.mu);
	while (offload.started > 0)
		pthread_join(offload.threads[--offload.started], NULL);
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	log_info("stopped");
}
