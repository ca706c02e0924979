/*
 * The router against the real route table: a method and a request path as
 * sent (the input: the method, a NUL, the path). A match must have exactly
 * the parameters its pattern types, each well-formed; no match is 404 or
 * 405 with Allow.
 */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "resources/resources.h"

void
fuzz_init(void)
{
	if (router_check(routes, nroutes) == -1)
		fuzz_fail(__FILE__, __LINE__, "the route table is bad");
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Each parameter of the pattern holds what its type promises. */
static void
check_params(struct req *r, const char *pattern)
{
	const char *p = pattern, *close, *type;
	int i = 0;

	while ((p = strchr(p, '{')) != NULL) {
		close = strchr(p, '}');
		FUZZ_ASSERT(close != NULL && i < ROUTE_MAX_PARAMS);
		FUZZ_ASSERT(r->param[i] != NULL && r->param[i][0] != '\0');
		FUZZ_ASSERT(strchr(r->param[i], '/') == NULL);
		type = memchr(p, ':', (size_t)(close - p));
		if (type != NULL && strncmp(type, ":uuid}", 6) == 0)
			FUZZ_ASSERT(is_uuid(r->param[i]));
		else if (type != NULL && strncmp(type, ":int}", 5) == 0)
			FUZZ_ASSERT(all_digits(r->param[i]));
		p = close + 1;
		i++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req *r = fuzz_req();
	char *piece[2], *tmpl;

	fuzz_split(r->arena, data, size, piece, 2);
	if (piece[1] == NULL)
		piece[1] = "/";
	r->method = method_parse(piece[0]);
	r->path = piece[1];
	if (router_resolve(r, routes, nroutes, piece[0], piece[1]) == 0) {
		FUZZ_ASSERT(r->method != 0 && r->route != NULL);
		FUZZ_ASSERT(r->route->method == r->method);
		FUZZ_ASSERT(
		    r->route_index >= 0 && (size_t)r->route_index < nroutes);
		check_params(r, r->route->pattern);
		tmpl = router_template(r->arena, r->route->pattern);
		FUZZ_ASSERT(strchr(tmpl, ':') == NULL);
	} else {
		FUZZ_ASSERT(r->fail.status == 404 || r->fail.status == 405);
		FUZZ_ASSERT((r->fail.status == 405) == (r->headers != NULL));
	}
	fuzz_req_free(r);
	return 0;
}
