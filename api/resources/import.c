/*
 * Whole-plan import: a plan with its milestones, tasks and assignments as
 * one JSON document, created in one transaction — or nothing, with every
 * problem found. ?dry_run=true does everything, database included, and
 * rolls it back. The demo plan is loaded through this same path. The work
 * is bounded before any is done: at most MAX_ASSIGNMENTS once the groups
 * are expanded, and every unit reference checked in one statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* Of the unit ids in $2 (a JSON array), those that are active units of
 * the issuing unit's ($1) subtree, as they were written. */
/* clang-format off */
static const char units_ok[] =
    "SELECT coalesce(json_agg(x), '[]')"
    " FROM jsonb_array_elements_text($2::jsonb) x WHERE EXISTS (SELECT 1"
    "  FROM units u, units i WHERE i.id = $1 AND u.id = x::uuid"
    "  AND u.path <@ i.path AND u.active)";
/* How many units each group named in $3 (a JSON array) stands for, as
 * {group: count}; {} when the issuing unit ($1) is not the caller's ($2;
 * NULL for the system) or below it, so its size is not told. */
static const char group_sizes[] =
    "SELECT coalesce(json_object_agg(g, (SELECT count(*)"
    "  FROM group_units(i.id, g))), '{}')"
    " FROM units i, jsonb_array_elements_text($3::jsonb) g"
    " WHERE i.id = $1 AND ($2::uuid IS NULL OR i.path <@"
    "  (SELECT path FROM units WHERE id = $2))";
/* clang-format on */

const struct db_stmt import_stmts[] = {
	{ "import_units_ok", units_ok },
	{ "import_group_sizes", group_sizes },
	{ NULL, NULL },
};

#define MAX_ITEMS 500
/* Assignments of one import once the groups are expanded: each is a row
 * and an audit event, and each entry a statement, in one transaction. */
#define MAX_ASSIGNMENTS 5000

/* The document, each part checked by the resource that owns its fields. */
struct doc {
	json_t *plan, *milestones, *tasks;
	struct plan_input *pv;	       /* NULL when plan is no object */
	struct milestone_input **mv;   /* per milestone; NULL: no object */
	struct task_input **tv;	       /* per task; NULL: no object */
	struct assignment_input ***av; /* per task, per entry; likewise */
	int dry_run;
	int counts[3];
};

/* Reports task i's number when an earlier task has it; returns 1 then. */
static int
check_number(struct req *r, struct doc *d, size_t i, const char *prefix)
{
	const char *n = task_number(d->tv[i]), *m;
	size_t k;

	for (k = 0; n != NULL && k < i; k++) {
		if (d->tv[k] == NULL || (m = task_number(d->tv[k])) == NULL ||
		    strcmp(m, n) != 0)
			continue;
		req_field_error(r, arena_printf(r->arena, "%snumber", prefix),
		    "duplicate", "task number %s is used twice", n);
		return 1;
	}
	return 0;
}

/* Checks the shape of the whole document; returns the number of problems. */
static int
check_shape(struct req *r, struct doc *d)
{
	json_t *m, *t, *a, *list;
	size_t i, j;
	int bad = 0;

	if (!json_is_object(d->plan)) {
		req_field_error(r, "plan", "required", "plan is an object");
		return 1;
	}
	bad += plan_fields(r, d->plan, 1, "plan.", &d->pv);
	if (d->milestones != NULL &&
	    (!json_is_array(d->milestones) ||
		json_array_size(d->milestones) > 50)) {
		req_field_error(r, "milestones", "type",
		    "milestones is a list of "
		    "at most 50");
		return bad + 1;
	}
	if (d->tasks != NULL &&
	    (!json_is_array(d->tasks) || json_array_size(d->tasks) > 200)) {
		req_field_error(r, "tasks", "type",
		    "tasks is a list of at most "
		    "200");
		return bad + 1;
	}
	d->mv = arena_zalloc(r->arena,
	    sizeof(*d->mv) * (json_array_size(d->milestones) + 1));
	json_array_foreach(d->milestones, i, m) {
		if (!json_is_object(m)) {
			req_field_error(r,
			    arena_printf(r->arena, "milestones[%zu]", i),
			    "type", "an object");
			bad++;
			continue;
		}
		bad += milestone_fields(r, m,
		    arena_printf(r->arena, "milestones[%zu].", i), &d->mv[i]);
	}
	d->tv = arena_zalloc(r->arena,
	    sizeof(*d->tv) * (json_array_size(d->tasks) + 1));
	d->av = arena_zalloc(r->arena,
	    sizeof(*d->av) * (json_array_size(d->tasks) + 1));
	json_array_foreach(d->tasks, i, t) {
		char *prefix = arena_printf(r->arena, "tasks[%zu].", i);
		json_t *copy;

		if (!json_is_object(t)) {
			req_field_error(r,
			    arena_printf(r->arena, "tasks[%zu]", i), "type",
			    "an object");
			bad++;
			continue;
		}
		/* The task's own fields, without its assignments. */
		copy = req_own(r, json_copy(t));
		json_object_del(copy, "assignments");
		bad += task_fields(r, copy, prefix, &d->tv[i]);
		bad += check_number(r, d, i, prefix);
		list = json_object_get(t, "assignments");
		if (list != NULL &&
		    (!json_is_array(list) ||
			json_array_size(list) > MAX_ITEMS)) {
			req_field_error(r,
			    arena_printf(r->arena, "%sassignments", prefix),
			    "type", "a list");
			bad++;
			continue;
		}
		d->av[i] = arena_zalloc(r->arena,
		    sizeof(*d->av[i]) * (json_array_size(list) + 1));
		json_array_foreach(list, j, a) {
			if (!json_is_object(a)) {
				req_field_error(r,
				    arena_printf(r->arena, "%sassignments[%zu]",
					prefix, j),
				    "type", "an object");
				bad++;
				continue;
			}
			bad += assignment_fields(r, a,
			    arena_printf(r->arena, "%sassignments[%zu].",
				prefix, j),
			    &d->av[i][j]);
		}
	}
	return bad;
}

