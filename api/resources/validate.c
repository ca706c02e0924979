/*
 * Validation declared as data: a JSON body against a table of fields, query
 * parameters against the same kind of table, page cursors and limits, and the
 * checks they are built from (UUIDs, calendar dates, UTF-8 lengths). Each
 * problem becomes a field error of the request's failure record.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

int
is_uuid(const char *s)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return s[36] == '\0';
}

/* True when s starts with YYYY-MM-DD. */
static int
is_date_prefix(const char *s)
{
	int i;

	for (i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' :
					 !isdigit((unsigned char)s[i]))
			return 0;
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);

	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	/* 29 February only in leap years. */
	return !(m == 2 && d == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

int
is_date(const char *s)
{
	return strlen(s) == 10 && is_date_prefix(s);
}

static int
in_list(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Checks one value; returns its text form or NULL after a field error. */
static const char *
field_value(struct req *r, const struct field *f, const char *name, json_t *v)
{
	const char *s;

	switch (f->type) {
	case F_BOOL:
		if (json_is_boolean(v))
			return json_is_true(v) ? "true" : "false";
		req_field_error(r, name, "type", "%s must be true or false",
		    f->name);
		return NULL;
	case F_INT:
		if (json_is_integer(v) && json_integer_value(v) >= f->min &&
		    json_integer_value(v) <= f->max)
			return arena_printf(r->arena, "%lld",
			    (long long)json_integer_value(v));
		req_field_error(r, name, json_is_integer(v) ? "range" : "type",
		    "%s must be a whole number from %lld to %lld", f->name,
		    f->min, f->max);
		return NULL;
	case F_ARRAY:
		if (!json_is_array(v) || json_array_size(v) > (size_t)f->max) {
			req_field_error(r, name, "type",
			    "%s must be a list of at "
			    "most %lld items",
			    f->name, f->max);
			return NULL;
		}
		/* FALLTHROUGH */
	case F_JSON: {
		char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *c;

		if (d == NULL)
			abort();
		c = arena_strdup(r->arena, d);
		free(d);
		return c;
	}
	default:
		break;
	}
	if (!json_is_string(v)) {
		req_field_error(r, name, "type", "%s must be a string", f->name);
		return NULL;
	}
	s = json_string_value(v);
	switch (f->type) {
	case F_UUID:
		if (is_uuid(s))
			return s;
		req_field_error(r, name, "format", "%s must be a UUID", f->name);
		return NULL;
	case F_TIME:
		if (strlen(s) >= 20 && strlen(s) <= 35 && is_date_prefix(s) &&
		    s[10] == 'T' &&
		    strspn(s + 11, "0123456789:.+-Z") == strlen(s + 11))
			return s;
		req_field_error(r, name, "format",
		    "%s must be an RFC 3339 "
		    "timestamp",
		    f->name);
		return NULL;
	case F_DATE:
		if (is_date(s))
			return s;
		req_field_error(r, name, "format",
		    "%s must be a date as YYYY-MM-DD", f->name);
		return NULL;
	case F_ENUM:
		if (in_list(f->values, s))
			return s;
		req_field_error(r, name, "enum",
		    "%s is not one of the "
		    "allowed values",
		    f->name);
		return NULL;
	default:
		if (utf8_chars(s) < (size_t)f->min ||
		    utf8_chars(s) > (size_t)f->max) {
			req_field_error(r, name, "length",
			    "%s must have %lld to %lld characters", f->name,
			    f->min, f->max);
			return NULL;
		}
		if (f->type == F_CODE) {
			const char *p;

			for (p = s; *p != '\0'; p++)
				if (!(islower((unsigned char)*p) ||
					isdigit((unsigned char)*p) ||
					((*p == '-' || *p == '_' || *p == '.') &&
					    p != s)))
					break;
			if (*p != '\0') {
				req_field_error(r, name, "format",
				    "%s may hold only a-z, 0-9, '-', '_' and "
				    "'.', and starts with a letter or digit",
				    f->name);
				return NULL;
			}
		}
		return s;
	}
}

int
validate_at(struct req *r, json_t *obj, const struct field *fields,
    const char **out, int patch, const char *prefix)
{
	const struct field *f;
	const char *key;
	char *name;
	json_t *v;
	int i, nf = 0, bad = 0, any = 0;

	for (f = fields; f->name != NULL; f++)
		nf++;
	json_object_foreach(obj, key, v) {
		for (i = 0; i < nf && strcmp(fields[i].name, key) != 0; i++)
			;
		if (i == nf || (patch && fields[i].fixed)) {
			req_field_error(r,
			    arena_printf(r->arena, "%s%s", prefix, key),
			    "unknown",
			    i == nf ? "%s is not a field of this resource" :
				      "%s cannot be changed",
			    key);
			bad++;
		}
	}
	for (i = 0; i < nf; i++) {
		f = &fields[i];
		out[i] = NULL;
		name = arena_printf(r->arena, "%s%s", prefix, f->name);
		v = json_object_get(obj, f->name);
		if (v == NULL) {
			if (f->required && !patch) {
				req_field_error(r, name, "required",
				    "%s is required", f->name);
				bad++;
			}
			continue;
		}
		any = 1;
		if (json_is_null(v)) {
			/* PATCH sets values; it does not clear them. */
			if (!f->nullable || patch) {
				req_field_error(r, name, "null",
				    "%s cannot be null", f->name);
				bad++;
			}
			continue;
		}
		if (patch && f->fixed) {
			out[i] = NULL; /* refused above */
			continue;
		}
		if ((out[i] = field_value(r, f, name, v)) == NULL)
			bad++;
	}
	if (patch && !any && bad == 0) {
		req_fail(r, 422, "empty_patch",
		    "the request body changes nothing");
		bad++;
	}
	return bad;
}

int
validate(struct req *r, json_t *obj, const struct field *fields,
    const char **out, int patch)
{
	if (validate_at(r, obj, fields, out, patch, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return 0;
}

int
query_value(struct req *r, const struct field *f, const char *value)
{
	json_t *v;
	char *end;
	long long n;

	if (f->type == F_INT) {
		n = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0' || n < f->min || n > f->max) {
			req_field_error(r, f->name, "range",
			    "%s must be a "
			    "whole number from %lld to %lld",
			    f->name, f->min, f->max);
			return -1;
		}
		return 0;
	}
	if (f->type == F_BOOL) {
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
			req_field_error(r, f->name, "type",
			    "%s must be true or false", f->name);
			return -1;
		}
		return 0;
	}
	if ((v = json_string(value)) == NULL) {
		req_field_error(r, f->name, "encoding", "%s is not valid UTF-8",
		    f->name);
		return -1;
	}
	return field_value(r, f, f->name, req_own(r, v)) == NULL ? -1 : 0;
}

/* A handler reading a parameter its operation's contract does not have:
 * the contract and the code disagree, which the tests must see. */
static int
undeclared(struct req *r, const char *name)
{
	log_error(
	    "%s reads query parameter %s, which the contract does not "
	    "declare",
	    r->route ? r->route->name : "?", name);
	return req_fail(r, 500, "internal", "the request could not be handled");
}

const struct field search_filters[] = {
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
query_params(struct req *r, const struct field *fields, const char **out)
{
	const struct field *f;
	int i, bad = 0;

	for (i = 0, f = fields; f->name != NULL; f++, i++) {
		if (!query_declared(r, f->name))
			return undeclared(r, f->name);
		if ((out[i] = req_query(r, f->name)) == NULL)
			continue;
		if (query_value(r, f, out[i]) == -1) {
			out[i] = NULL;
			bad++;
		}
	}
	if (bad)
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	return 0;
}

int
page_parse(struct req *r, const char *limit, const char *cursor, struct page *pg)
{
	char *end;
	long n;
	size_t i;

	pg->limit = PAGE_DEFAULT;
	pg->cursor = NULL;
	if (limit != NULL) {
		n = strtol(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || n < 1 || n > PAGE_MAX) {
			req_field_error(r, "limit", "range",
			    "limit must be from 1 to %d", PAGE_MAX);
			return req_fail(r, 400, "invalid_query",
			    "a query parameter is invalid");
		}
		pg->limit = (int)n;
	}
	if (cursor != NULL) {
		for (i = 0;
		     cursor[i] != '\0' && isxdigit((unsigned char)cursor[i]);
		     i++)
			;
		if (cursor[i] != '\0' || i == 0 || i % 2 != 0 || i > 512) {
			req_field_error(r, "cursor", "format",
			    "cursor must be a value from next_cursor");
			return req_fail(r, 400, "invalid_query",
			    "a query parameter is invalid");
		}
		pg->cursor = cursor;
	}
	pg->fetch = arena_printf(r->arena, "%d", pg->limit + 1);
	return 0;
}

int
page_params(struct req *r, struct page *pg)
{
	if (!query_declared(r, "limit") || !query_declared(r, "cursor"))
		return undeclared(r, "limit");
	return page_parse(r, req_query(r, "limit"), req_query(r, "cursor"), pg);
}

int
only_reason(struct req *r, json_t *body)
{
	if (json_object_size(body) == 1 &&
	    json_object_get(body, "amendment_reason") != NULL)
		return req_fail(r, 422, "empty_patch",
		    "the request body changes nothing");
	return 0;
}

int
no_fields(struct req *r)
{
	const char *key;
	json_t *val;

	if (r->json == NULL)
		return 0;
	if (req_body_object(r) == NULL)
		return -1;
	json_object_foreach(r->json, key, val)
		req_field_error(r, key, "unknown", "this step takes no fields");
	if (json_object_size(r->json) > 0)
		return req_fail(r, 422, "invalid_body",
		    "this step takes no fields");
	return 0;
}

int
fail_reference(struct req *r, const char *field, const char *fmt, ...)
{
	va_list ap, again;

	/* The same message twice, each formatted (and translated) from fmt. */
	va_start(ap, fmt);
	va_copy(again, ap);
	failure_vfield(&r->fail, r->arena, field, "unknown", fmt, ap);
	failure_vset(&r->fail, r->arena, 422, "invalid_reference", fmt, again);
	va_end(again);
	va_end(ap);
	return -1;
}
