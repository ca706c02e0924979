/*
 * The limits every request meets before its body is read: a well-formed
 * request target, the size of the URL and of the headers, a well-formed
 * request id, and the body a route takes (its cap and media type). Pure
 * checks on values the server gathered from the connection, so they are
 * tested without one.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

const char *
limits_target(const char *t)
{
	const char *p;
	int in_path = 1;

	if (t == NULL || *t == '\0')
		return "nothing";
	for (p = t; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "a space or a control character";
		if (*p == '?')
			in_path = 0;
		if (!in_path || *p != '%')
			continue;
		/* The path is decoded before it is routed: an escape that is
		 * not two hex digits, or that stands for NUL, would be read
		 * otherwise by each program on the way. */
		if (!isxdigit((unsigned char)p[1]) ||
		    !isxdigit((unsigned char)p[2]))
			return "a '%' not followed by two hex digits";
		if (p[1] == '0' && p[2] == '0')
			return "an escaped NUL (%00)";
		p += 2;
	}
	return NULL;
}

/*
 * Counts the codings of a Transfer-Encoding value (RFC 9112 6.1: a list of
 * tokens, each with ;name=value parameters; empty elements are allowed);
 * *only_chunked says it is chunked alone, without parameters. -1 when the
 * value is malformed.
 */
static int
codings(const char *s, int *only_chunked)
{
	const char *name, *pname;
	size_t n, pn;
	int count = 0, plain = 0, rc;

	*only_chunked = 0;
	for (;;) {
		lex_ows(&s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '\0')
			break;
		name = s;
		if ((n = lex_token(&s)) == 0)
			return -1;
		count++;
		plain = n == 7 && strncasecmp(name, "chunked", 7) == 0;
		while ((rc = lex_param(&s, &pname, &pn)) == 1) {
			plain = 0;
			if (*s == '"' ? lex_quoted(&s) == -1 :
					lex_token(&s) == 0)
				return -1;
		}
		if (rc == -1 || (*s != ',' && *s != '\0'))
			return -1;
	}
	*only_chunked = count == 1 && plain;
	return count;
}

int
limits_transfer_coding(struct req *r, const char *te, int lines, int has_length,
    int http10)
{
	int n, only_chunked;

	if (lines == 0)
		return 0;
	/* As nginx: a body whose framing two programs could read otherwise
	 * is refused, not guessed at. */
	if (lines > 1)
		return req_fail(r, 400, "invalid_header",
		    "Transfer-Encoding is sent more than once");
	if (has_length)
		return req_fail(r, 400, "invalid_header",
		    "Transfer-Encoding and Content-Length are both sent");
	if (http10)
		return req_fail(r, 400, "invalid_header",
		    "an HTTP/1.0 request cannot have a Transfer-Encoding");
	/* What libmicrohttpd reads as chunked: the word alone. */
	if (te != NULL && strcasecmp(te, "chunked") == 0)
		return 0;
	if (te == NULL || (n = codings(te, &only_chunked)) <= 0 || only_chunked)
		return req_fail(r, 400, "invalid_header",
		    "Transfer-Encoding is malformed; send chunked");
	return req_fail(r, 501, "unsupported_transfer_encoding",
	    "only the chunked transfer coding is implemented");
}

int
limits_head(struct req *r, size_t url_bytes, int query_nuls, size_t header_bytes)
{
	if (url_bytes > cfg.max_url_bytes)
		return req_fail(r, 414, "uri_too_long",
		    "the URL is longer than %zu bytes", cfg.max_url_bytes);
	if (query_nuls > 0) {
		req_field_error(r, "query", "format",
		    "a NUL character is not "
		    "allowed");
		return req_fail(r, 400, "invalid_query",
		    "a query parameter holds a NUL character");
	}
	if (header_bytes > cfg.max_header_bytes)
		return req_fail(r, 431, "headers_too_large",
		    "the request headers are larger than %zu bytes",
		    cfg.max_header_bytes);
	return 0;
}

int
limits_request_id(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++)
		if (n >= 64 ||
		    !(isalnum((unsigned char)s[n]) ||
			strchr("._:-", s[n]) != NULL))
			return 0;
	return n > 0;
}

size_t
limits_body_cap(const struct route *rt)
{
	size_t cap;

	if (rt == NULL)
		return 0;
	cap = rt->flags & ROUTE_RAW_BODY ? cfg.max_upload_bytes :
					   cfg.max_body_bytes;
	return rt->body_max < cap ? rt->body_max : cap;
}

int
limits_json_type(const char *ct, enum method m)
{
	size_t n;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, "; \t");
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	    (m == M_PATCH && n == 28 &&
		strncasecmp(ct, "application/merge-patch+json", 28) == 0);
}

int
limits_body(struct req *r, const char *content_length, const char *content_type,
    size_t *room, int *oversize)
{
	size_t cap = limits_body_cap(r->route);
	unsigned long long n = 0;

	*oversize = 0;
	if (cap == 0)
		return req_fail(r, 413, "payload_too_large",
		    "this operation takes no request body");
	if (content_length != NULL)
		n = strtoull(content_length, NULL, 10);
	if (content_length != NULL && n > cap) {
		*oversize = 1;
		return req_fail(r, 413, "payload_too_large",
		    "the body is larger than %zu bytes", cap);
	}
	if (!(r->route->flags & ROUTE_RAW_BODY) &&
	    !limits_json_type(content_type, r->method))
		return req_fail(r, 415, "unsupported_media_type",
		    "the body must be application/json");
	/* A file takes what it announces, not the whole cap. */
	*room = content_length != NULL && n < cap ? (size_t)n : cap;
	return 0;
}
