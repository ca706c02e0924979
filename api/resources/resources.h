/*
 * The resources: the route table (one row per OpenAPI operation), what every
 * resource shares (validate.c, reply.c, tx.c), and the handlers, one file per
 * resource, each named <resource>_<operation> after its operationId.
 */
#ifndef DANVAN_RESOURCES_H
#define DANVAN_RESOURCES_H

#include "auth/auth.h"
#include "db/db.h"
#include "http/http.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

/* vocab.c */
/* The values a field may take, each list NULL-ended (struct field.values). */
extern const char *const unit_kinds[],
    *const plan_statuses[],
	*const plan_import_statuses[],
	    *const milestone_kinds[],
		*const unit_groups[],
		    *const task_schedules[],
			*const assignment_roles[],
			    *const assignment_statuses[],
				*const obligation_states[],
				    *const submission_kinds[],
					*const submission_statuses[],
					    *const model_fields[],
						*const model_statuses[],
						    *const model_own_steps[],
							*const inspection_plan_statuses[],
							    *const inspection_kinds[],
								*const inspection_statuses[],
								    *const inspection_team_roles
									[],
									    *const finding_severities
										[],
										    *const recommendation_statuses
											[];
extern const char *const export_formats[];
extern const char *const report_group_bys[];
/* Every list above by name, for `danvan enums`; ends with a NULL name. */
struct vocabulary {
	const char *name;
	const char *const *values;
};
extern const struct vocabulary vocabularies[];

/* routes.c */
extern const struct route routes[];
extern const size_t nroutes;
/* Every resource's named statements, for db_init. */
extern const struct db_stmt *const statements[];

/* validate.c */
enum field_type {
	F_STRING, /* min..max characters */
	F_CODE,	  /* a short machine name: a-z 0-9 - _ . */
	F_UUID,
	F_DATE, /* YYYY-MM-DD */
	F_TIME, /* an RFC 3339 timestamp (checked loosely; PostgreSQL parses) */
	F_INT,	/* min..max */
	F_BOOL,
	F_ENUM,	 /* one of values */
	F_JSON,	 /* any JSON, passed on as text */
	F_ARRAY, /* a JSON array of at most max items, passed on as text */
};
/* One field of a request body, for validate(). */
struct field {
	const char *name;
	enum field_type type;
	int required; /* on create */
	int nullable;
	int fixed; /* cannot be changed by PATCH */
	long long min, max;
	const char *const *values;
};
/* Checks obj against fields (NULL-named end); out[i] gets field i as text,
 * NULL when absent or null. patch: nothing required, fixed fields refused,
 * an empty object refused. Returns 0, or -1 with 422 and errors[]. */
int validate(struct req *, json_t *obj, const struct field *, const char **out,
    int patch);
/* The same without failing the request: field errors are named prefix+name
 * and counted; returns how many. For documents with several parts. */
int validate_at(struct req *, json_t *obj, const struct field *,
    const char **out, int patch, const char *prefix);
/* Checks one query value against f (types F_INT, F_BOOL, F_UUID, F_DATE,
 * F_ENUM, F_STRING); 0, or -1 with a field error named f->name recorded
 * (the request itself does not fail). */
int query_value(struct req *, const struct field *f, const char *value);
/* Reads and checks the query parameters named by fields; out[i] is NULL
 * when absent. Returns 0, or -1 with 400 invalid_query and errors[]. */
int query_params(struct req *, const struct field *, const char **out);
/* The filters of a list whose only filter is text search: q, 1 to 200
 * characters (matched with fold() and like_pattern() in SQL). */
extern const struct field search_filters[];
struct page {
	int limit;
	const char *cursor; /* hex, from an earlier next_cursor */
	const char *fetch;  /* limit + 1, as text, for SQL LIMIT */
};
/* Fills pg from the limit and cursor query values (NULL: absent; the
 * strings are kept); -1 with 400 invalid_query when malformed. */
int page_parse(struct req *, const char *limit, const char *cursor,
    struct page *pg);
