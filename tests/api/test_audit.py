"""The audit trail: every change made through the API is recorded with its
actor, action, before and after, and the request id; filters and pages;
scope by subtree; no secret ever recorded; and nobody, not even the server's
database role or the schema owner, can rewrite it."""

import secrets
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import harness
from harness import CHECK, U, Bearer, call, db

EVENT_FIELDS = {"id", "at", "actor_id", "actor_kind", "action",
                "entity_type", "entity_id", "before", "after", "request_id"}

setUpModule, tearDownModule = harness.fixtures()


def rid(what):
    return "%s-%s" % (what, secrets.token_hex(8))


def walk(role, query="", limit=200):
    """(every event GET /audit?query shows `role`, how many pages)."""
    pages = harness.pages(role, "/api/v1/audit", query, limit, 10000)
    return [e for page in pages for e in page], len(pages)


def events(entity_id, role="admin"):
    items, _ = walk(role, "entity_id=" + entity_id)
    return items


def by_request(entity_id, request_id, role="admin"):
    found = [e for e in events(entity_id, role)
             if e["request_id"] == request_id]
    CHECK.assertEqual(len(found), 1, "no single event of request %s about "
                      "%s" % (request_id, entity_id))
    return found[0]


def new_unit(parent=U["commune"], request_id=None, name="Tổ ghi vết"):
    h = {"X-Request-Id": request_id} if request_id else {}
    r = call("admin", "POST", "/api/v1/units", body={
        "parent_id": parent, "kind": "office",
        "code": "a-" + secrets.token_hex(4), "name": name}, headers=h)
    CHECK.assertEqual(r.status, 201, r.describe())
    return r.json()


