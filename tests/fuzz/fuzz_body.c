/*
 * A JSON request body through the parser and its caps (body.c), then
 * against a field table that holds every field type and attribute
 * (validate.c), as a create and as a PATCH; the failure it records is
 * rendered as the problem document the client would get.
 */
#include <string.h>

#include "fuzz.h"
#include "resources/resources.h"

static const char *const kinds[] = { "village", "commune", "ward", NULL };

static const struct field fields[] = {
	{ "name", F_STRING, 1, 0, 0, 1, 40, NULL },
	{ "code", F_CODE, 1, 0, 1, 1, 16, NULL },
	{ "kind", F_ENUM, 1, 0, 0, 0, 0, kinds },
	{ "year", F_INT, 0, 0, 0, 2000, 2100, NULL },
	{ "score", F_INT, 0, 1, 0, -1000, 1000, NULL },
	{ "active", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "due_on", F_DATE, 0, 1, 0, 0, 0, NULL },
	{ "parent_id", F_UUID, 0, 1, 1, 0, 0, NULL },
	{ "at", F_TIME, 0, 1, 0, 0, 0, NULL },
	{ "tags", F_ARRAY, 0, 0, 0, 0, 4, NULL },
	{ "data", F_JSON, 0, 1, 0, 0, 0, NULL },
	{ "note", F_STRING, 0, 1, 0, 0, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* What validate() passed on must be what the field's type promises. */
static void
check_out(const char **out)
{
	size_t i;

	for (i = 0; fields[i].name != NULL; i++) {
		if (out[i] == NULL)
			continue;
		FUZZ_ASSERT(fuzz_utf8(out[i]));
		switch (fields[i].type) {
		case F_UUID:
			FUZZ_ASSERT(is_uuid(out[i]));
			break;
		case F_DATE:
			FUZZ_ASSERT(is_date(out[i]));
			break;
		case F_STRING:
		case F_CODE:
			FUZZ_ASSERT(utf8_chars(out[i]) <= (size_t)fields[i].max);
			break;
		default:
			break;
		}
	}
}

static void
render(struct req *r)
{
	json_t *doc;
	size_t len;
	char *s;

	if (r->fail.status == 0)
		return;
	s = problem_render(r, &len);
	FUZZ_ASSERT(strlen(s) == len);
	doc = json_loadb(s, len, 0, NULL);
	FUZZ_ASSERT(json_is_object(doc));
	FUZZ_ASSERT(json_integer_value(json_object_get(doc, "status")) ==
	    r->fail.status);
	json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *out[nitems(fields)];
	struct req *r = fuzz_req();
	int patch;

	r->body = arena_strndup(r->arena, (const char *)data, size);
	r->body_len = size;
	if (body_parse_json(r) == 0) {
		if (json_is_object(r->json)) {
			for (patch = 0; patch <= 1; patch++) {
				req_clear_failure(r);
				if (validate(r, r->json, fields, out, patch) ==
				    0) {
					FUZZ_ASSERT(r->fail.status == 0);
					check_out(out);
				} else
					FUZZ_ASSERT(r->fail.status == 422);
				render(r);
			}
		} else
			FUZZ_ASSERT(req_body_object(r) == NULL &&
			    r->fail.status == 400);
	} else
		FUZZ_ASSERT(r->fail.status == 400 && r->json == NULL);
	render(r);
	fuzz_req_free(r);
	return 0;
}
