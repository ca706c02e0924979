/*
 * Configuration: every setting has a DANVAN_* name, a default and bounds.
 * An optional file named by DANVAN_CONFIG holds KEY=VALUE lines; the
 * environment overrides it. Values are checked here, once, at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

struct config cfg;

enum kind { STR, INT, SIZE };

static const struct setting {
	const char *name;
	enum kind kind;
	void *dst;
	const char *def;
	long long min, max;
} settings[] = {
	{ "DANVAN_LISTEN", STR, &cfg.listen, "127.0.0.1:8080", 0, 0 },
	{ "DANVAN_DATABASE_URL", STR, &cfg.database_url, NULL, 0, 0 },
	{ "DANVAN_OWNER_DATABASE_URL", STR, &cfg.owner_database_url, NULL, 0,
	    0 },
	{ "DANVAN_READ_DATABASE_URL", STR, &cfg.read_database_url, NULL, 0, 0 },
	{ "DANVAN_READ_MAX_LAG_MS", INT, &cfg.read_max_lag_ms, "5000", 0,
	    3600000 },
	/* 0: one per online CPU, see config_load. */
	{ "DANVAN_THREADS", INT, &cfg.threads, "0", 0, 64 },
	{ "DANVAN_EVENT_THREADS", INT, &cfg.event_threads, "1", 1, 64 },
	{ "DANVAN_MAX_BODY_BYTES", SIZE, &cfg.max_body_bytes, "1048576", 1024,
	    64LL << 20 },
	{ "DANVAN_MAX_UPLOAD_BYTES", SIZE, &cfg.max_upload_bytes, "10485760",
	    1024, 64LL << 20 },
	{ "DANVAN_MAX_EXPORT_BYTES", SIZE, &cfg.max_export_bytes, "67108864",
	    1024, 1LL << 30 },
	{ "DANVAN_EXPORT_DIR", STR, &cfg.export_dir, "/tmp", 0, 0 },
	{ "DANVAN_MAX_ATTACHMENTS", INT, &cfg.max_attachments, "20", 1, 10000 },
	{ "DANVAN_MAX_ATTACHMENT_BYTES_TOTAL", SIZE,
	    &cfg.max_attachment_bytes_total, "52428800", 1024, 64LL << 30 },
	{ "DANVAN_MAX_JSON_DEPTH", INT, &cfg.max_json_depth, "32", 2, 512 },
	{ "DANVAN_MAX_STRING_BYTES", SIZE, &cfg.max_string_bytes, "65536", 64,
	    16LL << 20 },
	{ "DANVAN_MAX_URL_BYTES", SIZE, &cfg.max_url_bytes, "2048", 256, 16384 },
	{ "DANVAN_MAX_HEADER_BYTES", SIZE, &cfg.max_header_bytes, "16384", 1024,
	    65536 },
	{ "DANVAN_CONNECTION_LIMIT", INT, &cfg.connection_limit, "1000", 4,
	    100000 },
	{ "DANVAN_CONNECTION_TIMEOUT", INT, &cfg.connection_timeout, "30", 1,
	    3600 },
	{ "DANVAN_STATEMENT_TIMEOUT_MS", INT, &cfg.statement_timeout_ms, "5000",
	    10, 600000 },
	{ "DANVAN_TRANSACTION_TIMEOUT_MS", INT, &cfg.transaction_timeout_ms,
	    "10000", 0, 3600000 },
	{ "DANVAN_SHUTDOWN_GRACE", INT, &cfg.shutdown_grace_s, "10", 0, 300 },
	{ "DANVAN_OFFLOAD_QUEUE", INT, &cfg.offload_queue, "32", 0, 100000 },
	{ "DANVAN_MAX_WAITERS", INT, &cfg.max_waiters, "256", 0, 100000 },
	{ "DANVAN_JWT_ALG", STR, &cfg.jwt_alg, "HS256", 0, 0 },
	{ "DANVAN_JWT_SECRET", STR, &cfg.jwt_secret, NULL, 0, 0 },
	{ "DANVAN_JWT_SECRET_FILE", STR, &cfg.jwt_secret_file, NULL, 0, 0 },
	{ "DANVAN_JWT_KEY_FILE", STR, &cfg.jwt_key_file, NULL, 0, 0 },
	{ "DANVAN_JWT_PUBLIC_KEY_FILE", STR, &cfg.jwt_public_key_file, NULL, 0,
	    0 },
	{ "DANVAN_JWT_KID", STR, &cfg.jwt_kid, "k1", 0, 0 },
	{ "DANVAN_JWT_PREVIOUS_KID", STR, &cfg.jwt_previous_kid, NULL, 0, 0 },
	{ "DANVAN_JWT_PREVIOUS_KEY_FILE", STR, &cfg.jwt_previous_key_file, NULL,
	    0, 0 },
	{ "DANVAN_JWT_ISSUER", STR, &cfg.jwt_issuer, "danvan", 0, 0 },
	{ "DANVAN_JWT_AUDIENCE", STR, &cfg.jwt_audience, "danvan-api", 0, 0 },
	{ "DANVAN_JWT_LEEWAY", INT, &cfg.jwt_leeway, "30", 0, 300 },
	{ "DANVAN_ACCESS_TTL", INT, &cfg.access_ttl, "900", 30, 86400 },
	{ "DANVAN_REFRESH_TTL_DAYS", INT, &cfg.refresh_ttl_days, "30", 1, 365 },
	{ "DANVAN_LOGIN_LIMIT", INT, &cfg.login_limit, "5", 1, 1000 },
	{ "DANVAN_LOGIN_WINDOW", INT, &cfg.login_window, "60", 1, 86400 },
	{ "DANVAN_TRUST_PROXY", INT, &cfg.trust_proxy, "0", 0, 1 },
	{ "DANVAN_SECCOMP", INT, &cfg.seccomp, "1", 0, 1 },
	{ "DANVAN_PROXY_ADDRESSES", STR, &cfg.proxy_addresses, "127.0.0.1,::1",
	    0, 0 },
	{ "DANVAN_USER_CHECK_INTERVAL", INT, &cfg.user_check_interval, "60", 0,
	    3600 },
	{ "DANVAN_CORS_ORIGINS", STR, &cfg.cors_origins, NULL, 0, 0 },
};

