"""Service accounts: creating one shows its key once and stores only a hash;
the key reads units of its subtree and nothing else; revoking it shuts it
out at once; bad input of every kind."""

import hashlib
import json
import re
import secrets
import unittest
import uuid

import harness
from harness import CHECK, U, Bearer, call, db

SA_FIELDS = {"id", "unit_id", "name", "key_prefix", "role", "created_at",
             "last_used_at", "revoked_at", "version"}
KEY_RE = re.compile(r"^dvk_[A-Za-z0-9_-]{43}$")
INVALID_TOKEN_CHALLENGE = 'Bearer realm="danvan", error="invalid_token"'


def build():
    # A commune-level administrator: call("xa-admin", ...).
    harness.new_user(U["commune"], "admin", "xa-admin", "Quản trị xã",
                     name="xa-admin")


setUpModule, tearDownModule = harness.fixtures(build)


def create(unit=U["commune"], name=None, headers=None):
    name = name or "Máy tổng hợp " + secrets.token_hex(3)
    r = call("admin", "POST", "/api/v1/service-accounts",
             body={"unit_id": unit, "name": name}, headers=headers)
    CHECK.assertEqual(r.status, 201, r.describe())
    return r


def listing(role="admin"):
    return harness.all_items(role, "/api/v1/service-accounts", max_pages=100)


def subtree(unit):
    rows = db().psql(
        "WITH RECURSIVE t AS (SELECT id FROM units WHERE id = '%s' UNION ALL "
        "SELECT u.id FROM units u JOIN t ON u.parent_id = t.id) "
        "SELECT id FROM t" % unit)
    return {r[0] for r in rows}


def count():
    return int(db().psql("SELECT count(*) FROM service_accounts")[0][0])


