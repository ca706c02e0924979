/*
 * Problem documents (RFC 9457): the one shape every error of the API takes.
 * The type is a URN built from the short error code, the title is the
 * code's (http/codes.c), the detail is a short factual sentence, and field
 * problems go in errors[]; title, detail and messages are in Vietnamese for
 * a request that asks for it (core/lang.c). Never SQL, never a
 * stack trace: those go to the log only.
 */
#include <string.h>

#include "http/http.h"

static const struct {
	int status;
	const char *title;
} titles[] = {
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" },
	{ 422, "Unprocessable Content" },
	{ 428, "Precondition Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
};

const char *
status_title(int status)
{
	size_t i;

	for (i = 0; i < nitems(titles); i++)
		if (titles[i].status == status)
			return titles[i].title;
	return status >= 500 ? "Server Error" : "Client Error";
}

/*
 * s as well-formed UTF-8, each byte that is not part of a character made
 * '?': a detail may hold bytes a client sent, or a "%.16s" cut through a
 * character, and json_pack refuses such text.
 */
static const char *
utf8_text(struct arena *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *q;
	char *out, *o;

	while (*p != '\0' && utf8_next(&p) != -1)
		;
	if (*p == '\0')
		return s;
	o = out = arena_alloc(a, strlen(s) + 1);
	for (p = (const unsigned char *)s; *p != '\0';) {
		q = p;
		if (utf8_next(&p) == -1) {
			*o++ = '?';
			p++;
		} else {
			memcpy(o, q, (size_t)(p - q));
			o += p - q;
		}
	}
	*o = '\0';
	return out;
}

char *
problem_render(struct req *r, size_t *len)
{
	const char *title, *detail;
	json_t *doc;
	char *type, *out;
	size_t n;
	int vi;

	type = arena_printf(r->arena, "urn:danvan:problem:%s",
	    r->fail.code ? utf8_text(r->arena, r->fail.code) : "internal");
	vi = r->fail.vi;
	if ((title = codes_title(r->fail.code, vi)) == NULL)
		title = status_title(r->fail.status);
	/* A detail with no Vietnamese form: the title says it in Vietnamese. */
	if ((detail = vi ? r->fail.detail_vi : r->fail.detail) == NULL)
		detail = title;
	doc = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title",
	    title, "status", r->fail.status, "detail",
	    utf8_text(r->arena, detail), "request_id", r->id);
	if (doc == NULL)
		abort();
	if (r->fail.fields != NULL) {
		const struct field_error *e;
		json_t *errors = json_array();

		for (e = r->fail.fields; e != NULL; e = e->next)
			json_array_append_new(errors,
			    json_pack("{s:s, s:s, s:s}", "field",
				utf8_text(r->arena, e->field), "code",
				utf8_text(r->arena, e->code), "message",
				utf8_text(r->arena,
				    !vi			      ? e->message :
					e->message_vi != NULL ? e->message_vi :
								title)));
		json_object_set_new(doc, "errors", errors);
	}
	n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
	out = arena_alloc(r->arena, n + 1);
	json_dumpb(doc, out, n, JSON_COMPACT);
	out[n] = '\0';
	json_decref(doc);
	*len = n;
	return out;
}
