/*
 * Shared helpers of every layer: the per-request arena, logging, configuration,
 * time and id helpers, and the assets compiled into the binary.
 * Nothing here knows about HTTP or PostgreSQL.
 */
#ifndef DANVAN_CORE_H
#define DANVAN_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* A file compiled into the binary (see api/tools/embed.py). */
struct asset {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct asset asset_openapi_json, asset_docs_html, asset_redoc_js,
    asset_favicon, asset_seed_units, asset_seed_plan_province,
    asset_seed_plan_commune, asset_seed_submissions, asset_seed_inspections,
    asset_seed_synthetic;
extern const struct asset migrations[]; /* ends with a NULL name */
extern const size_t migrations_count;

/* Settings, read once at start-up from the environment and DANVAN_CONFIG. */
struct config {
	const char *listen;
	const char *database_url;
	const char *owner_database_url;
	const char *read_database_url;
	int read_max_lag_ms;
	int threads;	   /* the blocking pool's, one connection each */
	int event_threads; /* reading requests and sending answers */
	size_t max_body_bytes;
	size_t max_upload_bytes;
	size_t max_export_bytes; /* an XLSX answer */
	const char *export_dir; /* where XLSX files are written, then unlinked */
	int max_attachments;	/* per submission */
	size_t max_attachment_bytes_total; /* per submission, all files */
	int max_json_depth;
	size_t max_string_bytes;
	size_t max_url_bytes;
	size_t max_header_bytes;
	int connection_limit;
	int connection_timeout;
	int statement_timeout_ms;
	int transaction_timeout_ms; /* a db_tx's deadline, checked per statement */
	int shutdown_grace_s;
	int offload_queue;
	int max_waiters; /* change-feed requests waiting at once */
	const char *jwt_alg;
	const char *jwt_secret;
	const char *jwt_secret_file;
	const char *jwt_key_file;
	const char *jwt_public_key_file;
	const char *jwt_kid;
	const char *jwt_previous_kid;
	const char *jwt_previous_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	int jwt_leeway;
	int access_ttl;
	int refresh_ttl_days;
	int login_limit;
	int login_window;
	int trust_proxy;
	const char *proxy_addresses;
	int seccomp;
	int user_check_interval;
	const char *cors_origins; /* allowed browser origins; NULL: none */
};
extern struct config cfg;

/* sandbox.c */
/* 1 in an AddressSanitizer build (gcc or clang), whose runtime makes system
 * calls of its own that the filter has to allow. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif
int sandbox_enter(void);

/* arena.c */
struct arena;
struct arena *arena_new(void);
void arena_free(struct arena *);
void *arena_alloc(struct arena *, size_t);
void *arena_zalloc(struct arena *, size_t);
char *arena_strdup(struct arena *, const char *);
char *arena_strndup(struct arena *, const char *, size_t);
char *arena_printf(struct arena *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *, const char *, va_list);
/* Runs fn(p) when the arena is freed, last registered first. */
void arena_defer(struct arena *, void (*fn)(void *), void *p);

/* log.c */
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Batch the access log from now on (a thread writes it every 100 ms), and
 * stop that, with everything written. */
void log_access_start(void);
void log_access_stop(void);
void log_access(const char *id, const char *method, const char *route,
    int status, size_t bytes, int64_t us);
/* Appends s to buf (capacity cap, NUL-kept) JSON-escaped; returns new length. */
size_t log_escape(char *buf, size_t len, size_t cap, const char *s);

/* fail.c */
/* One problem with one field of the input, for errors[]. */
struct field_error {
	struct field_error *next;
	const char *field, *code, *message;
	const char *message_vi; /* NULL: no translation, or not asked for */
};
/*
 * Why a piece of work failed; the first failure recorded wins. Strings live
 * in the arena passed with the record. status 0: nothing failed.
 */
struct failure {
	int status;	    /* HTTP status */
	const char *code;   /* problem code (the list: http/codes.c) */
	const char *detail; /* a short factual sentence */
	struct field_error *fields, *last;
	int retryable; /* a serialization failure: run the transaction again */
	/* One header the answer must carry (Retry-After, WWW-Authenticate). */
	const char *header, *header_value;
	/* Set before anything fails (and kept by failure_clear): the detail
	 * and field messages are also written in Vietnamese (lang.c). */
	int vi;
	const char *detail_vi; /* NULL: no translation */
};
/* Record a failure (unless one is recorded already). Return -1. */
int failure_set(struct failure *, struct arena *, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int failure_vset(struct failure *, struct arena *, int status, const char *code,
    const char *fmt, va_list) __attribute__((format(printf, 5, 0)));
/* Append a field problem; field is copied, code must be static. */
void failure_field(struct failure *, struct arena *, const char *field,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void failure_vfield(struct failure *, struct arena *, const char *field,
    const char *code, const char *fmt, va_list)
    __attribute__((format(printf, 5, 0)));
/* Set the one header the answer carries; both strings outlive the record. */
void failure_header(struct failure *, const char *name, const char *value);
void failure_clear(struct failure *);
/* The failure as one line for a log: code, detail and each field problem. */
const char *failure_text(struct arena *, const struct failure *);

/* lang.c */
/* The Vietnamese form of an English message format (the message id, as
 * the code writes it), with the same conversions in the same order; NULL
 * when it has none. */
const char *lang_vi(const char *fmt);
/* The message table, for its tests: pairs {en, vi}, ending with NULLs. */
extern const char *const lang_messages[][2];

/* config.c */
/* Fills cfg from DANVAN_CONFIG (KEY=VALUE lines) and the environment; -1 on error. */
int config_load(void);

/* util.c */
int64_t now_us(void);
int64_t mono_us(void);
/* Writes the current UTC time as RFC 3339 with milliseconds into buf[32]. */
void time_rfc3339(char *buf, size_t cap);
/* Writes the n bytes at p as 2*n lowercase hex chars plus NUL into out. */
void hex_encode(char *out, const void *p, size_t n);
/* Fills buf with 2*n hex chars plus NUL: unique ids, not secrets. */
void random_hex(char *buf, size_t n);
uint64_t hash_fnv1a(const void *, size_t);
/* The number of characters (code points) in a NUL-terminated UTF-8 string
 * that is known to be valid: every byte but a continuation byte counts. */
size_t utf8_chars(const char *);
/* Decodes the UTF-8 character at *s and moves *s past it; -1 (*s kept)
 * when it is not well-formed (overlong, a surrogate, past U+10FFFF, cut
 * short). */
int32_t utf8_next(const unsigned char **s);
/* Aborts on allocation failure: out of memory is not a recoverable error here. */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);

#endif