class Trail(unittest.TestCase):
    """Each kind of change, made with an X-Request-Id of our own, and the
    event it left."""

    @classmethod
    def setUpClass(cls):
        cls.admin_id = harness.user_id("admin")

    def check(self, ev, action, entity_type, entity_id, request_id,
              actor=None):
        self.assertEqual(set(ev), EVENT_FIELDS)
        self.assertEqual((ev["action"], ev["entity_type"], ev["entity_id"],
                          ev["request_id"], ev["actor_id"],
                          ev["actor_kind"]),
                         (action, entity_type, entity_id, request_id,
                          actor or self.admin_id, "user"))
        at = datetime.fromisoformat(ev["at"].replace("Z", "+00:00"))
        self.assertLess(abs((datetime.now(timezone.utc) - at)
                            .total_seconds()), 300)

    def test_unit_create_update_move_delete(self):
        r1, r2, r3, r4 = (rid("u-create"), rid("u-update"), rid("u-move"),
                          rid("u-delete"))
        unit = new_unit(request_id=r1, name="Tổ trước")
        uid = unit["id"]
        ev = by_request(uid, r1)
        self.check(ev, "create", "unit", uid, r1)
        self.assertIsNone(ev["before"])
        self.assertEqual((ev["after"]["id"], ev["after"]["code"],
                          ev["after"]["name"], ev["after"]["parent_id"],
                          ev["after"]["version"]),
                         (uid, unit["code"], "Tổ trước", U["commune"], 1))

        r = call("admin", "PATCH", "/api/v1/units/" + uid,
                 body={"name": "Tổ sau"},
                 headers={"If-Match": '"1"', "X-Request-Id": r2})
        self.assertEqual(r.status, 200, r.describe())
        ev = by_request(uid, r2)
        self.check(ev, "update", "unit", uid, r2)
        self.assertEqual((ev["before"]["name"], ev["before"]["version"]),
                         ("Tổ trước", 1))
        self.assertEqual((ev["after"]["name"], ev["after"]["version"]),
                         ("Tổ sau", 2))

        r = call("admin", "PATCH", "/api/v1/units/" + uid,
                 body={"parent_id": U["thon-2"]},
                 headers={"If-Match": '"2"', "X-Request-Id": r3})
        self.assertEqual(r.status, 200, r.describe())
        ev = by_request(uid, r3)
        self.check(ev, "update", "unit", uid, r3)
        self.assertEqual((ev["before"]["parent_id"], ev["after"]["parent_id"]),
                         (U["commune"], U["thon-2"]))

        leaf = new_unit(parent=uid)
        r = call("admin", "DELETE", "/api/v1/units/" + leaf["id"],
                 headers={"If-Match": '"1"', "X-Request-Id": r4})
        self.assertEqual(r.status, 204, r.describe())
        ev = by_request(leaf["id"], r4)
        self.check(ev, "delete", "unit", leaf["id"], r4)
        self.assertIsNone(ev["after"])
        self.assertEqual((ev["before"]["id"], ev["before"]["code"]),
                         (leaf["id"], leaf["code"]))

        # Newest first, and only events about this unit.
        evs = events(uid)
        self.assertEqual([e["request_id"] for e in evs], [r3, r2, r1])
        ids = [int(e["id"]) for e in evs]
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_user_create_update_password(self):
        r1, r2, r3 = rid("p-create"), rid("p-update"), rid("p-password")
        name = "ghi-" + secrets.token_hex(4)
        r = call("admin", "POST", "/api/v1/users", body={
            "unit_id": U["thon-3"], "username": name, "full_name": "Trước",
            "role": "viewer", "password": "Pw-" + secrets.token_urlsafe(18)},
            headers={"X-Request-Id": r1})
        self.assertEqual(r.status, 201, r.describe())
        uid = r.json()["id"]
        ev = by_request(uid, r1)
        self.check(ev, "create", "user", uid, r1)
        self.assertIsNone(ev["before"])
        self.assertEqual((ev["after"]["username"], ev["after"]["role"],
                          ev["after"]["unit_id"]),
                         (name, "viewer", U["thon-3"]))
        r = call("admin", "PATCH", "/api/v1/users/" + uid,
                 body={"full_name": "Sau", "role": "officer"},
                 headers={"If-Match": '"1"', "X-Request-Id": r2})
        self.assertEqual(r.status, 200, r.describe())
        ev = by_request(uid, r2)
        self.check(ev, "update", "user", uid, r2)
        self.assertEqual((ev["before"]["full_name"], ev["before"]["role"]),
                         ("Trước", "viewer"))
        self.assertEqual((ev["after"]["full_name"], ev["after"]["role"]),
                         ("Sau", "officer"))
        r = call("admin", "PATCH", "/api/v1/users/" + uid,
                 body={"password": "Pw-" + secrets.token_urlsafe(18)},
                 headers={"If-Match": '"2"', "X-Request-Id": r3})
        self.assertEqual(r.status, 200, r.describe())
        ev = by_request(uid, r3)
        self.check(ev, "update_password", "user", uid, r3)
        self.assertEqual((ev["before"]["version"], ev["after"]["version"]),
                         (2, 3))
        for side in ("before", "after"):
            self.assertNotIn("password_hash", ev[side])
            self.assertNotIn("password", ev[side])

    def test_service_account_create_and_revoke(self):
        r1, r2 = rid("s-create"), rid("s-revoke")
        r = call("admin", "POST", "/api/v1/service-accounts",
                 body={"unit_id": U["commune"], "name": "Máy ghi vết"},
                 headers={"X-Request-Id": r1})
        self.assertEqual(r.status, 201, r.describe())
        sid, key = r.json()["id"], r.json()["api_key"]
        ev = by_request(sid, r1)
        self.check(ev, "create", "service_account", sid, r1)
        self.assertEqual((ev["after"]["name"], ev["after"]["key_prefix"]),
                         ("Máy ghi vết", key[:12]))
        self.assertNotIn("key_hash", ev["after"])
        self.assertNotIn("api_key", ev["after"])
        r = call("admin", "DELETE", "/api/v1/service-accounts/" + sid,
                 headers={"If-Match": '"1"', "X-Request-Id": r2})
        self.assertEqual(r.status, 204, r.describe())
        ev = by_request(sid, r2)
        self.check(ev, "revoke", "service_account", sid, r2)
        self.assertIsNone(ev["before"]["revoked_at"])
        self.assertIsNotNone(ev["after"]["revoked_at"])

    def test_actor_is_whoever_acted(self):
        user = harness.new_user(U["commune"], "admin", "xa-admin", "Xã")
        actor = user.id
        r1 = rid("by-commune")
        r = call(Bearer(user.token), "POST", "/api/v1/units", body={
            "parent_id": U["thon-4"], "kind": "other",
            "code": "x-" + secrets.token_hex(3), "name": "Do xã tạo"},
            headers={"X-Request-Id": r1})
        self.assertEqual(r.status, 201, r.describe())
        ev = by_request(r.json()["id"], r1)
        self.check(ev, "create", "unit", r.json()["id"], r1, actor=actor)
        items, _ = walk("admin", "actor_id=" + actor)
        self.assertEqual([e["request_id"] for e in items], [r1])

    def test_refused_and_failed_requests_leave_no_event(self):
        before = db().psql("SELECT count(*) FROM audit_events")
        bad = [
            ("leader", "POST", "/api/v1/units", {"parent_id": U["commune"],
                                                 "kind": "office",
                                                 "code": "khong", "name": "x"},
             {}),
            ("admin", "POST", "/api/v1/units", {"parent_id": U["commune"],
                                                "kind": "city", "code": "k",
                                                "name": "x"}, {}),
            ("admin", "PATCH", "/api/v1/units/" + U["thon-2"],
             {"name": "Cũ"}, {"If-Match": '"99"'}),
            ("admin", "DELETE", "/api/v1/units/" + U["thon-2"], None,
             {"If-Match": '"1"'}),
        ]
        for role, method, path, body, headers in bad:
            with self.subTest(method=method, path=path):
                r = call(role, method, path, body=body, headers=headers)
                self.assertGreaterEqual(r.status, 400, r.describe())
        self.assertEqual(db().psql("SELECT count(*) FROM audit_events"),
                         before)

    def test_seeded_events_are_the_systems(self):
        evs = events(harness.user_id("thon1"))
        self.assertEqual(len(evs), 1)
        ev = evs[0]
        self.assertEqual((ev["action"], ev["actor_kind"], ev["actor_id"],
                          ev["request_id"], ev["before"]),
                         ("create", "system", None, None, None))
        self.assertEqual(ev["after"]["username"], "thon1")