/* File values are copied; defaults and environment strings live as long as the process. */
static int
set(const struct setting *s, const char *v, int copy)
{
	long long n;
	char *end;

	if (s->kind == STR) {
		*(const char **)s->dst = v != NULL && copy ? xstrdup(v) : v;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < s->min || n > s->max) {
		log_error("%s: expected a whole number from %lld to %lld",
		    s->name, s->min, s->max);
		return -1;
	}
	if (s->kind == INT)
		*(int *)s->dst = (int)n;
	else
		*(size_t *)s->dst = (size_t)n;
	return 0;
}

static const struct setting *
lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(settings); i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

static int
load_file(const char *path)
{
	const struct setting *s;
	char line[4096], *eq, *k, *v, *e;
	int lineno = 0, rc = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (*k == '#' || *k == '\n' || *k == '\0')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		if ((eq = strchr(k, '=')) == NULL) {
			log_error("%s:%d: expected KEY=VALUE", path, lineno);
			rc = -1;
			continue;
		}
		*eq = '\0';
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		if ((s = lookup(k)) == NULL) {
			log_error("%s:%d: unknown setting %s", path, lineno, k);
			rc = -1;
		} else if (getenv(k) == NULL && set(s, v, 1) == -1)
			rc = -1;
	}
	fclose(f);
	return rc;
}

int
config_load(void)
{
	const char *v, *path;
	size_t i;
	int rc = 0;

	for (i = 0; i < nitems(settings); i++)
		if (set(&settings[i], settings[i].def, 0) == -1)
			return -1;
	if ((path = getenv("DANVAN_CONFIG")) != NULL && load_file(path) == -1)
		rc = -1;
	for (i = 0; i < nitems(settings); i++)
		if ((v = getenv(settings[i].name)) != NULL &&
		    set(&settings[i], v, 0) == -1)
			rc = -1;
	/*
	 * One blocking thread per CPU. They only wait on their backends (the
	 * event thread does the HTTP work), but more of them did not serve
	 * more: on 2 CPUs, 4 threads served 0.81-0.93 x pgbench's submissions
	 * where 2 served 0.87-0.92, and held 0.6 MiB more with 1,000 idle
	 * connections. (When every thread was also an event thread, 4 on 2
	 * CPUs stalled requests for up to 1.4 s.)
	 */
	if (cfg.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg.threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
	}
	return rc;
}