/* JSON text of v, in the arena. */
static const char *
dump(struct req *r, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT), *copy;

	if (s == NULL)
		abort();
	copy = arena_strdup(r->arena, s);
	free(s);
	return copy;
}

/* Adds the unit reference at field to refs ([id, field] pairs); a
 * malformed id is reported by the shape check. */
static void
add_ref(json_t *refs, const char *unit, const char *field)
{
	if (unit != NULL && is_uuid(unit))
		json_array_append_new(refs, json_pack("[ss]", unit, field));
}

/* Every unit the document names must be an active unit of the issuing
 * unit's subtree, asked in one statement; returns the number of problems
 * (each a field error), or -1 after a failure. */
static int
check_units(struct req *r, struct doc *d)
{
	json_t *refs = req_own(r, json_array()), *ids, *ok, *known, *t, *a, *e;
	const char *params[2];
	struct dbres *res;
	size_t i, j, k;
	int bad = 0;

	for (i = 0; i < json_array_size(d->milestones); i++) {
		if (d->mv[i] == NULL)
			continue;
		add_ref(refs, milestone_receiving_unit(d->mv[i]),
		    arena_printf(r->arena, "milestones[%zu].receiving_unit_id",
			i));
		json_array_foreach(milestone_owing_units(d->mv[i]), k, e)
			add_ref(refs, json_string_value(e),
			    arena_printf(r->arena,
				"milestones[%zu].owing.unit_ids[%zu]", i, k));
	}
	json_array_foreach(d->tasks, i, t) {
		if (d->av[i] == NULL)
			continue;
		json_array_foreach(json_object_get(t, "assignments"), j, a)
			if (d->av[i][j] != NULL)
				add_ref(refs, assignment_unit(d->av[i][j]),
				    arena_printf(r->arena,
					"tasks[%zu].assignments[%zu].unit_id",
					i, j));
	}
	if (json_array_size(refs) == 0)
		return 0;
	ids = req_own(r, json_array());
	json_array_foreach(refs, i, e)
		json_array_append(ids, json_array_get(e, 0));
	params[0] = plan_issuing_unit(d->pv);
	params[1] = dump(r, ids);
	if ((res = db_exec(r->arena, &r->fail, "import_units_ok", 2, params)) ==
	    NULL)
		return -1;
	ok = req_own(r, json_loads(db_get(res, 0, 0), 0, NULL));
	known = req_own(r, json_object());
	json_array_foreach(ok, i, e)
		json_object_set(known, json_string_value(e), json_true());
	json_array_foreach(refs, i, e) {
		const char *field = json_string_value(json_array_get(e, 1));

		if (json_object_get(known,
			json_string_value(json_array_get(e, 0))) != NULL)
			continue;
		req_field_error(r, field, "unknown",
		    "%s is not an active unit of the issuing unit or below it",
		    field);
		bad++;
	}
	return bad;
}

/* 413 when the document stands for more than MAX_ASSIGNMENTS assignments
 * once its groups are expanded (an entry counts at least once: each is a
 * statement), counted before anything is written; 0 when it fits. Reads
 * the raw document, so it holds before the shape is known to be right. */