class Query(unittest.TestCase):

    def test_filters(self):
        unit = new_unit()
        items, _ = walk("admin", "entity_type=unit")
        self.assertTrue(items)
        self.assertTrue(all(e["entity_type"] == "unit" for e in items))
        self.assertIn(unit["id"], [e["entity_id"] for e in items])
        items, _ = walk("admin", "entity_type=service_account")
        self.assertTrue(all(e["entity_type"] == "service_account"
                            for e in items))
        items, _ = walk("admin", "entity_type=nothing")
        self.assertEqual(items, [])
        items, _ = walk("admin", "entity_id=" + str(uuid.uuid4()))
        self.assertEqual(items, [])

    def test_since_and_until(self):
        unit = new_unit()
        ev = events(unit["id"])[0]
        at = datetime.fromisoformat(ev["at"].replace("Z", "+00:00"))
        later = (at + timedelta(hours=1)).isoformat()
        earlier = (at - timedelta(seconds=1)).astimezone(
            timezone(timedelta(hours=7))).isoformat()
        q = "entity_id=" + unit["id"]
        items, _ = walk("admin", q + "&since=" + quote(earlier))
        self.assertEqual([e["id"] for e in items], [ev["id"]])
        items, _ = walk("admin", q + "&since=" + quote(later))
        self.assertEqual(items, [])
        # `since` takes the instant itself; `until` leaves it out.
        items, _ = walk("admin", q + "&since=" + quote(ev["at"]))
        self.assertEqual([e["id"] for e in items], [ev["id"]])
        items, _ = walk("admin", q + "&until=" + quote(ev["at"]))
        self.assertEqual(items, [])
        items, _ = walk("admin", q + "&until=" + quote(later))
        self.assertEqual([e["id"] for e in items], [ev["id"]])

    def test_pages(self):
        for _ in range(3):
            new_unit()
        full, _ = walk("admin", "entity_type=unit")
        items, pages = walk("admin", "entity_type=unit", limit=2)
        self.assertEqual([e["id"] for e in items], [e["id"] for e in full])
        self.assertEqual(pages, (len(full) + 1) // 2)
        self.assertEqual(len({e["id"] for e in items}), len(items))

    def test_bad_queries_400(self):
        cases = [("limit=0", "limit"), ("limit=201", "limit"),
                 ("cursor=zz", "cursor"), ("cursor=abcd", "cursor"),
                 ("cursor=41", "cursor"),
                 ("entity_id=nope", "entity_id"), ("actor_id=1", "actor_id"),
                 ("since=yesterday", "since"), ("until=2026-13-01", "until"),
                 ("since=2026-01-01", "since"),
                 ("since=2026-02-30T00:00:00Z", "since")]
        for query, field in cases:
            with self.subTest(query=query):
                r = call("admin", "GET", "/api/v1/audit?" + query)
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertEqual([e["field"] for e in doc["errors"]],
                                 [field])


class Scope(unittest.TestCase):

    def test_leader_sees_the_commune_not_the_province(self):
        inside = new_unit(parent=U["commune"])
        outside = new_unit(parent=U["province"])
        self.assertEqual(len(events(inside["id"], "leader")), 1)
        self.assertEqual(events(outside["id"], "leader"), [])
        self.assertEqual(len(events(outside["id"], "admin")), 1)
        # The seeded accounts: the admin's (province) is not the leader's.
        self.assertEqual(events(harness.user_id("admin"), "leader"), [])
        self.assertEqual(len(events(harness.user_id("admin"), "admin")), 1)
        self.assertEqual(len(events(harness.user_id("lanhdao"), "leader")), 1)
        # All the leader sees lies in the commune, and it sees all of that.
        items, _ = walk("leader")
        ids = [e["id"] for e in items]
        self.assertTrue(ids)
        commune = "(SELECT path FROM units WHERE id = '%s')" % U["commune"]
        outside_n = db().psql("SELECT count(*) FROM audit_events WHERE id IN "
                              "(%s) AND NOT unit_path <@ %s"
                              % (",".join(ids), commune))
        self.assertEqual(outside_n, [("0",)])
        inside_n = db().psql("SELECT count(*) FROM audit_events WHERE "
                             "unit_path <@ %s" % commune)
        self.assertEqual(inside_n, [(str(len(ids)),)])
        admin_items, _ = walk("admin")
        self.assertEqual(len(admin_items), int(db().psql(
            "SELECT count(*) FROM audit_events")[0][0]))
        self.assertGreater(len(admin_items), len(ids))

    def test_others_may_not_read_it(self):
        for role in ("coordinator", "inspector", "officer", "viewer",
                     "service"):
            with self.subTest(role=role):
                r = call(role, "GET", "/api/v1/audit")
                harness.expect_problem(self, r, 403, "forbidden")


class Secrets(unittest.TestCase):

    def test_no_secret_is_ever_recorded(self):
        # Make sure there are password changes and keys to leak.
        user = harness.new_user(U["thon-1"], "viewer", "bimat", "Bí mật",
                                signed_in=False)
        pw = "Pw-" + secrets.token_urlsafe(18)
        x = call("admin", "PATCH", "/api/v1/users/" + user.id,
                 body={"password": pw}, headers={"If-Match": '"1"'})
        self.assertEqual(x.status, 200, x.describe())
        s = call("admin", "POST", "/api/v1/service-accounts",
                 body={"unit_id": U["thon-1"], "name": "Máy bí mật"})
        self.assertEqual(s.status, 201, s.describe())
        key = s.json()["api_key"]
        # Every event, through the API (call() rejects hash-like fields).
        items, _ = walk("admin")
        text = repr(items)
        for secret in (pw, key, "$argon2", "key_hash", "password_hash",
                       "token_hash", harness.demo_account("service")[
                           "api_key"]):
            self.assertNotIn(secret, text)
        # And in the table itself.
        n = db().psql(
            "SELECT count(*) FROM audit_events WHERE before ? 'password_hash'"
            " OR after ? 'password_hash' OR before ? 'key_hash' OR after ? "
            "'key_hash' OR position('argon2' in coalesce(before::text, '') "
            "|| coalesce(after::text, '')) > 0")
        self.assertEqual(n, [("0",)])


class AppendOnly(unittest.TestCase):

    def count(self):
        return db().psql("SELECT count(*), max(id), md5(string_agg("
                         "coalesce(after::text, '') || action, ',' ORDER BY "
                         "id)) FROM audit_events")

    def test_application_role_cannot_rewrite(self):
        new_unit()
        before = self.count()
        for sql in ("UPDATE audit_events SET action = 'x'",
                    "UPDATE audit_events SET after = NULL WHERE id = "
                    "(SELECT max(id) FROM audit_events)",
                    "DELETE FROM audit_events",
                    "DELETE FROM audit_events WHERE id = (SELECT max(id) "
                    "FROM audit_events)",
                    "TRUNCATE audit_events"):
            with self.subTest(sql=sql):
                with self.assertRaises(harness.PsqlError) as cm:
                    db().psql(sql, role="danvan_app")
                self.assertIn("permission denied", cm.exception.stderr)
        self.assertEqual(self.count(), before)
        # Reading is allowed (the server lists events as this role).
        self.assertEqual(db().psql("SELECT count(*) FROM audit_events",
                                   role="danvan_app")[0][0], before[0][0])

    def test_owner_cannot_rewrite_either(self):
        new_unit()
        before = self.count()
        for sql in ("UPDATE audit_events SET action = 'x'",
                    "DELETE FROM audit_events WHERE id = (SELECT max(id) "
                    "FROM audit_events)",
                    "TRUNCATE audit_events"):
            with self.subTest(sql=sql):
                with self.assertRaises(harness.PsqlError) as cm:
                    db().psql(sql, role="danvan_owner")
                self.assertIn("append-only", cm.exception.stderr)
        self.assertEqual(self.count(), before)

    def test_audit_event_adds_with_the_callers_rights(self):
        # The one writer of events runs as its caller (no SECURITY
        # DEFINER): the application role may call it because it may
        # insert, and gains nothing else through it.
        self.assertEqual(db().psql(
            "SELECT prosecdef FROM pg_proc WHERE proname = 'audit_event'"),
            [("f",)])
        before = int(self.count()[0][0])
        eid = str(uuid.uuid4())
        # Filed under the province, so the admin's view still holds all.
        rows = db().psql(
            "SELECT audit_event(NULL, 'system', 'probe', 'unit', '%s',"
            " (SELECT path FROM units WHERE id = '%s'), NULL, '{}',"
            " 'rid-probe')" % (eid, U["province"]), role="danvan_app")
        self.assertRegex(rows[0][0], r"^\d+$")
        self.assertEqual(db().psql(
            "SELECT id::text, actor_kind, action, request_id FROM audit_events"
            " WHERE entity_id = '%s'" % eid),
            [(rows[0][0], "system", "probe", "rid-probe")])
        self.assertEqual(int(self.count()[0][0]), before + 1)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
