/*
 * JSON request bodies: parsed with jansson (duplicate keys, bad UTF-8, NUL
 * escapes and trailing garbage are refused there), then held to the depth and
 * string-length caps, which jansson does not enforce at useful values.
 */
#include <string.h>

#include "http/http.h"

/* Returns 0, or -1 after recording why v breaks a cap. */
static int
check(struct req *r, json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > cfg.max_json_depth)
		return req_fail(r, 400, "json_too_deep",
		    "JSON nesting is deeper than %d levels",
		    cfg.max_json_depth);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, key, child) {
			if (strlen(key) > cfg.max_string_bytes)
				return req_fail(r, 400, "json_string_too_long",
				    "a JSON key is longer than %zu bytes",
				    cfg.max_string_bytes);
			if (check(r, child, depth + 1) == -1)
				return -1;
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, child)
			if (check(r, child, depth + 1) == -1)
				return -1;
		break;
	case JSON_STRING:
		if (json_string_length(v) > cfg.max_string_bytes)
			return req_fail(r, 400, "json_string_too_long",
			    "a JSON string is longer than %zu bytes",
			    cfg.max_string_bytes);
		break;
	default:
		break;
	}
	return 0;
}

int
body_parse_json(struct req *r)
{
	json_error_t err;
	json_t *v;

	v = json_loadb(r->body, r->body_len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (v == NULL) {
		if (json_error_code(&err) == json_error_stack_overflow)
			return req_fail(r, 400, "json_too_deep",
			    "JSON nesting is deeper than %d levels",
			    cfg.max_json_depth);
		return req_fail(r, 400, "malformed_json",
		    "the body is not valid JSON: %s (line %d, column %d, "
		    "position %d)",
		    err.text, err.line, err.column, err.position);
	}
	req_own(r, v);
	if (check(r, v, 1) == -1)
		return -1;
	r->json = v;
	return 0;
}
