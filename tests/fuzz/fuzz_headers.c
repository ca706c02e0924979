/*
 * The request header values the server parses itself: Range and If-Range
 * (shape.c), If-Match (reply.c), If-None-Match, Accept-Encoding and Accept
 * (shape.c, lex.c), the request target, X-Request-Id, Content-Type and
 * Transfer-Encoding and Content-Length against a route (limits.c). The
 * input is NUL-separated in that order (Accept last), after two bytes that give the
 * length of the body a Range applies to (and pick the route).
 */
#include <string.h>

#include "fuzz.h"
#include "resources/resources.h"

enum {
	RANGE,
	IF_RANGE,
	IF_MATCH,
	IF_NONE_MATCH,
	ACCEPT_ENCODING,
	TARGET,
	REQUEST_ID,
	CONTENT_TYPE,
	TRANSFER_ENCODING,
	CONTENT_LENGTH,
	ACCEPT,
	NPIECES
};

static void
range(const char *h, const char *if_range, size_t len)
{
	size_t first = 0, last = 0;
	int rc = shape_range(h, len, &first, &last);

	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	if (rc == 1)
		FUZZ_ASSERT(first <= last && last < len);
	if (rc == -1)
		FUZZ_ASSERT(h != NULL);
	(void)shape_if_range(if_range, "\"7\"");
	(void)shape_if_range(if_range, "W/\"7\"");
}

/* A version If-Match accepts is a strong tag of digits, which names itself
 * in If-None-Match. */
static void
check_if_match(struct req *r, const char *h)
{
	const char *v = if_match_parse(r, h);

	if (v == NULL) {
		FUZZ_ASSERT(r->fail.status == 412 || r->fail.status == 428);
		req_clear_failure(r);
		return;
	}
	FUZZ_ASSERT(strlen(v) >= 1 && strlen(v) <= 10);
	FUZZ_ASSERT(strspn(v, "0123456789") == strlen(v));
	FUZZ_ASSERT(shape_etag_matches(h, h));
	FUZZ_ASSERT(shape_etag_matches("*", h));
}

/* What the body may take: never more than the route's cap. */
static void
body(struct req *r, const struct route *rt, const char *length, const char *type)
{
	size_t room = 0;
	int oversize;

	r->route = rt;
	r->method = rt->method;
	if (limits_body(r, length, type, &room, &oversize) == 0)
		FUZZ_ASSERT(room <= limits_body_cap(rt) && room <= rt->body_max);
	else
		FUZZ_ASSERT(r->fail.status == 413 || r->fail.status == 415);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req *r = fuzz_req();
	static const char xlsx[] =
	    "application/"
	    "vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet";
	const char *const media[] = { "application/json", "text/csv", xlsx };
	char *p[NPIECES];
	size_t len, i;
	int w;

	if (size < 2)
		goto out;
	len = (size_t)data[0] << 8 | data[1];
	fuzz_split(r->arena, data + 2, size - 2, p, NPIECES);
	range(p[RANGE], p[IF_RANGE], len);
	check_if_match(r, p[IF_MATCH]);
	(void)shape_etag_matches(p[IF_NONE_MATCH], "\"12\"");
	(void)shape_etag_matches(p[IF_NONE_MATCH], p[IF_MATCH]);
	if (p[IF_NONE_MATCH] != NULL && strcmp(p[IF_NONE_MATCH], "*") == 0)
		FUZZ_ASSERT(shape_etag_matches(p[IF_NONE_MATCH], "\"1\""));
	FUZZ_ASSERT(shape_accepts_gzip(p[ACCEPT_ENCODING]) <= 1);
	(void)limits_target(p[TARGET]);
	if (limits_request_id(p[REQUEST_ID]))
		FUZZ_ASSERT(
		    strlen(p[REQUEST_ID]) >= 1 && strlen(p[REQUEST_ID]) <= 64);
	(void)limits_json_type(p[CONTENT_TYPE], M_POST);
	(void)limits_json_type(p[CONTENT_TYPE], M_PATCH);
	if (limits_transfer_coding(r, p[TRANSFER_ENCODING],
		p[TRANSFER_ENCODING] != NULL, 0, 0) == -1)
		FUZZ_ASSERT(r->fail.status == 400 || r->fail.status == 501);
	req_clear_failure(r);
	body(r, &routes[len % nroutes], p[CONTENT_LENGTH], p[CONTENT_TYPE]);
	for (i = 0; i < nitems(media); i++) {
		w = shape_accept_weight(p[ACCEPT], media[i]);
		FUZZ_ASSERT(w >= 0 && w <= 1000);
	}
out:
	fuzz_req_free(r);
	return 0;
}