class Create(unittest.TestCase):

    def test_create_shows_the_key_once(self):
        rid = "sa-" + secrets.token_hex(6)
        r = create(name="Phần mềm báo cáo xã", headers={"X-Request-Id": rid})
        doc = r.json()
        self.assertEqual(set(doc), SA_FIELDS | {"api_key"})
        key = doc["api_key"]
        self.assertRegex(key, KEY_RE)
        self.assertEqual(doc["key_prefix"], key[:12])
        self.assertEqual((doc["unit_id"], doc["name"], doc["role"],
                          doc["version"], doc["last_used_at"],
                          doc["revoked_at"]),
                         (U["commune"], "Phần mềm báo cáo xã", "service", 1,
                          None, None))
        self.assertEqual(r.headers.get("ETag"), '"1"')
        # Stored: the SHA-256 of the key and its prefix, never the key.
        row = db().psql("SELECT key_hash, key_prefix, created_by FROM "
                        "service_accounts WHERE id = '%s'" % doc["id"])
        admin_id = db().psql("SELECT id FROM users WHERE username = "
                             "'admin'")[0][0]
        self.assertEqual(row, [(hashlib.sha256(key.encode()).hexdigest(),
                                key[:12], admin_id)])
        for table in ("service_accounts", "audit_events",
                      "idempotency_keys"):
            with self.subTest(table=table):
                hits = db().psql("SELECT count(*) FROM %s t WHERE "
                                 "position('%s' in t::text) > 0"
                                 % (table, key))
                self.assertEqual(hits, [("0",)])
        ev = db().psql("SELECT action, entity_type, actor_id, request_id, "
                       "after ? 'key_hash', after->>'name' FROM audit_events "
                       "WHERE entity_id = '%s'" % doc["id"])
        self.assertEqual(ev, [("create", "service_account", admin_id, rid,
                               "f", "Phần mềm báo cáo xã")])
        # Listed afterwards without its key.
        listed = [s for s in listing() if s["id"] == doc["id"]]
        self.assertEqual(len(listed), 1)
        self.assertEqual(set(listed[0]), SA_FIELDS)
        self.assertEqual(listed[0]["key_prefix"], key[:12])

    def test_answer_with_the_key_is_not_cached(self):
        # Like a token response, the one answer that carries a key must not
        # be kept by any cache.
        r = create()
        self.assertEqual(r.headers.get("Cache-Control"), "no-store",
                         r.describe())

    def test_keys_are_unique(self):
        keys = {create().json()["api_key"] for _ in range(3)}
        self.assertEqual(len(keys), 3)

    def test_idempotency_key_is_not_replayed(self):
        # A replay would have to store the key: each request makes its own.
        h = {"Idempotency-Key": "sa-" + secrets.token_hex(6)}
        name = "Máy " + secrets.token_hex(3)
        a = create(name=name, headers=h)
        b = create(name=name, headers=h)
        self.assertIsNone(b.headers.get("Idempotent-Replayed"))
        self.assertNotEqual(a.json()["id"], b.json()["id"])
        self.assertNotEqual(a.json()["api_key"], b.json()["api_key"])
        self.assertEqual(db().psql("SELECT count(*) FROM service_accounts "
                                   "WHERE name = '%s'" % name), [("2",)])

    def test_invalid_bodies_422(self):
        ok = {"unit_id": U["commune"], "name": "Máy"}
        cases = [
            ({}, {"unit_id": "required", "name": "required"}),
            ({"unit_id": 7, "name": False}, {"unit_id": "type",
                                             "name": "type"}),
            (dict(ok, unit_id="commune"), {"unit_id": "format"}),
            (dict(ok, name=""), {"name": "length"}),
            (dict(ok, name="M" * 201), {"name": "length"}),
            (dict(ok, name=None), {"name": "null"}),
            (dict(ok, role="admin"), {"role": "unknown"}),
            (dict(ok, api_key="dvk_" + "a" * 43), {"api_key": "unknown"}),
        ]
        before = count()
        for body, fields in cases:
            with self.subTest(body=json.dumps(body, ensure_ascii=False)[:70]):
                r = call("admin", "POST", "/api/v1/service-accounts",
                         body=body)
                harness.expect_problem(self, r, 422, "invalid_body", fields)
        self.assertEqual(count(), before)
        r = call("admin", "POST", "/api/v1/service-accounts",
                 body=dict(ok, name="M" * 200))
        self.assertEqual(r.status, 201, r.describe())

    def test_unit_must_be_active_and_in_scope(self):
        unit = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-3"], "kind": "other",
            "code": "tam-" + secrets.token_hex(3), "name": "Tạm"})
        self.assertEqual(unit.status, 201, unit.describe())
        r = call("admin", "PATCH", "/api/v1/units/" + unit.json()["id"],
                 body={"active": False}, headers={"If-Match": '"1"'})
        self.assertEqual(r.status, 200, r.describe())
        before = count()
        for uid in (str(uuid.uuid4()), unit.json()["id"]):
            with self.subTest(unit=uid):
                r = call("admin", "POST", "/api/v1/service-accounts",
                         body={"unit_id": uid, "name": "Máy"})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"unit_id": "unknown"})
        for uid in (U["province"], U["so-noi-vu"]):
            with self.subTest(commune_admin_unit=uid):
                r = call("xa-admin", "POST", "/api/v1/service-accounts",
                                     body={"unit_id": uid, "name": "Máy"})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"unit_id": "unknown"})
        self.assertEqual(count(), before)
        r = call("xa-admin", "POST", "/api/v1/service-accounts",
                             body={"unit_id": U["thon-2"], "name": "Máy xã"})
        self.assertEqual(r.status, 201, r.describe())

    def test_bad_requests(self):
        path = "/api/v1/service-accounts"
        valid = json.dumps({"unit_id": U["commune"], "name": "Máy"}).encode()
        before = count()
        cases = [
            (b'{"name": "M', "application/json", 400, "malformed_json"),
            (b'[{"name": "M"}]', "application/json", 400, "body_not_object"),
            (b'', "application/json", 400, "body_required"),
            (valid, "text/plain", 415, "unsupported_media_type"),
            (valid, "multipart/form-data", 415, "unsupported_media_type"),
            (b'{"name": "' + b"M" * 4200 + b'"}', "application/json", 413,
             "payload_too_large"),
        ]
        for raw, ctype, status, problem in cases:
            with self.subTest(problem=problem, ctype=ctype):
                r = call("admin", "POST", path, raw=raw,
                         headers={"Content-Type": ctype})
                harness.expect_problem(self, r, status, problem)
        self.assertEqual(count(), before)