static int
check_size(struct req *r, struct doc *d)
{
	const struct principal *pr = r->principal;
	json_t *groups = req_own(r, json_object()), *names, *sizes = NULL;
	json_t *t, *a, *v;
	const char *params[3], *g, *key;
	struct dbres *res;
	long total = 0, n;
	size_t i, j;

	json_array_foreach(d->tasks, i, t)
		json_array_foreach(json_object_get(t, "assignments"), j, a)
			if ((g = json_string_value(
				 json_object_get(a, "group"))) != NULL)
				json_object_set(groups, g, json_true());
	params[0] = d->pv != NULL ? plan_issuing_unit(d->pv) : NULL;
	if (json_object_size(groups) > 0 && params[0] != NULL) {
		names = req_own(r, json_array());
		json_object_foreach(groups, key, v)
			json_array_append_new(names, json_string(key));
		params[1] = pr != NULL ? pr->unit_id : NULL;
		params[2] = dump(r, names);
		if ((res = db_exec(r->arena, &r->fail, "import_group_sizes", 3,
			 params)) == NULL)
			return -1;
		sizes = req_own(r, json_loads(db_get(res, 0, 0), 0, NULL));
	}
	json_array_foreach(d->tasks, i, t)
		json_array_foreach(json_object_get(t, "assignments"), j, a) {
			g = json_string_value(json_object_get(a, "group"));
			n = 1;
			if (g != NULL)
				n = (long)json_integer_value(
				    json_object_get(sizes, g));
			total += n > 0 ? n : 1;
		}
	if (total > MAX_ASSIGNMENTS)
		return req_fail(r, 413, "import_too_large",
		    "the document stands for %ld assignments once its groups "
		    "are expanded (%zu tasks); an import takes at most %d",
		    total, json_array_size(d->tasks), MAX_ASSIGNMENTS);
	return 0;
}

static int
import_tx(struct req *r, void *arg)
{
	struct doc *d = arg;
	struct plan_state st;
	const char *plan, *task;
	size_t i, j;
	int bad, n;

	if ((bad = check_units(r, d)) == -1)
		return -1;
	if (bad > 0)
		return req_fail(r, 422, "invalid_document",
		    "%d unit references are outside the issuing unit", bad);
	if ((plan = plan_insert(r, d->pv, "plan.", &st)) == NULL)
		return -1;
	for (i = 0; i < json_array_size(d->milestones); i++) {
		if (milestone_insert(r, &st, d->mv[i],
			arena_printf(r->arena, "milestones[%zu].", i)) == NULL)
			return -1;
		d->counts[0]++;
	}
	for (i = 0; i < json_array_size(d->tasks); i++) {
		json_t *list = json_object_get(json_array_get(d->tasks, i),
		    "assignments");

		if ((task = task_insert(r, st.id, d->tv[i])) == NULL)
			return -1;
		d->counts[1]++;
		for (j = 0; j < json_array_size(list); j++) {
			if ((n = assignment_insert(r, &st, task, d->av[i][j],
				 arena_printf(r->arena,
				     "tasks[%zu].assignments[%zu].", i, j))) ==
			    -1)
				return -1;
			d->counts[2] += n;
		}
	}
	req_reply_json(r, d->dry_run ? 200 : 201,
	    json_pack("{s:o, s:{s:i, "
		      "s:i, s:i}, s:b}",
		"plan", json_loads(plan, 0, NULL), "counts", "milestones",
		d->counts[0], "tasks", d->counts[1], "assignments",
		d->counts[2], "dry_run", d->dry_run));
	/* A dry run undoes what it wrote, nothing failed: the reply stays. */
	if (d->dry_run)
		return DB_ROLLBACK;
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/plans/%s", st.id));
	return 0;
}

int
import_document(struct req *r, json_t *body, int dry_run)
{
	static const char *const keys[] = { "plan", "milestones", "tasks",
		NULL };
	struct doc d = { 0 };
	const char *key;
	json_t *v;
	size_t i;
	int bad = 0, n;

	json_object_foreach(body, key, v) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], key) != 0; i++)
			;
		if (keys[i] == NULL) {
			req_field_error(r, key, "unknown",
			    "%s is not part of a "
			    "plan document",
			    key);
			bad++;
		}
	}
	d.plan = json_object_get(body, "plan");
	d.milestones = json_object_get(body, "milestones");
	d.tasks = json_object_get(body, "tasks");
	d.dry_run = dry_run;
	bad += check_shape(r, &d);
	if (check_size(r, &d) == -1)
		return -1;
	/* Unit references are checked too, so one answer lists everything. */
	if (bad > 0 && d.pv != NULL && plan_issuing_unit(d.pv) != NULL &&
	    d.mv != NULL && (n = check_units(r, &d)) > 0)
		bad += n;
	if (bad > 0)
		return req_fail(r, 422, "invalid_document",
		    "the plan document has %d problems", bad);
	return run_tx(r, import_tx, &d);
}

int
plans_import(struct req *r)
{
	const char *dry = req_query(r, "dry_run");
	json_t *body;

	if (dry != NULL && strcmp(dry, "true") != 0 &&
	    strcmp(dry, "false") != 0) {
		req_field_error(r, "dry_run", "type",
		    "dry_run is true or false");
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	}
	if ((body = req_body_object(r)) == NULL)
		return -1;
	return import_document(r, body, dry != NULL && strcmp(dry, "true") == 0);
}
