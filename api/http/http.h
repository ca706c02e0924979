/*
 * The HTTP layer: a libmicrohttpd server, the request pipeline (limits, the
 * router, authentication and permission, body, Idempotency-Key, response
 * shaping), the request context that every handler receives, problem
 * documents (RFC 9457) and metrics. Handlers include this header only; they
 * never see libmicrohttpd types.
 */
#ifndef DANVAN_HTTP_H
#define DANVAN_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "db/db.h"

#define ROUTE_MAX_PARAMS 4

enum method {
	M_GET = 1 << 0,
	M_POST = 1 << 1,
	M_PUT = 1 << 2,
	M_PATCH = 1 << 3,
	M_DELETE = 1 << 4,
};

struct req;
struct principal;

/* One row of the route table: one OpenAPI operation. */
struct route {
	enum method method;
	/* "/api/v1/plans/{id:uuid}"; types: uuid, int, or none (any segment). */
	const char *pattern;
	int (*handler)(struct req *);
	const char *name; /* the handler's name: the operationId */
	int perm;	  /* permission the caller needs; 0: public */
	size_t body_max;  /* largest body accepted; 0: none */
	unsigned flags;	  /* ROUTE_* */
};

/* The handler is slow by design (password hashing): run it on the small
 * pool of offload threads, not on an HTTP event thread. */
#define ROUTE_OFFLOAD 0x1
/* Writes nothing and may read a streaming standby a moment behind
 * (reports, the change feed): see db_read_replica(). */
#define ROUTE_READ_REPLICA 0x40
/* POST whose replay would be wrong (it issues credentials). */
#define ROUTE_NO_IDEMPOTENCY 0x2
/* The body is a file of any type, capped by DANVAN_MAX_UPLOAD_BYTES; the
 * handler checks what it is. */
#define ROUTE_RAW_BODY 0x4
/* The handler may undo its own transaction although nothing failed (a dry
 * run): under an Idempotency-Key it runs in a savepoint of the key's. */
#define ROUTE_DRY_RUN 0x80
/* Runs on the event thread: the handler waits on nothing (no statement, or
 * one read it defers with req_exec_then). Every other handler runs on the
 * blocking pool, so that no event thread waits on the database. */
#define ROUTE_INLINE 0x100

struct header {
	struct header *next;
	const char *name, *value;
};

/* A query parameter as decoded; value NULL for a name without '='. */
struct query_pair {
	const char *name, *value;
};

/* A response body that lives as long as the process, with its gzip and ETag. */
struct static_body {
	const unsigned char *data;
	size_t len;
	unsigned char *gz;
	size_t gzlen;
	char etag[24];
	int ready; /* gz and etag computed */
};

struct req {
	struct arena *arena;
	char id[68];
	enum method method;
	const char *path;
	const struct route *route;
	int route_index; /* -1: unmatched */
	const char *param[ROUTE_MAX_PARAMS];
	char *body;
	size_t body_len;
	json_t *json; /* parsed body of a JSON request, owned by the arena */
	/* The authenticated caller, set before the handler; NULL on public
	 * routes and for the seeder. */
	const struct principal *principal;
	int64_t started;

	/* The response, set by req_reply_* or by req_fail. */
	int status;
	const char *ctype;
	const void *resp;
	size_t resp_len;
	const struct static_body *stat;
	const char *etag;
	int ranges; /* a GET whose body may be served in byte ranges */
	struct header *headers;

	/* The first failure recorded; rendered as a problem document. */
	struct failure fail;

	/* Waiting for a change (wait.c). may_wait is set by the server when
	 * the handler may ask to wait; a handler that has nothing to answer
	 * yet sets suspend_until (mono_us) with the wait_generation() it read
	 * before looking, and returns 0 without a reply: it runs again when a
	 * change is notified or the time is up. */
	int may_wait;
	int64_t suspend_until;
	long wait_gen;
	/* The handler's statement is in flight (req_exec_then): the answer
	 * comes when its result does. */
	int deferred;
};