/* page_parse on the request's own limit and cursor. */
int page_params(struct req *, struct page *);
int is_uuid(const char *);
/* True for a calendar date written YYYY-MM-DD (years 1900 to 2999). */
int is_date(const char *);
/* 422 invalid_reference: field names something that does not exist or
 * lies outside the caller's reach; the message goes in errors[] and detail.
 * Returns -1. */
int fail_reference(struct req *, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For a step that takes no fields: 0 for no body or {}, else 422 naming
 * each field. */
int no_fields(struct req *);
/* 422 empty_patch when a PATCH body holds nothing but amendment_reason. */
int only_reason(struct req *, json_t *body);

/* filename.c */
/* Why name cannot be an attachment's file name (1 to 255 bytes of UTF-8
 * without / \ . .. control or invisible formatting characters), as the
 * end of a sentence "the name ..."; NULL when it can. */
const char *filename_invalid(const char *name);
/* True when name ends in an extension of type (a media type attachments.c
 * stores), in any case: .jpg or .jpeg for image/jpeg. */
int filename_fits(const char *name, const char *type);
/* The usual extension of type, without the dot; NULL for another type. */
const char *filename_extension(const char *type);
/* The ASCII fallback of a file name (Content-Disposition filename=), in a's
 * memory: Vietnamese letters lose their diacritics (đ -> d, Ả -> A), any
 * other character outside ASCII, '"' and '\\' become one '_' each;
 * combining marks go. */
char *filename_ascii(struct arena *, const char *name);
/* The Content-Disposition value of a download named name (UTF-8): an
 * ASCII fallback and the RFC 5987 form, in a's memory. */
const char *filename_disposition(struct arena *a, const char *name);

/* export.c */
/* The kinds of exported columns: text as it is; integers and numbers as
 * numbers; rates, decimal fractions (0.25), as percentages in XLSX. */
enum column_type { COLUMN_TEXT, COLUMN_INTEGER, COLUMN_NUMBER, COLUMN_RATE };
/* An exported column: the member of each row and the header it gets. */
struct column {
	const char *name;
	enum column_type type;
};
/* Answers doc (a JSON object whose rows_key member is an array of objects)
 * as JSON, or, when the request asks for it (format=csv|xlsx, else Accept:
 * text/csv or the XLSX media type), as CSV (UTF-8 with a BOM) or XLSX with
 * one line per row and cols in order; base is the file name without its
 * extension. Sets a strong ETag (the JSON's bytes and the format) and so
 * answers If-None-Match with 304; 400 for an unknown format. doc stays
 * the caller's (req_own it). Returns 0 or -1. */
int reply_table(struct req *r, json_t *doc, const char *rows_key,
    const struct column *cols, size_t ncols, const char *base);
/* The CSV of rows (an array of objects), cols in order: a BOM, the header
 * row, a CRLF line per row (RFC 4180); null or absent members are empty,
 * numbers as JSON writes them. In a's memory, *len long. */
char *export_csv(struct arena *a, const json_t *rows, const struct column *cols,
    size_t ncols, size_t *len);
/* How many characters wide UTF-8 text s shows (combining marks take
 * none). */
size_t export_width(const char *s);

/* reply.c */
/* db_exec for a list: a cast failure caused by a forged cursor is 400. */
struct dbres *page_exec(struct req *, const char *stmt, int n,
    const char *const *params, const struct page *);
/* A whole list handler: runs stmt with ($1 the caller's unit, the checked
 * filters in order, cursor, limit + 1) and replies the page. */
int reply_list(struct req *, const char *stmt, const struct field *filters);
/* Replies {"items": [...], "next_cursor": …} from rows (json, cursor). */
int reply_page(struct req *, struct dbres *, const struct page *);
/* A list under a parent (the path's id): 404 unless parent_stmt ($1 the
 * caller's unit, $2 the id) finds it, then stmt ($1, $2, cursor, limit+1). */
int reply_sublist(struct req *, const char *parent_stmt, const char *stmt,
    const char *parent);
/* A whole GET of one entity: stmt ($1 the caller's unit, $2 the path's id)
 * answers (version, json) or no row (404 naming what). */
int reply_get(struct req *, const char *stmt, const char *what);
/* The same three for statements of a plan's tree (PLAN_VISIBLE): they take
 * the caller's draft access (plan_drafts) as one more, last parameter. */
int reply_plan_list(struct req *, const char *stmt, const struct field *filters);
int reply_plan_sublist(struct req *, const char *parent_stmt, const char *stmt,
    const char *parent);
int reply_plan_get(struct req *, const char *stmt, const char *what);
/* A list handler whose statement takes ($1 unit, $2 user, filters...,
 * cursor, limit + 1). */
int reply_list_as_user(struct req *, const char *stmt,
    const struct field *filters);
/* reply_get for a statement that takes the caller's user id as $3 too. */
int reply_get_as_user(struct req *, const char *stmt, const char *what);
/* 201 with Location base/<id of the JSON in column 1> and the entity. */
int reply_created(struct req *, struct dbres *, const char *base,
    const char *what);
/* For a row locked for a change (column 0 its version): 404 when there is
 * none, 412 when version is not current; else 0. */
int check_locked(struct req *, struct dbres *cur, const char *version,
    const char *what);
/* Replies row 0 (version, json) with its ETag, or 404 naming what. */
int reply_entity(struct req *, struct dbres *, int status, const char *what);
/* The version that If-Match names as a strong tag, "3" (arena memory), or
 * NULL after 428/412. */
const char *if_match(struct req *);
/* if_match on an If-Match value h (NULL: absent). */
const char *if_match_parse(struct req *, const char *h);

/* tx.c */
/* db_tx on the request's arena and failure record; fn runs inside
 * BEGIN/COMMIT (a SAVEPOINT when a transaction is open) and returns 0,
 * -1 after a failure, or DB_ROLLBACK to undo its work without failing. */
int run_tx(struct req *, int (*fn)(struct req *, void *), void *arg);
/* Who the audit rows of this request name: "user", "service" or, with no
 * principal (the seeder), "system". */
const char *actor_kind(struct req *);

/* meta.c */
extern const struct db_stmt meta_stmts[];
void meta_init(void);
int meta_healthz(struct req *);
int meta_readyz(struct req *);
int meta_metrics(struct req *);
int meta_openapi(struct req *);
int meta_docs(struct req *);
int meta_docs_asset(struct req *);
int meta_favicon(struct req *);

/* units.c */
extern const struct db_stmt units_stmts[];
int units_list(struct req *);
int units_create(struct req *);
int units_get(struct req *);
int units_update(struct req *);
int units_delete(struct req *);

/* users.c */
extern const struct db_stmt users_stmts[];
int users_list(struct req *);
int users_create(struct req *);
int users_get(struct req *);
int users_update(struct req *);
int me_get(struct req *);
/* Checks a new password (422 naming field when weak) and hashes it; NULL
 * after a failure. */
const char *user_password_hash(struct req *, const char *field,
    const char *password, const char *username);
/* Creates a user from the command line (danvan user add). */
int users_add_cli(const char *unit_code_path, const char *username,
    const char *full_name, const char *role, const char *password);

/* session.c */
extern const struct db_stmt session_stmts[];
int auth_token(struct req *);
int auth_refresh(struct req *);
int auth_revoke(struct req *);
int me_password(struct req *);

/* service_accounts.c */
extern const struct db_stmt service_accounts_stmts[];
int service_accounts_list(struct req *);
int service_accounts_create(struct req *);
int service_accounts_revoke(struct req *);

/* The path of the caller's unit, $1 of every statement limited to what the
 * caller may see: "x is in scope" is x.path <@ SCOPE. */
/* clang-format off */
#define SCOPE "(SELECT path FROM units WHERE id = $1)"

/* An issued or closed plan is visible to callers in its issuing unit's
 * subtree and in the units above it ($1 is the caller's unit). A draft only
 * to those who may edit it (d = 'edit': admins and leaders of the issuing
 * unit or above) and to the other users of the issuing unit (d = 'unit');
 * never to service accounts or to the units below (d = 'none'). */
#define PLAN_VISIBLE(p, d)                                                  \
	"EXISTS (SELECT 1 FROM units iu, units me WHERE iu.id = " p           \
	".issuing_unit_id AND me.id = $1 AND CASE WHEN " p ".status = 'draft'"  \
	" THEN iu.path <@ me.path AND (" d "::text = 'edit'"                  \
	" OR (" d "::text = 'unit' AND iu.id = me.id))"                       \
	" ELSE iu.path @> me.path OR iu.path <@ me.path END)"
/* clang-format on */

/* The day an assignment is due: its own date, else the task's deadline,
 * else the end of the plan's year for work "within the year"; ongoing work
 * has none. */
/* clang-format off */
#define ASSIGNMENT_DUE(a, t, p)                                             \
	"coalesce(" a ".due_on, " t ".due_on, CASE WHEN " t ".schedule ="    \
	" 'within_year' THEN make_date(" p ".year, 12, 31) END)"
/* clang-format on */

/* plans.c */
extern const struct db_stmt plans_stmts[];
/* The caller's access to draft plans, for PLAN_VISIBLE: "edit", "unit" or
 * "none". */
const char *plan_drafts(struct req *);
/* A plan locked for a change by plan_lock; strings owned by the arena. */
struct plan_state {
	const char *id, *version, *status, *json, *unit_path, *year;
	const char *issuing_unit_id;
};
/* A row of a plan's child (a task, a milestone) locked by plan_child_lock;
 * strings owned by the arena. */
struct plan_child {
	const char *id, *version;
	const char *json;  /* the row before the change, for the audit */
	struct dbres *row; /* the locked row, for the columns after these */
};
/* A new plan's fields checked by plan_fields; owned by the arena. */
struct plan_input;
int plans_list(struct req *);
int plans_create(struct req *);
int plans_get(struct req *);
int plans_update(struct req *);
int plans_issue(struct req *);
int plans_close(struct req *);
/* Checks obj as a new plan (import: id and status may be given too) into
 * *in, naming field errors prefix+field; returns the number of errors. */
int plan_fields(struct req *, json_t *, int import, const char *prefix,
    struct plan_input **in);
/* The issuing unit the input names; NULL when absent or malformed. */
const char *plan_issuing_unit(const struct plan_input *);
/* Creates the plan with its audit event and describes it in *st as
 * plan_lock would (json and unit_path NULL: there is no before). Returns
 * the plan as the API shows it, or NULL after a failure (422 when the
 * caller does not manage the issuing unit). */
const char *plan_insert(struct req *, const struct plan_input *,
    const char *prefix, struct plan_state *st);

/* plan_lists.c */
/* Check obj's legal_bases and recipients entries, naming field errors
 * prefix+field; each returns the number of errors. */
int plan_bases_check(struct req *, json_t *obj, const char *prefix);
int plan_recipients_check(struct req *, json_t *obj, const char *prefix);

/* plan_amend.c */
extern const struct db_stmt plan_amend_stmts[];
int plans_versions(struct req *);
/* 0 when the caller sees the plan, else -1 with 404. */
int plan_find(struct req *, const char *plan_id);
/* Locks a plan the caller manages (404 if none); 412 when version (may be
 * NULL) is not current, 409 when the plan is closed. */
int plan_lock(struct req *, const char *plan_id, const char *version,
    struct plan_state *);
/* Locks a plan's child with stmt ($1 its id; answering plan id, version
 * and the row as JSON, FOR UPDATE), then its plan with plan_lock, then
 * compares the child's version: 404 naming what when either is missing or
 * not the caller's, 409 when the plan is closed, 412 when version (NULL:
 * any) is not current. */
int plan_child_lock(struct req *, const char *stmt, const char *id,
    const char *version, const char *what, struct plan_state *,
    struct plan_child *);
/* For an issued plan: records an amendment (422 without a reason) and, if
 * bump, raises the plan's version. A draft needs nothing. */
int plan_amend(struct req *, const struct plan_state *, const char *reason,
    const char *entity_type, const char *entity_id, const char *changes,
    const char *before, int bump);
/* The request body minus amendment_reason, as JSON text. */
const char *changes_of(struct req *);

/* tasks.c */
extern const struct db_stmt tasks_stmts[];
int tasks_list(struct req *);
int tasks_create(struct req *);
int tasks_get(struct req *);
int tasks_update(struct req *);
/* A new task's fields checked by task_fields; owned by the arena. */
struct task_input;
/* Checks obj as a new task (schedule and due_on agree) into *in, naming
 * field errors prefix+field; returns the number of errors. */
int task_fields(struct req *, json_t *, const char *prefix,
    struct task_input **in);
/* The task's number as digits; NULL when absent or invalid. */
const char *task_number(const struct task_input *);
/* Creates a task of plan_id with its audit event; returns its id, or NULL
 * after a failure. */
const char *task_insert(struct req *, const char *plan_id,
    const struct task_input *);
/* Locks a task and its plan (plan_child_lock): 404, 409, 412 likewise. */
int task_lock(struct req *, const char *task_id, const char *version,
    struct plan_state *, struct plan_child *);

/* milestones.c */
extern const struct db_stmt milestones_stmts[];
int milestones_list(struct req *);
int milestones_create(struct req *);
int milestones_get(struct req *);
int milestones_update(struct req *);
/* A new milestone's fields checked by milestone_fields; arena-owned. */
struct milestone_input;
/* Checks obj as a new milestone into *in, naming field errors
 * prefix+field; returns the number of errors. */
int milestone_fields(struct req *, json_t *, const char *prefix,
    struct milestone_input **in);
/* The receiving unit the input names; NULL when absent or malformed. */
const char *milestone_receiving_unit(const struct milestone_input *);
/* The owing units it names one by one: the document's owing.unit_ids
 * (borrowed, not checked), or NULL. */
json_t *milestone_owing_units(const struct milestone_input *);
/* Creates a milestone of the plan in st, with its owing units and audit
 * event; returns its id, or NULL after a failure (422 for a unit outside
 * the issuing unit's subtree). */
const char *milestone_insert(struct req *, const struct plan_state *,
    const struct milestone_input *, const char *prefix);

/* assignments.c */
extern const struct db_stmt assignments_stmts[];
int assignments_for_task(struct req *);
int assignments_create(struct req *);
int assignments_list(struct req *);
int assignments_get(struct req *);
int assignments_update(struct req *);
/* One assignment entry checked by assignment_fields; arena-owned. */
struct assignment_input;
/* Checks obj as an assignment entry (a unit or a group) into *in, naming
 * field errors prefix+field; returns the number of errors. */
int assignment_fields(struct req *, json_t *, const char *prefix,
    struct assignment_input **in);
/* The one unit the entry names; NULL for a group, absent or malformed. */
const char *assignment_unit(const struct assignment_input *);
/* Creates the assignments one entry stands for (a unit, or each unit of a
 * group) on a task of the plan in st; returns how many, or -1. */
int assignment_insert(struct req *, const struct plan_state *,
    const char *task_id, const struct assignment_input *, const char *prefix);

/* import.c */
extern const struct db_stmt import_stmts[];
int plans_import(struct req *);
/* Imports a plan document as the system (seed data). 0 or -1. */
int import_document(struct req *, json_t *doc, int dry_run);

/* obligations.c */
extern const struct db_stmt obligations_stmts[];
int obligations_list(struct req *);
/* The obligation r->param[0] as obligations_list shows it (the change
 * feed's GET of it: there is no route); 404 outside the caller's view. */
int obligations_get(struct req *);
int extensions_grant(struct req *);

/* A submission s as the API shows it (submissions.c, submission_review.c). */
/* clang-format off */
#define SUBMISSION_JSON(s)                                                   \
	"json_build_object('id', " s ".id, 'unit_id', " s ".unit_id,"        \
	" 'kind', " s ".kind, 'milestone_id', " s ".milestone_id,"           \
	" 'task_id', " s ".task_id, 'assignment_id', " s ".assignment_id,"   \
	" 'plan_id', " s ".plan_id, 'receiving_unit_id', " s ".receiving_unit_id," \
	" 'title', " s ".title, 'body', " s ".body, 'data', " s ".data,"     \
	" 'status', " s ".status, 'revision', " s ".revision,"               \
	" 'submitted_at', " s ".submitted_at,"                               \
	" 'last_submitted_at', " s ".last_submitted_at,"                     \
	" 'timeliness', " s ".timeliness, 'due_on', " s ".due_on,"           \
	" 'review_reason', " s ".review_reason, 'reviewed_by', " s ".reviewed_by," \
	" 'reviewed_at', " s ".reviewed_at, 'approved_by', " s ".approved_by," \
	" 'approved_at', " s ".approved_at, 'version', " s ".version,"       \
	" 'created_at', " s ".created_at, 'updated_at', " s ".updated_at)"
/* clang-format on */

/* submissions.c */
extern const struct db_stmt submissions_stmts[];
int submissions_list(struct req *);
int submissions_create(struct req *);
int submissions_get(struct req *);
int submissions_update(struct req *);
int submissions_versions(struct req *);
/* A submission locked by submission_lock; strings owned by the arena. */
struct submission_state {
	const char *id, *version, *status, *kind;
	const char *json; /* the row before the change, for the audit */
	const char *unit_id, *unit_path; /* the submitting unit */
	int above_receiving; /* the caller's unit is not the receiving one */
	/* For four eyes: who wrote it, who last submitted it, who accepted
	 * it (NULL unless accepted). */
	const char *created_by, *submitted_by, *accepted_by;
};
/* 0 when the caller sees the submission, else -1 with 404. */
int submission_find(struct req *, const char *id);

/* submission_review.c */
extern const struct db_stmt submission_review_stmts[];
int submissions_submit(struct req *);
int submissions_accept(struct req *);
int submissions_return(struct req *);
int submissions_approve(struct req *);
/* Locks a submission of the caller's units (receiving 0) or of the units
 * it receives for (receiving 1): 404 when there is none, 412 when version
 * (NULL: any) is not current. */
int submission_lock(struct req *, const char *id, int receiving,
    const char *version, struct submission_state *);
/* Moves the locked submission st to status with its audit event (a submit
 * keeps a version); its row (version, json) or NULL after a failure. */
struct dbres *submission_step(struct req *, const struct submission_state *st,
    const char *status, const char *reason, const char *action);

/* attachments.c */
extern const struct db_stmt attachments_stmts[];
int attachments_upload(struct req *);
int attachments_list(struct req *);
int attachments_get(struct req *);
/* The metadata of attachment r->param[0] as its owner's list shows it (the
 * change feed's view of it; GET /attachments/{id} sends the bytes); 404
 * when the caller may not download it. */
int attachments_meta(struct req *);
/* For an evidence upload: checks the filename query parameter, that the
 * body's first bytes are of its allowed Content-Type and that the name
 * ends in that type's extension; sets *filename and *type. Returns 0, or
 * -1 after failing the request (400, 415 or 422). */
int attachment_accept(struct req *, const char **filename, const char **type);

/* models.c */
extern const struct db_stmt models_stmts[];
int models_list(struct req *);
int models_counts(struct req *);
int models_create(struct req *);
int models_get(struct req *);
int models_update(struct req *);
int models_recognise(struct req *);

/* seed.c */
extern const struct db_stmt seed_stmts[];
/* Loads the demo data; new credentials go to the file at path. 0 or -1. */
int seed_run(const char *path);
/* Adds a synthetic province of n sample communes under the demo province
 * (db/seed/synthetic.sql), which seed_run must have loaded. 0 or -1. */
int seed_synthetic(int n);

/* purge.c */
extern const struct db_stmt purge_stmts[];
/* Deletes the expired rows; returns how many, or -1 (logged). */
long purge_run(void);

/* audit.c */
extern const struct db_stmt audit_stmts[];
int audit_list(struct req *);

/*
 * Inspections and scoring. The reach of an inspection plan or a rubric is
 * the subtree of its plan's issuing unit: the units it may inspect or
 * score, and the users who may be on a team.
 */
/* An inspection as the API shows it, i the inspections row's alias; for the
 * statements of inspections.c and inspections_follow_up.c. */
/* clang-format off */
#define INSPECTION_JSON(i)                                                   \
	"json_build_object('id', " i ".id,"                                  \
	" 'inspection_plan_id', " i ".inspection_plan_id, 'kind', " i ".kind," \
	" 'title', " i ".title, 'target_unit_id', " i ".target_unit_id,"     \
	" 'inspecting_unit_id', " i ".inspecting_unit_id,"                   \
	" 'scheduled_on', " i ".scheduled_on, 'status', " i ".status,"       \
	" 'conducted_on', " i ".conducted_on, 'minutes', " i ".minutes,"     \
	" 'conclusion', " i ".conclusion, 'cancel_reason', " i ".cancel_reason," \
	" 'started_at', " i ".started_at, 'completed_at', " i ".completed_at," \
	" 'cancelled_at', " i ".cancelled_at,"                               \
	" 'team', coalesce((SELECT json_agg(json_build_object('user_id',"     \
	"  m.user_id, 'full_name', tu.full_name, 'unit_id', tu.unit_id,"     \
	"  'role', m.role) ORDER BY m.role, tu.full_name, m.user_id)"        \
	"  FROM inspection_members m JOIN users tu ON tu.id = m.user_id"     \
	"  WHERE m.inspection_id = " i ".id), '[]'),"                        \
	" 'task_ids', coalesce((SELECT json_agg(t.task_id ORDER BY t.task_id)" \
	"  FROM inspection_tasks t WHERE t.inspection_id = " i ".id), '[]'),"  \
	" 'findings', (SELECT count(*) FROM findings f"                      \
	"  WHERE f.inspection_id = " i ".id),"                               \
	" 'version', " i ".version, 'created_at', " i ".created_at,"         \
	" 'updated_at', " i ".updated_at)"
/* clang-format on */

/* inspection_plans.c */
extern const struct db_stmt inspection_plans_stmts[];
int inspection_plans_list(struct req *);
int inspection_plans_create(struct req *);
int inspection_plans_get(struct req *);
int inspection_plans_update(struct req *);
int inspection_plans_issue(struct req *);

/* inspections.c */
extern const struct db_stmt inspections_stmts[];
int inspections_list(struct req *);
int inspections_create(struct req *);
int inspections_get(struct req *);
int inspections_update(struct req *);
int inspections_start(struct req *);
int inspections_complete(struct req *);
int inspections_cancel(struct req *);
/* An inspection the caller may work on, locked: its team's members and
 * the managing side (the inspection plan's issuing unit and above), never
 * the inspected unit's people. Strings owned by the arena. */
struct inspection_state {
	const char *version, *status, *json, *unit_path, *plan_id;
	const char *target_unit_id, *reach_path, *target_path;
	const char *period_start, *period_end;
	int on_team, no_conclusion;
};
/* Locks inspection id for a change by the caller: 404 when it does not
 * see it or may not work on it, 412 when version (may be NULL) is stale. */
int inspection_lock(struct req *, const char *id, const char *version,
    struct inspection_state *);

/* inspection_teams.c */
extern const struct db_stmt inspection_teams_stmts[];
/* Checks the body's team (objects with a user and a role, each user once,
 * exactly one lead) and task ids (UUIDs), either may be NULL; field errors
 * are recorded, the request does not fail. Returns the number of problems. */
int inspection_team_check(struct req *, json_t *team, json_t *tasks);
/* Checks the team and tasks (JSON text, NULL: unchanged) of inspection id
 * against the reach (the plan's units), the inspected unit and the plan,
 * then stores them. 0 or -1 (422 invalid_reference). */
int inspection_team_store(struct req *, const char *id, const char *reach,
    const char *target_path, const char *plan_id, const char *team,
    const char *tasks);

/* inspections_follow_up.c */
extern const struct db_stmt inspections_follow_up_stmts[];
int inspections_follow_up(struct req *);

/* findings.c */
extern const struct db_stmt findings_stmts[];
int findings_list(struct req *);
/* The finding r->param[0] as findings_list shows it, when the caller sees
 * its inspection (the change feed's GET of it: there is no route). */
int findings_get(struct req *);
int findings_create(struct req *);
int findings_update(struct req *);

/* recommendations.c */
extern const struct db_stmt recommendations_stmts[];
int recommendations_list(struct req *);
int recommendations_create(struct req *);
int recommendations_get(struct req *);
int recommendations_respond(struct req *);
int recommendations_resolve(struct req *);
int recommendations_reopen(struct req *);
/* Checks one recommendation object (at prefix) of an inspection; inserts
 * it when the counts are clean. Returns the new row (version, json) or
 * NULL after a failure. */
struct dbres *recommendation_insert(struct req *,
    const struct inspection_state *, const char *inspection_id,
    const char *finding_id, json_t *obj, const char *prefix);

/* A recommendation locked by recommendation_lock; addressed: the caller
 * is of the unit it is addressed to (or below). */
struct recommendation_state {
	const char *version, *status, *json, *unit_path, *inspection_id;
	int addressed;
};
/* Locks a recommendation the caller sees: 404 when it does not, 412 when
 * version (may be NULL) is stale. */
int recommendation_lock(struct req *, const char *id, const char *version,
    struct recommendation_state *);
/* 409 unless the caller is on the team of s and the visit is in progress
 * (or, with after_completion, completed). */
int inspection_team_only(struct req *, const struct inspection_state *,
    int after_completion);

/* evidence.c */
/* A file of an inspection or a recommendation as the API shows it. */
/* clang-format off */
#define EVIDENCE_JSON(a)                                                     \
	"json_build_object('id', " a ".id, 'inspection_id', " a ".inspection_id," \
	" 'recommendation_id', " a ".recommendation_id,"                     \
	" 'filename', " a ".filename, 'content_type', " a ".content_type,"   \
	" 'size', " a ".size, 'sha256', " a ".sha256,"                       \
	" 'created_at', " a ".created_at)"
/* clang-format on */
extern const struct db_stmt evidence_stmts[];
int inspections_attach(struct req *);
int inspections_attachments(struct req *);
int recommendations_attach(struct req *);
int recommendations_attachments(struct req *);

/* rubrics.c */
extern const struct db_stmt rubrics_stmts[];
int rubrics_list(struct req *);
int rubrics_create(struct req *);
int rubrics_get(struct req *);
/* 0 and *out when v is a number of points from 0 to max with at most two
 * decimals, else -1. */
int points_value(json_t *v, double max, double *out);

/* score_sheets.c */
extern const struct db_stmt score_sheets_stmts[];
int score_sheets_list(struct req *);
int score_sheets_create(struct req *);
int score_sheets_get(struct req *);
int score_sheets_update(struct req *);
int score_sheets_submit(struct req *);
int score_sheets_adjust(struct req *);
int score_sheets_not_eligible(struct req *);
int score_sheets_finalize(struct req *);
int score_sheets_history(struct req *);

/* score_entries.c */
extern const struct db_stmt score_entries_stmts[];
/* Checks list (the body's array called name: self scores, or with adjust
 * the reviewer's adjustments) against the criteria of rubric_id, naming
 * field errors name[i].field. Returns the number of problems (1 when the
 * rubric could not be read, the request then failed). */
int score_entries_check(struct req *, const char *rubric_id, json_t *list,
    const char *name, int adjust);
/* Writes checked entries (JSON text) to sheet: self scores after their
 * evidence is found to be the scored unit's (unit_path), or adjustments by
 * the caller. 0, or -1 with 422 for foreign evidence or a total over a
 * rubric cap. */
int score_entries_write(struct req *, const char *sheet, const char *unit_path,
    const char *entries, const char *name, int adjust);
/* 0 when every criterion of sheet is scored, with evidence where the
 * rubric asks; else -1 with 422 incomplete naming each in errors[]. */
int score_entries_complete(struct req *, const char *sheet);

/* ranking.c */
extern const struct db_stmt ranking_stmts[];
int rubrics_ranking(struct req *);

/* reports.c */
extern const struct db_stmt reports_stmts[];
int reports_obligations(struct req *);
int reports_assignments(struct req *);
int reports_models(struct req *);
int reports_inspections(struct req *);
int reports_scores(struct req *);

/* changes.c */
extern const struct db_stmt changes_stmts[];
int changes_list(struct req *);

#endif
