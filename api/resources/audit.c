/*
 * The audit trail, read-only: who did what to which entity, newest first,
 * limited to events about the caller's unit subtree.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
static const char list[] =
    "SELECT json_build_object('id', e.id::text, 'at', e.at,"
    " 'actor_id', e.actor_id, 'actor_kind', e.actor_kind, 'action', e.action,"
    " 'entity_type', e.entity_type, 'entity_id', e.entity_id,"
    " 'before', e.before, 'after', e.after, 'request_id', e.request_id),"
    " encode(convert_to(e.id::text, 'UTF8'), 'hex')"
    " FROM audit_events e"
    " WHERE e.unit_path <@ " SCOPE
    " AND ($2::text IS NULL OR e.entity_type = $2)"
    " AND ($3::uuid IS NULL OR e.entity_id = $3)"
    " AND ($4::uuid IS NULL OR e.actor_id = $4)"
    " AND ($5::timestamptz IS NULL OR e.at >= $5)"
    " AND ($6::timestamptz IS NULL OR e.at < $6)"
    " AND ($7::text IS NULL OR e.id < convert_from(decode($7, 'hex'),"
    "  'UTF8')::bigint)"
    " ORDER BY e.id DESC LIMIT $8";
/* clang-format on */

const struct db_stmt audit_stmts[] = {
	{ "audit_list", list },
	{ NULL, NULL },
};

static const struct field filters[] = {
	{ "entity_type", F_CODE, 0, 0, 0, 1, 64, NULL },
	{ "entity_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "actor_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "since", F_TIME, 0, 0, 0, 0, 0, NULL },
	{ "until", F_TIME, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
audit_list(struct req *r)
{
	return reply_list(r, "audit_list", filters);
}
