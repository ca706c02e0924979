/*
 * Demo data: the organisation of Binh Chuong commune (db/seed/) and one
 * account per role, including a village officer, an officer of an office
 * that owes the reports and the province's service account. New accounts get
 * random passwords, written to a credentials file readable by its owner only;
 * running it again keeps what exists. With --synthetic, a province of sample
 * communes for tests and benchmarks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resources/resources.h"

/* clang-format off */
static const char user_exists[] = "SELECT 1 FROM users WHERE username = $1";
static const char user_add[] =
    "WITH ins AS (INSERT INTO users (unit_id, username, full_name, role,"
    "  password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *)"
    "SELECT ins.id FROM ins JOIN units u ON u.id = ins.unit_id,"
    " audit_event(NULL, 'system', 'create', 'user', ins.id, u.path, NULL,"
    "  to_jsonb(ins) - 'password_hash', NULL)";
static const char sa_exists[] =
    "SELECT 1 FROM service_accounts WHERE name = $1 AND revoked_at IS NULL";
static const char sa_add[] =
    "WITH ins AS (INSERT INTO service_accounts (unit_id, name, key_hash,"
    "  key_prefix) VALUES ($1, $2, $3, $4) RETURNING *)"
    "SELECT ins.id FROM ins JOIN units u ON u.id = ins.unit_id,"
    " audit_event(NULL, 'system', 'create', 'service_account', ins.id, u.path,"
    "  NULL, to_jsonb(ins) - 'key_hash', NULL)";

static const char plan_exists[] = "SELECT 1 FROM plans WHERE id = $1";
/* The size of the synthetic province, for db/seed/synthetic.sql. */
static const char synthetic_size[] =
    "SELECT set_config('danvan.synthetic_communes', $1, false)";
/* clang-format on */

const struct db_stmt seed_stmts[] = {
	{ "seed_plan_exists", plan_exists },
	{ "seed_user_exists", user_exists },
	{ "seed_user_add", user_add },
	{ "seed_sa_exists", sa_exists },
	{ "seed_sa_add", sa_add },
	{ "seed_synthetic_size", synthetic_size },
	{ NULL, NULL },
};

#define PROVINCE "5eed0000-0000-4000-8000-000000000001"
#define COMMUNE "5eed0000-0000-4000-8000-000000000010"
#define VHXH "5eed0000-0000-4000-8000-000000000013"
#define VILLAGE1 "5eed0000-0000-4000-8000-000000000021"
#define KINHTE "5eed0000-0000-4000-8000-000000000012"
#define BXDD "5eed0000-0000-4000-8000-000000000016"
#define CUNGUNG "5eed0000-0000-4000-8000-000000000015"

static const struct {
	const char *role, *username, *full_name, *unit_id;
} accounts[] = {
	{ "admin", "admin", "Quản trị hệ thống (mẫu)", PROVINCE },
	{ "leader", "lanhdao", "Lãnh đạo UBND xã (mẫu)", COMMUNE },
	{ "coordinator", "vhxh", "Cán bộ Phòng Văn hóa – Xã hội (mẫu)", VHXH },
	{ "inspector", "kiemtra", "Cán bộ kiểm tra (mẫu)", COMMUNE },
	{ "officer", "thon1", "Cán bộ thôn 1 (mẫu)", VILLAGE1 },
	{ "viewer", "xem", "Người xem (mẫu)", COMMUNE },
	/* For the inspection story: an office that owes reports and was
	 * inspected, and a member of the team from the Party's committee. */
	{ "officer", "kinhte", "Cán bộ Phòng Kinh tế (mẫu)", KINHTE },
	{ "inspector", "bxdd", "Cán bộ Ban Xây dựng đảng (mẫu)", BXDD },
	/* For the reporting story: an office that owes the plan, six-month
	 * and annual reports and has sent none of them yet. */
	{ "officer", "cungung", "Cán bộ Trung tâm Cung ứng dịch vụ công (mẫu)",
	    CUNGUNG },
};
#define SERVICE_NAME "Sở Nội vụ – tổng hợp số liệu (mẫu)"

/* The entry of the old credentials file for username, if any. */
static json_t *
old_entry(json_t *old, const char *key, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(old, i, e) {
		const char *v = json_string_value(json_object_get(e, key));

		if (v != NULL && strcmp(v, value) == 0)
			return e;
	}
	return NULL;
}

