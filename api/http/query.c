/*
 * The query parameters each operation takes, read once at start-up from the
 * contract compiled into the binary (openapi/openapi.yaml as JSON): the one
 * declaration of them. A request naming any other parameter is refused with
 * 400 invalid_query, so a misspelt filter never silently returns everything;
 * a handler that reads a parameter its operation does not declare fails at
 * its first request (validate.c asks query_declared), so tests catch it.
 */
#include <stdio.h>
#include <string.h>

#include "http/http.h"

/* For route i, its parameter names, NULL-terminated (process lifetime). */
static const char ***declared;
static size_t ndeclared;

/* The parameter object p, following a "#/components/parameters/X" $ref. */
static json_t *
resolve(json_t *doc, json_t *p)
{
	const char *ref = json_string_value(json_object_get(p, "$ref"));
	static const char prefix[] = "#/components/parameters/";

	if (ref == NULL)
		return p;
	if (strncmp(ref, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	return json_object_get(json_object_get(json_object_get(doc,
						   "components"),
				   "parameters"),
	    ref + sizeof(prefix) - 1);
}

/* Appends the query parameters of list (an OpenAPI parameters array). */
static void
collect(json_t *doc, json_t *list, const char ***names, size_t *n)
{
	json_t *p;
	size_t i;

	json_array_foreach(list, i, p) {
		if ((p = resolve(doc, p)) == NULL ||
		    !json_is_string(json_object_get(p, "name")) ||
		    strcmp(json_string_value(json_object_get(p, "in")) ?
			    json_string_value(json_object_get(p, "in")) :
			    "",
			"query") != 0)
			continue;
		*names = xrealloc(*names, (*n + 2) * sizeof(**names));
		(*names)[(*n)++] = xstrdup(
		    json_string_value(json_object_get(p, "name")));
		(*names)[*n] = NULL;
	}
}

int
query_init(const struct route *routes, size_t n, const void *contract,
    size_t len)
{
	struct arena *a = arena_new();
	json_t *doc, *item, *op;
	char method[8], *tpl;
	size_t i, k, nn;
	int rc = 0;

	if ((doc = json_loadb(contract, len, 0, NULL)) == NULL) {
		log_error("the embedded contract is not JSON");
		arena_free(a);
		return -1;
	}
	declared = xcalloc(n, sizeof(*declared));
	ndeclared = n;
	for (i = 0; i < n; i++) {
		tpl = router_template(a, routes[i].pattern);
		snprintf(method, sizeof(method), "%s",
		    method_name(routes[i].method));
		for (k = 0; method[k] != '\0'; k++)
			method[k] = (char)(method[k] | 0x20);
		item = json_object_get(json_object_get(doc, "paths"), tpl);
		if ((op = json_object_get(item, method)) == NULL) {
			log_error("route %s %s is not in the contract",
			    method_name(routes[i].method), tpl);
			rc = -1;
			continue;
		}
		nn = 0;
		declared[i] = xcalloc(1, sizeof(**declared));
		collect(doc, json_object_get(item, "parameters"), &declared[i],
		    &nn);
		collect(doc, json_object_get(op, "parameters"), &declared[i],
		    &nn);
	}
	json_decref(doc);
	arena_free(a);
	return rc;
}

int
query_declared(const struct req *r, const char *name)
{
	const char **p;

	if (r->route_index < 0 || (size_t)r->route_index >= ndeclared ||
	    declared[r->route_index] == NULL)
		return 0;
	for (p = declared[r->route_index]; *p != NULL; p++)
		if (strcmp(*p, name) == 0)
			return 1;
	return 0;
}

int
query_check(struct req *r)
{
	struct query_pair *q;
	const char *first = NULL;
	size_t i, n;

	n = req_query_all(r, &q);
	for (i = 0; i < n; i++) {
		if (query_declared(r, q[i].name))
			continue;
		if (first == NULL)
			first = q[i].name;
		req_field_error(r, q[i].name, "unknown",
		    "%.64s is not a query parameter of this operation",
		    q[i].name);
	}
	if (first == NULL)
		return 0;
	return req_fail(r, 400, "invalid_query",
	    "unknown query parameter %.64s", first);
}
