/*
 * An inspection's team and scope: the users who visit (one lead; members
 * from the plan's reach, never from the inspected unit) and the tasks of the
 * plan the visit looks at. inspections.c checks and stores them through
 * here when a visit is created or changed.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* The first team entry (1-based) that names no active user of the reach
 * outside the inspected unit, and the first task not of the plan; 0 when
 * all are good. */
/* clang-format off */
static const char check_refs[] =
    "SELECT coalesce((SELECT min(o) FROM jsonb_array_elements($3::jsonb)"
    "  WITH ORDINALITY t(e, o) WHERE NOT EXISTS (SELECT 1 FROM users u"
    "  JOIN units x ON x.id = u.unit_id WHERE u.id = (e->>'user_id')::uuid"
    "  AND u.active AND x.path <@ $1::ltree AND NOT x.path <@ $2::ltree)), 0),"
    " coalesce((SELECT min(o) FROM jsonb_array_elements_text($4::jsonb)"
    "  WITH ORDINALITY t(e, o) WHERE NOT EXISTS (SELECT 1 FROM tasks k"
    "  WHERE k.id = e::uuid AND k.plan_id = $5)), 0)";
/* Replaces the team ($2) and, when $3 is not null, the scope. Each insert
 * reads its delete, which so runs first: the parts of a statement run in
 * no set order, and a member or task that stays would otherwise meet its
 * old row (the lead too, by the one-lead index). */
static const char set_team[] =
    "WITH d AS (DELETE FROM inspection_members WHERE inspection_id = $1"
    "  AND $2::jsonb IS NOT NULL RETURNING 1),"
    " m AS (INSERT INTO inspection_members (inspection_id, user_id, role)"
    "  SELECT $1, (e->>'user_id')::uuid, e->>'role'"
    "  FROM jsonb_array_elements($2::jsonb) e"
    "  WHERE (SELECT count(*) FROM d) >= 0),"
    " dt AS (DELETE FROM inspection_tasks WHERE inspection_id = $1"
    "  AND $3::jsonb IS NOT NULL RETURNING 1)"
    "INSERT INTO inspection_tasks (inspection_id, task_id)"
    " SELECT $1, e::uuid FROM jsonb_array_elements_text($3::jsonb) e"
    " WHERE (SELECT count(*) FROM dt) >= 0";
/* clang-format on */

const struct db_stmt inspection_teams_stmts[] = {
	{ "inspection_teams_check_refs", check_refs },
	{ "inspection_teams_set", set_team },
	{ NULL, NULL },
};

static const struct field member[] = {
	{ "user_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	{ "role", F_ENUM, 1, 0, 0, 0, 0, inspection_team_roles },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
inspection_team_check(struct req *r, json_t *team, json_t *tasks)
{
	const char *mv[2];
	json_t *e, *f;
	size_t i, j;
	int bad = 0, leads = 0;

	json_array_foreach(team, i, e) {
		const char *at = arena_printf(r->arena, "team[%zu].", i);

		if (!json_is_object(e)) {
			req_field_error(r,
			    arena_printf(r->arena, "team[%zu]", i), "type",
			    "each team entry is an object");
			bad++;
			continue;
		}
		if (validate_at(r, e, member, mv, 0, at) > 0) {
			bad++;
			continue;
		}
		leads += strcmp(mv[1], "lead") == 0;
		for (j = 0; j < i; j++) {
			f = json_object_get(json_array_get(team, j), "user_id");
			if (json_is_string(f) &&
			    strcmp(json_string_value(f), mv[0]) == 0) {
				req_field_error(r,
				    arena_printf(r->arena, "%suser_id", at),
				    "duplicate",
				    "a user is on "
				    "the team once");
				bad++;
			}
		}
	}
	if (json_is_array(team) && bad == 0 && leads != 1) {
		req_field_error(r, "team", "lead",
		    "the team has exactly one "
		    "lead");
		bad++;
	}
	json_array_foreach(tasks, i, e) {
		if (!json_is_string(e) || !is_uuid(json_string_value(e))) {
			req_field_error(r,
			    arena_printf(r->arena, "task_ids[%zu]", i),
			    "format", "each task id is a UUID");
			bad++;
		}
	}
	return bad;
}

int
inspection_team_store(struct req *r, const char *id, const char *reach,
    const char *target_path, const char *plan_id, const char *team,
    const char *tasks)
{
	const char *params[5] = { reach, target_path, team ? team : "[]",
		tasks ? tasks : "[]", plan_id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "inspection_teams_check_refs", 5,
		 params)) == NULL)
		return -1;
	if (atoi(db_get(res, 0, 0)) > 0)
		return fail_reference(r,
		    arena_printf(r->arena, "team[%d].user_id",
			atoi(db_get(res, 0, 0)) - 1),
		    "the user is not an active user "
		    "of the plan's units outside the inspected unit");
	if (atoi(db_get(res, 0, 1)) > 0)
		return fail_reference(r,
		    arena_printf(r->arena, "task_ids[%d]",
			atoi(db_get(res, 0, 1)) - 1),
		    "the task is not a task of the "
		    "plan");
	params[0] = id;
	params[1] = team;
	params[2] = tasks;
	return db_exec(r->arena, &r->fail, "inspection_teams_set", 3, params) ==
		NULL ?
	    -1 :
	    0;
}
