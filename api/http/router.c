/*
 * The router: matches a method and a path against the route table. Path
 * parameters are typed in the pattern ("{id:uuid}", "{n:int}") and checked
 * here, so a handler only ever sees well-formed parameters; a segment that
 * fails its type simply does not match (the client gets 404).
 * router_resolve answers 404, or 405 with Allow, for a request that matches
 * no route.
 */
#include <ctype.h>
#include <string.h>

#include "http/http.h"

static const struct {
	enum method m;
	const char *name;
} methods[] = {
	{ M_GET, "GET" },
	{ M_POST, "POST" },
	{ M_PUT, "PUT" },
	{ M_PATCH, "PATCH" },
	{ M_DELETE, "DELETE" },
};

const char *
method_name(enum method m)
{
	size_t i;

	for (i = 0; i < nitems(methods); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "OTHER";
}

enum method
method_parse(const char *s)
{
	size_t i;

	if (strcmp(s, "HEAD") == 0)
		return M_GET;
	for (i = 0; i < nitems(methods); i++)
		if (strcmp(methods[i].name, s) == 0)
			return methods[i].m;
	return 0;
}

static int
valid_uuid(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int
valid_int(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 18)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Checks a path segment against the type named in "{name:type}". */
static int
valid_param(const char *type, size_t tlen, const char *s, size_t n)
{
	if (tlen == 4 && strncmp(type, "uuid", 4) == 0)
		return valid_uuid(s, n);
	if (tlen == 3 && strncmp(type, "int", 3) == 0)
		return valid_int(s, n);
	return tlen == 0 && n > 0 && n <= 200;
}

/*
 * Matches path against pattern; on success stores the parameters (arena
 * copies) and returns 1.
 */
static int
match(const char *pat, const char *path, struct arena *a, const char **params)
{
	const char *colon, *close, *type, *end;
	size_t tlen, n;
	int np = 0;

	while (*pat != '\0') {
		if (*pat != '{') {
			if (*pat++ != *path++)
				return 0;
			continue;
		}
		close = strchr(pat, '}');
		colon = memchr(pat, ':', (size_t)(close - pat));
		type = colon ? colon + 1 : close;
		tlen = (size_t)(close - type);
		end = strchr(path, '/');
		n = end ? (size_t)(end - path) : strlen(path);
		if (!valid_param(type, tlen, path, n))
			return 0;
		if (params != NULL && np < ROUTE_MAX_PARAMS)
			params[np] = a ? arena_strndup(a, path, n) : NULL;
		np++;
		path += n;
		pat = close + 1;
	}
	return *path == '\0';
}

int
router_match(const struct route *routes, size_t n, enum method m,
    const char *path, struct arena *a, const char **params, unsigned *allow)
{
	size_t i;

	/* The routes of other methods are only looked at when none of m
	 * matches: a request that matches (nearly all) tries half as many. */
	*allow = 0;
	for (i = 0; i < n; i++)
		if (routes[i].method == m &&
		    match(routes[i].pattern, path, a, params))
			return (int)i;
	for (i = 0; i < n; i++)
		if (routes[i].method != m &&
		    match(routes[i].pattern, path, NULL, NULL))
			*allow |= routes[i].method;
	return -1;
}

int
router_resolve(struct req *r, const struct route *routes, size_t n,
    const char *method, const char *path)
{
	unsigned allow;
	int idx;

	if (r->method == 0) {
		/* No route takes it; Allow says what the path does take. */
		router_match(routes, n, 0, path, NULL, NULL, &allow);
		if (allow != 0)
			req_header_add(r, "Allow", shape_allow(r->arena, allow));
		return req_fail(r, allow ? 405 : 404,
		    allow ? "method_not_allowed" : "not_found",
		    allow ? "method %.16s is not supported" :
			    "no resource at this path",
		    method);
	}
	idx = router_match(routes, n, r->method, path, r->arena, r->param,
	    &allow);
	if (idx < 0 && allow != 0) {
		req_header_add(r, "Allow", shape_allow(r->arena, allow));
		return req_fail(r, 405, "method_not_allowed",
		    "%s is not allowed on this resource", method);
	}
	if (idx < 0)
		return req_fail(r, 404, "not_found", "no resource at this path");
	r->route_index = idx;
	r->route = &routes[idx];
	return 0;
}

char *
router_template(struct arena *a, const char *pattern)
{
	char *out = arena_strdup(a, pattern), *o = out;
	int inbrace = 0, skip = 0;
	const char *p;

	for (p = pattern; *p != '\0'; p++) {
		if (*p == '{')
			inbrace = 1;
		else if (*p == '}')
			inbrace = skip = 0;
		else if (*p == ':' && inbrace)
			skip = 1;
		if (!skip)
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

int
router_check(const struct route *routes, size_t n)
{
	const char *p, *close;
	size_t i;
	int np;

	for (i = 0; i < n; i++) {
		np = 0;
		if (routes[i].pattern[0] != '/' || routes[i].handler == NULL) {
			log_error("route %zu: bad pattern or no handler", i);
			return -1;
		}
		for (p = routes[i].pattern; (p = strchr(p, '{')) != NULL;
		     p = close) {
			close = strchr(p, '}');
			if (close == NULL || close == p + 1 ||
			    ++np > ROUTE_MAX_PARAMS) {
				log_error("route %s: bad parameter",
				    routes[i].pattern);
				return -1;
			}
		}
	}
	return 0;
}
