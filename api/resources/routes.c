/*
 * The route table: one row per operation of openapi/openapi.yaml, which a
 * contract test holds it to. Permission 0 means public; body_max 0 means the
 * operation takes no request body.
 */
#include "resources/resources.h"

const struct route routes[] = {
	{ M_GET, "/healthz", meta_healthz, 0, 0 },
	{ M_GET, "/readyz", meta_readyz, 0, 0 },
	{ M_GET, "/metrics", meta_metrics, 0, 0 },
	{ M_GET, "/openapi.json", meta_openapi, 0, 0 },
	{ M_GET, "/docs", meta_docs, 0, 0 },
	{ M_GET, "/docs/redoc.standalone.js", meta_docs_asset, 0, 0 },
};
const size_t nroutes = nitems(routes);

const struct db_stmt *const statements[] = {
	meta_stmts,
	NULL,
};
