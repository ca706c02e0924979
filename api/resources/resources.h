/*
 * The resources: the route table (one row per OpenAPI operation) and the
 * handlers, one file per resource, each named <resource>_<operation> after
 * its operationId.
 */
#ifndef DANVAN_RESOURCES_H
#define DANVAN_RESOURCES_H

#include "db/db.h"
#include "http/http.h"

/* routes.c */
extern const struct route routes[];
extern const size_t nroutes;
/* Every resource's named statements, for db_init. */
extern const struct db_stmt *const statements[];

/* meta.c */
extern const struct db_stmt meta_stmts[];
void meta_init(void);
int meta_healthz(struct req *);
int meta_readyz(struct req *);
int meta_metrics(struct req *);
int meta_openapi(struct req *);
int meta_docs(struct req *);
int meta_docs_asset(struct req *);

#endif