static int
write_credentials(const char *path, json_t *list)
{
	char *text = json_dumps(list, JSON_INDENT(2));
	char *tmp;
	int fd, ok;

	if (text == NULL)
		return -1;
	tmp = xmalloc(strlen(path) + 8);
	snprintf(tmp, strlen(path) + 8, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok = fd >= 0 &&
	    write(fd, text, strlen(text)) == (ssize_t)strlen(text) &&
	    write(fd, "\n", 1) == 1 && fchmod(fd, 0600) == 0;
	if (fd >= 0)
		close(fd);
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		log_error("seed: cannot write %s", path);
	free(text);
	free(tmp);
	return ok ? 0 : -1;
}

/* Imports a plan document unless its plan is there already. */
static int
seed_plan(struct req *r, const struct asset *a)
{
	json_error_t err;
	json_t *doc;
	const char *id;
	struct dbres *res;
	int rc = -1;

	if ((doc = json_loadb((const char *)a->data, a->len,
		 JSON_REJECT_DUPLICATES, &err)) == NULL) {
		log_error("seed: %s: %s (line %d)", a->name, err.text, err.line);
		return -1;
	}
	id = json_string_value(
	    json_object_get(json_object_get(doc, "plan"), "id"));
	if ((res = db_exec(r->arena, &r->fail, "seed_plan_exists", 1, &id)) ==
	    NULL)
		goto out;
	if (db_rows(res) == 0 && import_document(r, doc, 0) == -1) {
		log_error("seed: %s was not loaded", a->name);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

int
seed_run(const char *credentials)
{
	struct req r = { 0 };
	json_t *old, *list = json_array(), *e;
	const char *params[5];
	char password[64], hash[128], key[96], keyhash[65];
	struct dbres *res;
	size_t i;
	int rc = -1, created = 0;

	r.arena = arena_new();
	snprintf(r.id, sizeof(r.id), "seed");
	if ((old = json_load_file(credentials, 0, NULL)) == NULL)
		old = json_array();
	if (db_script(r.arena, &r.fail, (const char *)asset_seed_units.data) ==
	    -1)
		goto out;
	for (i = 0; i < nitems(accounts); i++) {
		params[0] = accounts[i].username;
		if ((res = db_exec(r.arena, &r.fail, "seed_user_exists", 1,
			 params)) == NULL)
			goto out;
		if (db_rows(res) == 1) {
			if ((e = old_entry(old, "username",
				 accounts[i].username)))
				json_array_append(list, e);
			continue;
		}
		secret_new("", password, sizeof(password), keyhash);
		password[20] = '\0';
		if (password_hash(password, hash, sizeof(hash)) == -1)
			goto out;
		params[0] = accounts[i].unit_id;
		params[1] = accounts[i].username;
		params[2] = accounts[i].full_name;
		params[3] = accounts[i].role;
		params[4] = hash;
		if (db_exec(r.arena, &r.fail, "seed_user_add", 5, params) ==
		    NULL)
			goto out;
		json_array_append_new(list,
		    json_pack("{s:s, s:s, s:s, s:s}", "role", accounts[i].role,
			"username", accounts[i].username, "password", password,
			"unit_id", accounts[i].unit_id));
		created++;
	}
	params[0] = SERVICE_NAME;
	if ((res = db_exec(r.arena, &r.fail, "seed_sa_exists", 1, params)) ==
	    NULL)
		goto out;
	if (db_rows(res) == 1) {
		if ((e = old_entry(old, "role", "service")))
			json_array_append(list, e);
	} else {
		secret_new("dvk_", key, sizeof(key), keyhash);
		params[0] = PROVINCE;
		params[1] = SERVICE_NAME;
		params[2] = keyhash;
		params[3] = arena_strndup(r.arena, key, 12);
		if (db_exec(r.arena, &r.fail, "seed_sa_add", 4, params) == NULL)
			goto out;
		json_array_append_new(list,
		    json_pack("{s:s, s:s, s:s, s:s}", "role", "service",
			"username", SERVICE_NAME, "api_key", key, "unit_id",
			PROVINCE));
		created++;
	}
	if (created > 0 && write_credentials(credentials, list) == -1)
		goto out;
	if (seed_plan(&r, &asset_seed_plan_province) == -1 ||
	    seed_plan(&r, &asset_seed_plan_commune) == -1 ||
	    db_script(r.arena, &r.fail,
		(const char *)asset_seed_submissions.data) == -1 ||
	    db_script(r.arena, &r.fail,
		(const char *)asset_seed_inspections.data) == -1)
		goto out;
	log_info("seed: demo organisation loaded; %d account(s) created%s%s",
	    created, created ? ", credentials in " : "",
	    created ? credentials : "");
	rc = 0;
out:
	if (rc == -1 && r.fail.status != 0)
		log_error("seed: %s", failure_text(r.arena, &r.fail));
	json_decref(old);
	json_decref(list);
	arena_free(r.arena);
	return rc;
}

int
seed_synthetic(int n)
{
	struct req r = { 0 };
	const char *size;
	int rc = -1;

	r.arena = arena_new();
	snprintf(r.id, sizeof(r.id), "seed");
	size = arena_printf(r.arena, "%d", n);
	/* ANALYZE as the owner warns of every shared catalog it may not read:
	 * fifty lines of noise, no error. */
	if (db_exec(r.arena, &r.fail, "seed_synthetic_size", 1, &size) == NULL ||
	    db_script(r.arena, &r.fail,
		(const char *)asset_seed_synthetic.data) == -1 ||
	    db_script(r.arena, &r.fail,
		"SET LOCAL statement_timeout = 0;"
		" SET LOCAL client_min_messages = error; ANALYZE;") == -1)
		goto out;
	log_info("seed: synthetic province of %d commune(s) loaded", n);
	rc = 0;
out:
	if (rc == -1 && r.fail.status != 0)
		log_error("seed: %s", failure_text(r.arena, &r.fail));
	arena_free(r.arena);
	return rc;
}
