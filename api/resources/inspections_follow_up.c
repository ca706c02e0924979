/*
 * The follow-up view of inspections: per responsible unit, the open and
 * responded recommendations the caller sees and those overdue, and the visits
 * planned for the next 30 days. Read-only; the days are Asia/Ho_Chi_Minh's.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
static const char follow_up[] =
    "WITH rec AS (SELECT r.*, u.name AS unit_name FROM recommendations r"
    "  JOIN units u ON u.id = r.responsible_unit_id WHERE r.status <> 'resolved'"
    "  AND recommendation_visible(r.id, $1, $2))"
    "SELECT json_build_object('as_of', today_vn(),"
    " 'units', coalesce((SELECT json_agg(x ORDER BY x.unit_name COLLATE \"C\","
    "  x.unit_id) FROM (SELECT rec.responsible_unit_id AS unit_id, unit_name,"
    "  count(*) FILTER (WHERE status = 'open') AS open,"
    "  count(*) FILTER (WHERE status = 'responded') AS responded,"
    "  count(*) FILTER (WHERE due_on < today_vn()) AS overdue,"
    "  coalesce(json_agg(json_build_object('id', id, 'inspection_id',"
    "   inspection_id, 'text', text, 'due_on', due_on, 'status', status)"
    "   ORDER BY due_on, id) FILTER (WHERE due_on < today_vn()), '[]')"
    "   AS overdue_recommendations"
    "  FROM rec GROUP BY 1, 2) x), '[]'),"
    " 'upcoming', coalesce((SELECT json_agg(" INSPECTION_JSON("i")
    "  ORDER BY i.scheduled_on, i.id) FROM inspections i"
    "  WHERE i.status = 'planned' AND i.scheduled_on BETWEEN today_vn()"
    "  AND today_vn() + 30 AND inspection_visible(i.id, $1, $2)), '[]'))";
/* clang-format on */

const struct db_stmt inspections_follow_up_stmts[] = {
	{ "inspections_follow_up", follow_up },
	{ NULL, NULL },
};

int
inspections_follow_up(struct req *r)
{
	const char *params[2] = { r->principal->unit_id, r->principal->id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "inspections_follow_up", 2,
		 params)) == NULL)
		return -1;
	return req_reply(r, 200, "application/json", db_get(res, 0, 0),
	    strlen(db_get(res, 0, 0)));
}