/* request.c */
/* Records the request's failure (the first one wins) and returns -1. */
int req_fail(struct req *, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a field problem to the errors[] of the problem document to come. */
void req_field_error(struct req *, const char *field, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void req_clear_failure(struct req *);
/* Sends v (the reference is stolen) as the JSON body. Returns 0. */
int req_reply_json(struct req *, int status, json_t *v);
/* Sends body (not copied: static or arena memory) with the given type. Returns 0. */
int req_reply(struct req *, int status, const char *ctype, const void *body,
    size_t len);
int req_reply_static(struct req *, const char *ctype, struct static_body *);
void req_header_add(struct req *, const char *name, const char *value);
/* Hands v to the request's arena (decref when it ends) and returns it. */
json_t *req_own(struct req *, json_t *v);
/* Returns the body as a JSON object, or fails with 400 and returns NULL. */
json_t *req_body_object(struct req *);
/*
 * Runs the read stmt and then then(r, result, ctx), which answers: at once,
 * or, when it is the handler's first statement on an event thread, once
 * the result comes while the thread serves other requests (db_defer). For
 * a handler's last step only: returns then's value, or 0 when deferred.
 */
int req_exec_then(struct req *, const char *stmt, int nparams,
    const char *const *params,
    int (*then)(struct req *, struct dbres *, const void *ctx),
    const void *ctx);

/* server.c */
/* The deferred statement of r has been answered: r's answer can go. */
void req_resume(struct req *);

/* router.c */
/* Index of the route for method and path (params filled), or -1; then *allow
 * holds the methods that do match the path (0: unknown path). */
int router_match(const struct route *, size_t, enum method, const char *path,
    struct arena *, const char **params, unsigned *allow);
/* Sets r->route, r->route_index and r->param for r->method (0: a method
 * no route has; method is the name as sent) and path; -1 with 404, or 405
 * and Allow, when no route matches. */
int router_resolve(struct req *, const struct route *, size_t,
    const char *method, const char *path);
/* The pattern as OpenAPI writes it: "{id:uuid}" becomes "{id}". */
char *router_template(struct arena *, const char *pattern);
const char *method_name(enum method);
enum method method_parse(const char *);
/* Checks a route table at start-up: -1 with a log line on a bad pattern. */
int router_check(const struct route *, size_t);

/* body.c */
/* Parses r->body into r->json; 400 on bad syntax, depth or string length. */
int body_parse_json(struct req *);

/* cors.c */
/* True when origin (NULL: none) is, byte for byte, one of the origins of
 * list (comma- or space-separated; NULL or empty: none). */
int cors_origin_allowed(const char *list, const char *origin);
/* Adds Vary: Origin when an allow-list is configured, and for an allowed
 * Origin the Access-Control-* headers of an answer. */
void cors_response(struct req *);
/* Answers OPTIONS on path: 204 with Allow, and for an allowed Origin asking
 * a preflight the Access-Control-Allow-* headers; 404 for no route. */
int cors_preflight(struct req *, const struct route *, size_t, const char *path);

/* query.c */
/* Reads from the contract (OpenAPI as JSON, len bytes) the query
 * parameters of each route; -1 with a log line when a route is not in it. */
int query_init(const struct route *, size_t, const void *contract, size_t len);
/* True when r's operation declares the query parameter name. */
int query_declared(const struct req *, const char *name);
/* 400 invalid_query, naming each, for parameters r's operation does not
 * declare; else 0. */
int query_check(struct req *);

/* codes.c */
/* A problem code of the API (the <code> of urn:danvan:problem:<code>). */
struct problem_code {
	const char *code;
	int status; /* the HTTP status it is answered with */
	const char *title;
	const char *title_vi;
};
extern const struct problem_code codes_list[];
extern const size_t codes_count;
/* The entry for code, or NULL when the API has no such code. */
const struct problem_code *codes_find(const char *code);
/* The code's title, in Vietnamese when vi is set; NULL for no such code. */
const char *codes_title(const char *code, int vi);

/* A code of one errors[] entry (the FieldError code of the contract). */
struct field_code {
	const char *code;
	const char *meaning;
};
extern const struct field_code field_codes_list[];
extern const size_t field_codes_count;

/* problem.c */
const char *status_title(int status);
/* Renders the recorded failure as an application/problem+json body. */
char *problem_render(struct req *, size_t *len);

/* metrics.c */
void metrics_init(size_t nroutes);
void metrics_observe(int route_index, int status, int64_t us);
void metrics_connection(int delta);
void metrics_inflight(int delta);
/* Appends the HTTP metrics in Prometheus text format to a new arena string. */
char *metrics_render(struct arena *, const struct route *, size_t);

/* pipeline.c */
/* From the headers alone: authenticates the caller of a route that is not
 * public and checks the route's permission. 0, or -1 with 401/403. */
int pipeline_admit(struct req *);
/* Parses the received body (JSON routes), then runs the route's handler,
 * inside the Idempotency-Key record when a POST has one. 0 or -1. */
int pipeline_run(struct req *);

/* idempotency.c */
extern const struct db_stmt idempotency_stmts[];
/* What an Idempotency-Key is bound to, as a hex SHA-256 into hash[65]: the
 * method, the path, the query parameters sorted by name then value, and
 * the body — json's canonical form (keys sorted, compact) when json is
 * given, else the len bytes at body. q is sorted in place; scratch memory
 * comes from a. */
void idempotency_fingerprint(struct arena *a, const char *method,
    const char *path, struct query_pair *q, size_t nq, const json_t *json,
    const void *body, size_t len, char *hash);
/* Runs the handler under an Idempotency-Key: the same request replays the
 * stored answer, another one under the key is 422, one still running 409. */
int idempotency_run(struct req *, const char *key);

/* lex.c */
/* Pieces of field values (RFC 9110 5.6); each advances *p past what it
 * read, and leaves it when it reads nothing. */
int lex_tchar(int c);
/* Skips a token; returns its length, 0 when there is none. */
size_t lex_token(const char **p);
/* Skips a quoted-string; 0, or -1 (*p unchanged) when there is none. */
int lex_quoted(const char **p);
/* Skips spaces and tabs. */
void lex_ows(const char **p);
/* Skips OWS ";" OWS name "=", leaving *p at the value: 1 with *name and
 * *namelen; 0 when no ';' follows; -1 when what follows is malformed. */
int lex_param(const char **p, const char **name, size_t *namelen);

/* limits.c */
/* Why a request target (as sent, before decoding; NULL: none) is
 * malformed — a space or control byte, or in the path a '%' not followed
 * by two hex digits or standing for NUL — or NULL when it is not. */
const char *limits_target(const char *target);
/* 414, 400 (a query value hiding a NUL) or 431 from the sizes the server
 * measured; else 0. */
int limits_head(struct req *, size_t url_bytes, int query_nuls,
    size_t header_bytes);
/* The Transfer-Encoding of a request (te: its value, lines: how many
 * Transfer-Encoding lines came, 0 for none): 0 when the body can be read
 * (chunked alone, or no coding); else -1 with 501 for codings that are not
 * implemented, 400 for a malformed value, a second line, a Content-Length
 * beside it or an HTTP/1.0 request. */
int limits_transfer_coding(struct req *, const char *te, int lines,
    int has_length, int http10);
/* True when a client's X-Request-Id may be kept: 1 to 64 of
 * [A-Za-z0-9._:-]. */
int limits_request_id(const char *);
/* The largest body a route takes (0: none, also for no route). */
size_t limits_body_cap(const struct route *);
/* application/json, and for PATCH also application/merge-patch+json. */
int limits_json_type(const char *content_type, enum method);
/* The body r announces against its route: 0 with *room, the bytes to
 * buffer; -1 with 413 (*oversize set when the announced length is over the
 * cap) or 415. content_length is NULL for a chunked body. */
int limits_body(struct req *, const char *content_length,
    const char *content_type, size_t *room, int *oversize);

/* shape.c */
/* Compresses len bytes at src as a gzip stream, in a's memory (malloc'd
 * when a is NULL); the compressed length goes to *outlen. */
unsigned char *shape_gzip(struct arena *a, const void *src, size_t len,
    size_t *outlen);
/* Prepares a static body; its gzip form and ETag are computed once, when
 * it is first served (static_body_ready), so that a body nobody asks for
 * (the docs' script, a megabyte) is neither read nor compressed. */
void static_body_init(struct static_body *, const unsigned char *, size_t);
/* Computes sb's gzip form and ETag if no thread has yet. Thread-safe. */
void static_body_ready(struct static_body *sb);
/* True when an Accept-Encoding value (NULL: absent) takes gzip: gzip or
 * x-gzip with a weight above 0, or, when neither is named, "*" with one. */
int shape_accepts_gzip(const char *accept_encoding);
/* The weight (0 to 1000) an Accept value gives to the media type type
 * ("text/csv"), from its most specific matching range (the type itself, then its
 * type with any subtype, then any type): 1000 when Accept is absent, 0 when nothing matches. */
int shape_accept_weight(const char *accept, const char *type);
/* True when an Accept-Language value (NULL: absent) prefers Vietnamese
 * (vi, vi-VN, ...) to English, the default: a higher q, or the same q
 * named first; "*" counts as English. */
int shape_accepts_vi(const char *accept_language);
/* True when an If-None-Match value (NULL: absent) is "*" or a list of
 * entity-tags one of which names etag by the weak comparison of RFC 9110
 * (W/ ignored on both sides); a malformed list names nothing. */
int shape_etag_matches(const char *if_none_match, const char *etag);
/* True for media types worth compressing: JSON and text. */
int shape_compressible(const char *content_type);
/* A Range value (NULL: absent) against a body of len bytes: 1 with the
 * inclusive [*first, *last] of one range, -1 when it starts past the end
 * (416), 0 to serve the whole body (absent, malformed or invalid). */
int shape_range(const char *range, size_t len, size_t *first, size_t *last);
/* True when a Range may be served under an If-Range value (NULL: absent):
 * it names etag, a strong tag, exactly (RFC 9110 13.1.5). */
int shape_if_range(const char *if_range, const char *etag);
/* True for a fields= value: names of [a-z0-9_], comma-separated, <= 64. */
int shape_fields_valid(const char *);
/* A JSON object body trimmed to fields (an entity, or each item of a list
 * page), in a's memory with its length in *outlen; NULL when the body is
 * not a JSON object (send it as it is). */
char *shape_fields_trim(struct arena *a, const char *body, size_t len,
    const char *fields, size_t *outlen);
/* The Allow value for the methods in allow, in a's memory. */
const char *shape_allow(struct arena *a, unsigned allow);
/* The last stage for a handled request: its failure as a problem document,
 * Range, fields=, ETag and 304, gzip. *body (request's memory) and *len are
 * what to send; *gzipped says whether it is compressed. */
void shape_response(struct req *, const void **body, size_t *len, int *gzipped);

/* offload.c */
/* Work for an offload pool, embedded in its owner; run is called on one of
 * its threads. */
struct offload_job {
	struct offload_job *next;
	void (*run)(struct offload_job *);
};
struct offload_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct offload_job *head, *tail;
	pthread_t *threads;
	int started, quit;
	int limit; /* jobs reserved, queued or running at most; 0: no limit */
	int admitted; /* reserved, queued or running */
};
/* Starts nthreads threads for pool (zeroed). */
void offload_start(struct offload_pool *, int nthreads, int limit);
/* Takes a place for one job: 0, or -1 when limit jobs have one. */
int offload_reserve(struct offload_pool *);
/* Queues job in the place reserved for it (not copied: it must live until
 * it has run). */
void offload_push(struct offload_pool *, struct offload_job *);
/* Runs the jobs still queued, then joins the threads. */
void offload_stop(struct offload_pool *);

/* wait.c */
/* A request waiting for a change, embedded in its owner; wake is called
 * on the waiting thread (with the registry locked) when it is due. */
struct wait_entry {
	struct wait_entry *next;
	int64_t until; /* mono_us() at which it is woken anyway */
	void (*wake)(struct wait_entry *);
};
/* Starts the thread that LISTENs for changes. */
void wait_start(void);
/* How many change notifications came so far. */
long wait_generation(void);
/* Takes a place for one waiting request: 0, or -1 when
 * DANVAN_MAX_WAITERS already wait (or the server is stopping). */
int wait_reserve(void);
void wait_release(void);
/* How many places are taken: requests waiting for a change. */
int wait_count(void);
/* Registers e (not copied) unless a notification came after generation or
 * the server is stopping: then -1, and the caller wakes it itself. */
int wait_add(struct wait_entry *, long generation);
/* Stops the thread and wakes every waiting request. */
void wait_stop(void);

/* wire.c */
/* For server.c, which owns the connection (an opaque type to everything
 * else). */
struct MHD_Connection;
/* Shapes r's answer (shape_response) and queues it with the headers every
 * response carries, and Connection: close when close is set. 0 or -1. */
int wire_reply(struct MHD_Connection *, struct req *r, int close);
/* Adds to *url_bytes the size of the query, to *query_nuls the query
 * values that hide a NUL, to *header_bytes the size of the headers. */
void wire_sizes(struct MHD_Connection *, size_t *url_bytes, int *query_nuls,
    size_t *header_bytes);
/* The query's parameters, decoded, in the order sent, in a's memory (the
 * strings are the server's); returns how many. */
size_t wire_query(struct MHD_Connection *, struct arena *a,
    struct query_pair **out);
/* The client's address as text, into buf ("unknown" when there is none). */
void wire_client_addr(struct MHD_Connection *, char *buf, size_t cap);
struct sockaddr_storage;
/* Resolves listen, "host:port" ("[v6]:port" for IPv6), into *addr; -1 with
 * a log line when it cannot. */
int wire_listen_addr(const char *listen, struct sockaddr_storage *addr);
/* How many header lines of the request have this name. */
int wire_header_lines(struct MHD_Connection *, const char *name);
/* True when no header value was cut short by a NUL byte (and no header
 * line is folded); method and version are the access handler's. */
int wire_head_clean(struct MHD_Connection *, const char *method,
    const char *version);

/* server.c */
/* Request header or query parameter, NULL when absent. Owned by the server. */
const char *req_header(struct req *, const char *name);
const char *req_query(struct req *, const char *name);
/* Every query parameter, decoded, in the order sent (*out in the request's
 * memory; the strings are the server's). Returns how many. */
size_t req_query_all(struct req *, struct query_pair **out);
/* The client's address as text, into buf. */
void req_client_addr(struct req *, char *buf, size_t cap);
struct http_options {
	const struct route *routes;
	size_t nroutes;
};
int http_start(const struct http_options *);
/* Stops accepting, lets in-flight requests finish (bounded), then stops. */
void http_stop(void);

#endif
