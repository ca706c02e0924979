/*
 * Whole-plan import: a plan with its milestones, tasks and assignments as
 * one JSON document, created in one transaction — or nothing, with every
 * problem found. ?dry_run=true does everything, database included, and
 * rolls it back. The demo plan is loaded through this same path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
static const char unit_ok[] =
    "SELECT 1 FROM units u, units i WHERE i.id = $1 AND u.id = $2"
    " AND u.path <@ i.path AND u.active";
/* clang-format on */

const struct db_stmt import_stmts[] = {
	{ "import_unit_ok", unit_ok },
	{ NULL, NULL },
};

#define MAX_ITEMS 500

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

/* Checks a unit reference against the issuing unit; counts a problem. */
static int
check_unit(struct req *r, const char *issuing, const char *unit,
    const char *field)
{
	const char *params[2] = { issuing, unit };
	struct dbres *res;

	if (unit == NULL || !is_uuid(unit)) /* a malformed id is reported */
		return 0;
	if ((res = db_exec(r->arena, &r->fail, "import_unit_ok", 2, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0) {
		req_field_error(r, field, "unknown",
		    "%s is not an active unit "
		    "of the issuing unit or below it",
		    field);
		return 1;
	}
	return 0;
}

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

/* Every unit the document names must be in the issuing unit's subtree. */
static int
check_units(struct req *r, struct doc *d)
{
	const char *issuing = plan_issuing_unit(d->pv);
	json_t *t, *a, *e;
	size_t i, j, k;
	int bad = 0, rc;

	for (i = 0; i < json_array_size(d->milestones); i++) {
		if (d->mv[i] == NULL)
			continue;
		rc = check_unit(r, issuing, milestone_receiving_unit(d->mv[i]),
		    arena_printf(r->arena, "milestones[%zu].receiving_unit_id",
			i));
		if (rc == -1)
			return -1;
		bad += rc;
		json_array_foreach(milestone_owing_units(d->mv[i]), k, e) {
			rc = check_unit(r, issuing, json_string_value(e),
			    arena_printf(r->arena,
				"milestones[%zu].owing.unit_ids[%zu]", i, k));
			if (rc == -1)
				return -1;
			bad += rc;
		}
	}
	json_array_foreach(d->tasks, i, t) {
		if (d->av[i] == NULL)
			continue;
		json_array_foreach(json_object_get(t, "assignments"), j, a) {
			if (d->av[i][j] == NULL)
				continue;
			rc = check_unit(r, issuing,
			    assignment_unit(d->av[i][j]),
			    arena_printf(r->arena,
				"tasks[%zu].assignments[%zu].unit_id", i, j));
			if (rc == -1)
				return -1;
			bad += rc;
		}
	}
	return bad;
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
