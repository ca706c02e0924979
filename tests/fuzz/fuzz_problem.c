/*
 * The problem renderer (http/problem.c) over any failure a request may
 * record: any status, code, detail and field errors, whose text may carry
 * bytes a client sent. The input: two bytes of status, then NUL-separated
 * code, detail, and field, code, message triples. The answer is always
 * one JSON object that says the status.
 */
#include <string.h>

#include "fuzz.h"

#define MAXF 6

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req *r = fuzz_req();
	char *piece[2 + 3 * MAXF], *s;
	json_t *doc, *errors;
	size_t i, n, len;
	int status;

	if (size < 2)
		goto out;
	status = 400 + (data[0] << 8 | data[1]) % 200;
	n = fuzz_split(r->arena, data + 2, size - 2, piece, nitems(piece));
	for (i = 2; i + 2 < n; i += 3)
		failure_field(&r->fail, r->arena, piece[i], piece[i + 1], "%s",
		    piece[i + 2]);
	failure_set(&r->fail, r->arena, status, piece[0], "%s",
	    n > 1 ? piece[1] : "");
	s = problem_render(r, &len);
	FUZZ_ASSERT(strlen(s) == len);
	doc = json_loadb(s, len, 0, NULL);
	FUZZ_ASSERT(json_is_object(doc));
	FUZZ_ASSERT(
	    json_integer_value(json_object_get(doc, "status")) == status);
	FUZZ_ASSERT(json_is_string(json_object_get(doc, "type")));
	FUZZ_ASSERT(json_is_string(json_object_get(doc, "detail")));
	errors = json_object_get(doc, "errors");
	FUZZ_ASSERT(json_array_size(errors) == (n > 2 ? (n - 2) / 3 : 0));
	json_decref(doc);
out:
	fuzz_req_free(r);
	return 0;
}
