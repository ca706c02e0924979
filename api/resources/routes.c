/*
 * The route table: one row per operation of openapi/openapi.yaml, which a
 * contract test holds it to. The permission is checked before the handler
 * runs (auth/perm.c says which roles have it); body_max 0 means the operation
 * takes no request body.
 */
#include "resources/resources.h"

#define KB 1024

const struct route routes[] = {
	{ M_GET, "/healthz", meta_healthz, PERM_PUBLIC, 0, 0 },
	{ M_GET, "/readyz", meta_readyz, PERM_PUBLIC, 0, 0 },
	{ M_GET, "/metrics", meta_metrics, PERM_PUBLIC, 0, 0 },
	{ M_GET, "/openapi.json", meta_openapi, PERM_PUBLIC, 0, 0 },
	{ M_GET, "/docs", meta_docs, PERM_PUBLIC, 0, 0 },
	{ M_GET, "/docs/redoc.standalone.js", meta_docs_asset, PERM_PUBLIC, 0,
	    0 },

	{ M_POST, "/api/v1/auth/token", auth_token, PERM_PUBLIC, 4 * KB,
	    ROUTE_OFFLOAD | ROUTE_NO_IDEMPOTENCY },
	{ M_POST, "/api/v1/auth/refresh", auth_refresh, PERM_PUBLIC, 4 * KB,
	    ROUTE_NO_IDEMPOTENCY },
	{ M_POST, "/api/v1/auth/revoke", auth_revoke, PERM_PUBLIC, 4 * KB,
	    ROUTE_NO_IDEMPOTENCY },
	{ M_GET, "/api/v1/me", me_get, PERM_USER_SELF, 0, 0 },

	{ M_GET, "/api/v1/units", units_list, PERM_UNIT_READ, 0, 0 },
	{ M_POST, "/api/v1/units", units_create, PERM_UNIT_WRITE, 16 * KB, 0 },
	{ M_GET, "/api/v1/units/{id:uuid}", units_get, PERM_UNIT_READ, 0, 0 },
	{ M_PATCH, "/api/v1/units/{id:uuid}", units_update, PERM_UNIT_WRITE,
	    16 * KB, 0 },
	{ M_DELETE, "/api/v1/units/{id:uuid}", units_delete, PERM_UNIT_WRITE,
	    0, 0 },

	{ M_GET, "/api/v1/users", users_list, PERM_USER_READ, 0, 0 },
	{ M_POST, "/api/v1/users", users_create, PERM_USER_WRITE, 16 * KB,
	    ROUTE_OFFLOAD },
	{ M_GET, "/api/v1/users/{id:uuid}", users_get, PERM_USER_READ, 0, 0 },
	{ M_PATCH, "/api/v1/users/{id:uuid}", users_update, PERM_USER_WRITE,
	    16 * KB, ROUTE_OFFLOAD },

	{ M_GET, "/api/v1/service-accounts", service_accounts_list,
	    PERM_SERVICE_ADMIN, 0, 0 },
	/* A replay would store the new key: a lost answer means a new key. */
	{ M_POST, "/api/v1/service-accounts", service_accounts_create,
	    PERM_SERVICE_ADMIN, 4 * KB, ROUTE_NO_IDEMPOTENCY },
	{ M_DELETE, "/api/v1/service-accounts/{id:uuid}",
	    service_accounts_revoke, PERM_SERVICE_ADMIN, 0, 0 },

	{ M_GET, "/api/v1/audit", audit_list, PERM_AUDIT_READ, 0, 0 },

	{ M_GET, "/api/v1/plans", plans_list, PERM_PLAN_READ, 0, 0 },
	{ M_POST, "/api/v1/plans", plans_create, PERM_PLAN_WRITE, 256 * KB, 0 },
	{ M_POST, "/api/v1/plans/import", plans_import, PERM_PLAN_WRITE,
	    1024 * KB, 0 },
	{ M_GET, "/api/v1/plans/{id:uuid}", plans_get, PERM_PLAN_READ, 0, 0 },
	{ M_PATCH, "/api/v1/plans/{id:uuid}", plans_update, PERM_PLAN_WRITE,
	    256 * KB, 0 },
	{ M_POST, "/api/v1/plans/{id:uuid}/issue", plans_issue, PERM_PLAN_WRITE,
	    4 * KB, 0 },
	{ M_POST, "/api/v1/plans/{id:uuid}/close", plans_close, PERM_PLAN_WRITE,
	    4 * KB, 0 },
	{ M_GET, "/api/v1/plans/{id:uuid}/versions", plans_versions,
	    PERM_PLAN_READ, 0, 0 },
	{ M_GET, "/api/v1/plans/{id:uuid}/milestones", milestones_list,
	    PERM_PLAN_READ, 0, 0 },
	{ M_POST, "/api/v1/plans/{id:uuid}/milestones", milestones_create,
	    PERM_PLAN_WRITE, 64 * KB, 0 },
	{ M_GET, "/api/v1/milestones/{id:uuid}", milestones_get, PERM_PLAN_READ,
	    0, 0 },
	{ M_PATCH, "/api/v1/milestones/{id:uuid}", milestones_update,
	    PERM_PLAN_WRITE, 64 * KB, 0 },
	{ M_GET, "/api/v1/plans/{id:uuid}/tasks", tasks_list, PERM_PLAN_READ, 0,
	    0 },
	{ M_POST, "/api/v1/plans/{id:uuid}/tasks", tasks_create, PERM_PLAN_WRITE,
	    64 * KB, 0 },
	{ M_GET, "/api/v1/tasks/{id:uuid}", tasks_get, PERM_PLAN_READ, 0, 0 },
	{ M_PATCH, "/api/v1/tasks/{id:uuid}", tasks_update, PERM_PLAN_WRITE,
	    64 * KB, 0 },
	{ M_GET, "/api/v1/tasks/{id:uuid}/assignments", assignments_for_task,
	    PERM_PLAN_READ, 0, 0 },
	{ M_POST, "/api/v1/tasks/{id:uuid}/assignments", assignments_create,
	    PERM_PLAN_WRITE, 16 * KB, 0 },
	{ M_GET, "/api/v1/assignments", assignments_list, PERM_PLAN_READ, 0, 0 },
	{ M_GET, "/api/v1/assignments/{id:uuid}", assignments_get,
	    PERM_PLAN_READ, 0, 0 },
	{ M_PATCH, "/api/v1/assignments/{id:uuid}", assignments_update,
	    PERM_PROGRESS, 16 * KB, 0 },
};
const size_t nroutes = nitems(routes);

const struct db_stmt *const statements[] = {
	meta_stmts,
	common_stmts,
	auth_stmts,
	session_stmts,
	units_stmts,
	users_stmts,
	service_accounts_stmts,
	audit_stmts,
	seed_stmts,
	plans_stmts,
	tasks_stmts,
	milestones_stmts,
	assignments_stmts,
	import_stmts,
	NULL,
};
