/*
 * Cross-origin requests from browsers (the Fetch standard's CORS protocol),
 * decided here once for every route: origins on the DANVAN_CORS_ORIGINS
 * allow-list (none by default: same origin only) get their own origin
 * echoed back, never "*", and may read the headers a client needs. A
 * preflight OPTIONS is answered before authentication, from the route
 * table alone; an origin off the list gets no Access-Control-* header.
 */
#include <string.h>

#include "http/http.h"

/* What a browser client may send, and what it may read of an answer. */
/* clang-format off */
static const char allow_headers[] = "Authorization, Content-Type, If-Match, "
				    "If-None-Match, Idempotency-Key, "
				    "X-Request-Id, Range";
static const char expose_headers[] = "ETag, Location, X-Request-Id, "
				     "Idempotent-Replayed, Content-Range, "
				     "Content-Disposition, Retry-After";
/* clang-format on */

int
cors_origin_allowed(const char *list, const char *origin)
{
	const char *p = list, *end;
	size_t n, olen;

	if (list == NULL || origin == NULL || *origin == '\0')
		return 0;
	olen = strlen(origin);
	while (*p != '\0') {
		p += strspn(p, ", \t");
		end = p + strcspn(p, ", \t");
		n = (size_t)(end - p);
		if (n > 0 && n == olen && memcmp(p, origin, n) == 0)
			return 1;
		p = end;
	}
	return 0;
}

/* The request's Origin when it is on the allow-list, else NULL. */
static const char *
allowed_origin(struct req *r)
{
	const char *origin = req_header(r, "Origin");

	return cors_origin_allowed(cfg.cors_origins, origin) ? origin : NULL;
}

void
cors_response(struct req *r)
{
	const char *origin;

	if (cfg.cors_origins == NULL || *cfg.cors_origins == '\0')
		return;
	/* The answer depends on Origin whenever a list is configured. */
	req_header_add(r, "Vary", "Origin");
	if ((origin = allowed_origin(r)) == NULL)
		return;
	req_header_add(r, "Access-Control-Allow-Origin", origin);
	req_header_add(r, "Access-Control-Expose-Headers", expose_headers);
}

int
cors_preflight(struct req *r, const struct route *routes, size_t n,
    const char *path)
{
	unsigned allow;

	router_match(routes, n, 0, path, NULL, NULL, &allow);
	if (allow == 0)
		return req_fail(r, 404, "not_found", "no resource at this path");
	req_header_add(r, "Allow",
	    arena_printf(r->arena, "%s, OPTIONS", shape_allow(r->arena, allow)));
	if (allowed_origin(r) != NULL &&
	    req_header(r, "Access-Control-Request-Method") != NULL) {
		req_header_add(r, "Access-Control-Allow-Methods",
		    shape_allow(r->arena, allow));
		req_header_add(r, "Access-Control-Allow-Headers", allow_headers);
		req_header_add(r, "Access-Control-Max-Age", "600");
	}
	return req_reply(r, 204, NULL, NULL, 0);
}