class Keys(unittest.TestCase):

    def test_demo_key_reads_every_unit(self):
        key = harness.demo_account("service")["api_key"]
        r = call(Bearer(key), "GET", "/api/v1/units?limit=200")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual({u["id"] for u in r.json()["items"]},
                         subtree(U["province"]))
        r = call(Bearer(key), "GET", "/api/v1/units/" + U["so-noi-vu"])
        self.assertEqual(r.json()["code"], "so-noi-vu")

    def test_key_reads_units_of_its_subtree_only(self):
        key = create(unit=U["commune"]).json()["api_key"]
        r = call(Bearer(key), "GET", "/api/v1/units?limit=200")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual({u["id"] for u in r.json()["items"]},
                         subtree(U["commune"]))
        self.assertEqual(call(Bearer(key), "GET", "/api/v1/units/" +
                              U["thon-4"]).json()["code"], "thon-4")
        for uid in (U["province"], U["so-noi-vu"]):
            with self.subTest(unit=uid):
                r = call(Bearer(key), "GET", "/api/v1/units/" + uid)
                harness.expect_problem(self, r, 404, "not_found")

    def test_key_may_do_nothing_else(self):
        key = create(unit=U["commune"]).json()["api_key"]
        sa = listing()[0]
        viewer = db().psql("SELECT id FROM users WHERE username = 'xem'")
        refused = [
            ("GET", "/api/v1/me", None),
            ("GET", "/api/v1/users", None),
            ("GET", "/api/v1/users/" + viewer[0][0], None),
            ("GET", "/api/v1/audit", None),
            ("GET", "/api/v1/service-accounts", None),
            ("POST", "/api/v1/units", {"parent_id": U["commune"],
                                       "kind": "office", "code": "may-tao",
                                       "name": "Máy tạo"}),
            ("PATCH", "/api/v1/units/" + U["thon-1"], {"name": "Máy sửa"}),
            ("DELETE", "/api/v1/units/" + U["mat-tran-thon-1"], None),
            ("POST", "/api/v1/users", {"unit_id": U["commune"]}),
            ("POST", "/api/v1/service-accounts", {"unit_id": U["commune"],
                                                  "name": "Máy đẻ máy"}),
            ("DELETE", "/api/v1/service-accounts/" + sa["id"], None),
        ]
        before = (count(), db().psql("SELECT count(*), sum(version) FROM "
                                     "units"))
        for method, path, body in refused:
            with self.subTest(method=method, path=path):
                r = call(Bearer(key), method, path, body=body,
                         headers={"If-Match": '"1"'})
                doc = harness.expect_problem(self, r, 403, "forbidden")
                self.assertIn("service", doc["detail"])
        self.assertEqual((count(), db().psql("SELECT count(*), sum(version) "
                                             "FROM units")), before)

    def test_last_used_at(self):
        r = create()
        sid, key = r.json()["id"], r.json()["api_key"]
        self.assertIsNone([s for s in listing() if s["id"] == sid][0][
            "last_used_at"])
        self.assertEqual(call(Bearer(key), "GET", "/api/v1/units").status, 200)
        used = [s for s in listing() if s["id"] == sid][0]["last_used_at"]
        self.assertIsNotNone(used)
        fresh = db().psql("SELECT last_used_at > now() - interval '1 minute' "
                          "FROM service_accounts WHERE id = '%s'" % sid)
        self.assertEqual(fresh, [("t",)])

    def test_unknown_or_malformed_keys(self):
        for key in ("dvk_" + secrets.token_urlsafe(32), "dvk_", "dvk_x"):
            with self.subTest(key=key[:12]):
                r = call(Bearer(key), "GET", "/api/v1/units")
                harness.expect_problem(self, r, 401, "invalid_token")
                self.assertEqual(r.headers.get("WWW-Authenticate"),
                                 INVALID_TOKEN_CHALLENGE)
        r = call(Bearer("dvk_" + "a" * 200), "GET", "/api/v1/units")
        harness.expect_problem(self, r, 400, "invalid_request")
        # The hash itself is not a key.
        demo = harness.demo_account("service")["api_key"]
        r = call(Bearer(hashlib.sha256(demo.encode()).hexdigest()), "GET",
                 "/api/v1/units")
        harness.expect_problem(self, r, 401, "invalid_token")


