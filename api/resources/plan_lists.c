/*
 * The two lists a plan carries, legal_bases and recipients: arrays of
 * objects of string fields, checked entry by entry so that each problem
 * names its place in the body.
 */
#include <string.h>

#include "resources/resources.h"

static const char *const basis_keys[] = { "code", "title", "date", "issuer",
	"note", NULL };
static const char *const recipient_keys[] = { "name", "name", "unit_id", "note",
	NULL };

/* Checks the entries of legal_bases and recipients: objects of strings. */
static int
check_list(struct req *r, json_t *obj, const char *name, const char *prefix,
    const char *const *keys)
{
	json_t *entries = json_object_get(obj, name), *e, *v;
	const char *k;
	size_t i, j;
	int bad = 0;

	json_array_foreach(entries, i, e) {
		if (!json_is_object(e)) {
			req_field_error(r,
			    arena_printf(r->arena, "%s%s[%zu]", prefix, name, i),
			    "type", "an entry must be an object");
			bad++;
			continue;
		}
		json_object_foreach(e, k, v) {
			for (j = 0; keys[j] != NULL && strcmp(keys[j], k) != 0;
			     j++)
				;
			if (keys[j] == NULL ||
			    !(json_is_string(v) || json_is_null(v)) ||
			    (json_is_string(v) &&
				json_string_length(v) > 2000) ||
			    (strcmp(k, "unit_id") == 0 && json_is_string(v) &&
				!is_uuid(json_string_value(v)))) {
				req_field_error(r,
				    arena_printf(r->arena, "%s%s[%zu].%s",
					prefix, name, i, k),
				    "invalid",
				    "%s entries have the string fields %s",
				    name,
				    keys == basis_keys ?
					"code, date, issuer, title "
					"and note" :
					"unit_id, name and note");
				bad++;
			}
		}
		/* A basis needs its number or its title; a recipient, a name. */
		if (!json_is_string(json_object_get(e, keys[1])) &&
		    !json_is_string(json_object_get(e, keys[0]))) {
			req_field_error(r,
			    arena_printf(r->arena, "%s%s[%zu].%s", prefix, name,
				i, keys[1]),
			    "required", "%s is required", keys[1]);
			bad++;
		}
	}
	return bad;
}

int
plan_bases_check(struct req *r, json_t *obj, const char *prefix)
{
	return check_list(r, obj, "legal_bases", prefix, basis_keys);
}

int
plan_recipients_check(struct req *r, json_t *obj, const char *prefix)
{
	return check_list(r, obj, "recipients", prefix, recipient_keys);
}