class Revoke(unittest.TestCase):

    def revoke(self, sid, etag, who="admin", headers=None):
        h = dict(headers or {})
        if etag is not None:
            h["If-Match"] = etag
        return call(who, "DELETE", "/api/v1/service-accounts/" + sid,
                    headers=h)

    def test_revoked_key_is_refused_at_once(self):
        r = create(unit=U["commune"])
        sid, key = r.json()["id"], r.json()["api_key"]
        self.assertEqual(call(Bearer(key), "GET", "/api/v1/units").status, 200)
        rid = "revoke-" + secrets.token_hex(6)
        x = self.revoke(sid, '"1"', headers={"X-Request-Id": rid})
        self.assertEqual(x.status, 204, x.describe())
        self.assertEqual(x.body, b"")
        for path in ("/api/v1/units", "/api/v1/units/" + U["commune"]):
            with self.subTest(path=path):
                r = call(Bearer(key), "GET", path)
                harness.expect_problem(self, r, 401, "invalid_token")
                self.assertEqual(r.headers.get("WWW-Authenticate"),
                                 INVALID_TOKEN_CHALLENGE)
        listed = [s for s in listing() if s["id"] == sid]
        self.assertEqual(len(listed), 1)
        self.assertIsNotNone(listed[0]["revoked_at"])
        self.assertEqual(listed[0]["version"], 2)
        ev = db().psql("SELECT action, before->>'revoked_at' IS NULL, "
                       "after->>'revoked_at' IS NOT NULL, after ? 'key_hash' "
                       "FROM audit_events WHERE request_id = '%s'" % rid)
        self.assertEqual(ev, [("revoke", "t", "t", "f")])

    def test_preconditions(self):
        sid = create().json()["id"]
        harness.expect_problem(self, self.revoke(sid, None), 428,
                               "precondition_required")
        for bad in ('"2"', "1", "W/x"):
            with self.subTest(if_match=bad):
                harness.expect_problem(self, self.revoke(sid, bad), 412,
                                       "precondition_failed")
        self.assertEqual(db().psql("SELECT revoked_at IS NULL, version FROM "
                                   "service_accounts WHERE id = '%s'" % sid),
                         [("t", "1")])
        harness.expect_problem(self, self.revoke(str(uuid.uuid4()), '"1"'),
                               404, "not_found")
        harness.expect_problem(self, call(
            "admin", "DELETE", "/api/v1/service-accounts/not-a-uuid",
            headers={"If-Match": '"1"'}), 404, "not_found")

    def test_revoking_twice(self):
        sid = create().json()["id"]
        self.assertEqual(self.revoke(sid, '"1"').status, 204)
        first = db().psql("SELECT revoked_at, version FROM service_accounts "
                          "WHERE id = '%s'" % sid)
        self.assertEqual(first[0][1], "2")
        # With its current version: already done, not an error.
        self.assertEqual(self.revoke(sid, '"2"').status, 204)
        # With the version from before the revocation, or one it never had:
        # stale.
        for stale in ('"1"', '"7"'):
            harness.expect_problem(self, self.revoke(sid, stale), 412,
                                   "precondition_failed")
        self.assertEqual(db().psql("SELECT revoked_at, version FROM "
                                   "service_accounts WHERE id = '%s'" % sid),
                         first)

    def test_commune_admin_revokes_only_in_its_subtree(self):
        demo = db().psql("SELECT id FROM service_accounts WHERE unit_id = "
                         "'%s' ORDER BY created_at LIMIT 1" % U["province"])
        x = self.revoke(demo[0][0], '"1"', who="xa-admin")
        harness.expect_problem(self, x, 404, "not_found")
        key = harness.demo_account("service")["api_key"]
        self.assertEqual(call(Bearer(key), "GET", "/api/v1/units").status, 200)
        r = call("xa-admin", "GET", "/api/v1/service-accounts")
        self.assertEqual(r.status, 200, r.describe())
        ids = {s["id"] for s in r.json()["items"]}
        self.assertNotIn(demo[0][0], ids)
        units = subtree(U["commune"])
        self.assertTrue(all(s["unit_id"] in units
                            for s in r.json()["items"]))
        mine = create(unit=U["thon-1"]).json()["id"]
        self.assertEqual(self.revoke(mine, '"1"', who="xa-admin").status,
                         204)


class List(unittest.TestCase):

    def test_list(self):
        items = listing()
        rows = db().psql("SELECT id FROM service_accounts ORDER BY "
                         "created_at, id")
        self.assertEqual([s["id"] for s in items], [r[0] for r in rows])
        demo = items[0]
        self.assertEqual((demo["name"], demo["unit_id"], demo["role"],
                          demo["key_prefix"]),
                         ("Sở Nội vụ – tổng hợp số liệu (mẫu)", U["province"],
                          "service",
                          harness.demo_account("service")["api_key"][:12]))
        for s in items:
            self.assertEqual(set(s), SA_FIELDS)

    def test_pages(self):
        for _ in range(3):
            create()
        full = listing()
        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/v1/service-accounts?limit=2" + (
                "&cursor=" + cursor if cursor else "")
            r = call("admin", "GET", path)
            self.assertEqual(r.status, 200, r.describe())
            self.assertLessEqual(len(r.json()["items"]), 2)
            seen += [s["id"] for s in r.json()["items"]]
            pages += 1
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, [s["id"] for s in full])
        self.assertEqual(pages, (len(full) + 1) // 2)
        for q, field in (("limit=0", "limit"), ("cursor=q", "cursor"),
                         ("cursor=abcd", "cursor")):
            with self.subTest(query=q):
                r = call("admin", "GET", "/api/v1/service-accounts?" + q)
                harness.expect_problem(self, r, 400, "invalid_query")
                self.assertEqual([e["field"] for e in r.json()["errors"]],
                                 [field])


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
