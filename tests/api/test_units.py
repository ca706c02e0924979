"""The organisation tree over HTTP: reading within one's subtree, search,
pages, caching, creating, changing, moving and deleting units, bad input of
every kind, and Idempotency-Key."""

import http.client
import json
import math
import secrets
import threading
import unicodedata
import unittest
import uuid

import harness
from harness import CHECK, U, call, db


def build():
    # A commune-level administrator: call("xa-admin", ...).
    harness.new_user(U["commune"], "admin", "xa-admin", "Quản trị xã",
                     name="xa-admin")


setUpModule, tearDownModule = harness.fixtures(build)


def code(prefix="t"):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def create(parent, kind="office", name="Tổ công tác", role="admin",
           expect=201, **extra):
    body = {"parent_id": parent, "kind": kind, "code": code(), "name": name}
    body.update(extra)
    r = call(role, "POST", "/api/v1/units", body=body)
    CHECK.assertEqual(r.status, expect, r.describe())
    return r


def get_unit(uid, role="admin"):
    r = call(role, "GET", "/api/v1/units/" + uid)
    CHECK.assertEqual(r.status, 200, r.describe())
    return r


def patch(uid, changes, role="admin", etag=None):
    if etag is None:
        etag = get_unit(uid).headers["ETag"]
    return call(role, "PATCH", "/api/v1/units/" + uid, body=changes,
                headers={"If-Match": etag})


def unit_count():
    return int(db().psql("SELECT count(*) FROM units")[0][0])


def walk(who, query="", limit=200):
    """Every page of GET /units?query as `who`; (items, pages)."""
    pages = harness.pages(who, "/api/v1/units", query, limit)
    return [u for page in pages for u in page], pages


def tree():
    """Every unit with its depth, computed from parent_id alone (not from
    the server's materialised paths): {id: (parent_id, depth, name, code,
    kind, active)}."""
    rows = db().psql(
        "WITH RECURSIVE t AS (SELECT id, parent_id, 1 AS depth FROM units "
        "WHERE parent_id IS NULL UNION ALL SELECT u.id, u.parent_id, "
        "t.depth + 1 FROM units u JOIN t ON u.parent_id = t.id) "
        "SELECT t.id, coalesce(t.parent_id::text, ''), t.depth, u.name, "
        "u.code, u.kind, u.active FROM t JOIN units u USING (id)")
    return {r[0]: (r[1] or None, int(r[2]), r[3], r[4], r[5], r[6] == "t")
            for r in rows}


def subtree(root, t=None):
    t = t or tree()
    out, frontier = {root}, [root]
    while frontier:
        nxt = [i for i, v in t.items() if v[0] in frontier]
        out.update(nxt)
        frontier = nxt
    return out


def fold(s):
    """Lower case without diacritics (đ too), as search compares."""
    s = s.replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFD", s)
    return "".join(c for c in s if unicodedata.category(c) != "Mn").lower()


# --- reading ---------------------------------------------------------------

class Read(unittest.TestCase):

    def test_admin_sees_every_unit_with_its_depth(self):
        items, _ = walk("admin")
        t = tree()
        self.assertEqual(len(items), len(t))
        self.assertEqual({u["id"] for u in items}, set(t))
        for u in items:
            parent, depth, name, code_, kind, active = t[u["id"]]
            self.assertEqual((u["parent_id"], u["depth"], u["name"],
                              u["code"], u["kind"], u["active"]),
                             (parent, depth, name, code_, kind, active),
                             u["id"])
        by_id = {u["id"]: u for u in items}
        thon1 = dict(by_id[U["thon-1"]])
        for k in ("created_at", "updated_at"):
            self.assertRegex(thon1.pop(k),
                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                             r"(Z|[+-]\d\d:\d\d)$")
        self.assertEqual(thon1, {
            "id": U["thon-1"], "parent_id": U["commune"], "kind": "village",
            "code": "thon-1", "name": "Thôn 1 (mẫu)", "depth": 3,
            "active": True, "sample": True, "version": 1})
        self.assertEqual(by_id[U["province"]]["depth"], 1)
        self.assertIsNone(by_id[U["province"]]["parent_id"])
        self.assertEqual(by_id[U["mat-tran-thon-2"]]["depth"], 4)
        self.assertFalse(by_id[U["commune"]]["sample"])

    def test_order_is_name_then_id(self):
        items, _ = walk("admin")
        keys = [(u["name"].encode("utf-8"), u["id"]) for u in items]
        self.assertEqual(keys, sorted(keys))

    def test_each_role_sees_its_subtree(self):
        t = tree()
        for role in harness.ROLES:
            with self.subTest(role=role):
                own = harness.demo_account(role)["unit_id"]
                items, _ = walk(role)
                self.assertEqual({u["id"] for u in items}, subtree(own, t))
        # Concretely: the officer of thon 1 sees thon 1 and its Front board.
        items, _ = walk("officer")
        self.assertEqual(sorted(u["id"] for u in items),
                         sorted([U["thon-1"], U["mat-tran-thon-1"]]))
        items, _ = walk("coordinator")
        self.assertEqual([u["id"] for u in items], [U["phong-vh-xh"]])

    def test_reads_in_flight_together_keep_their_own_answers(self):
        # The reads of many connections go out together on an event
        # thread's one read connection: each answer must be the one asked
        # for, in the asker's scope (the officer of thon 1 gets 404 for
        # everything but its own subtree).
        t = tree()
        ids = sorted(t)
        officer_sees = subtree(U["thon-1"], t)
        creds = {role: harness.token(role) for role in ("admin", "officer")}
        errors = []

        def client(n):
            conn = http.client.HTTPConnection("127.0.0.1", harness.srv().port,
                                              timeout=10)
            try:
                for i in range(40):
                    role = ("admin", "officer")[(n + i) % 2]
                    uid = ids[(n * 7 + i) % len(ids)]
                    conn.request("GET", "/api/v1/units/" + uid, headers={
                        "Authorization": "Bearer " + creds[role]})
                    r = conn.getresponse()
                    body = r.read()
                    want = 200 if role == "admin" or uid in officer_sees \
                        else 404
                    got = json.loads(body).get("id") if r.status == 200 \
                        else None
                    if r.status != want or (want == 200 and got != uid):
                        errors.append((role, uid, r.status, got))
            finally:
                conn.close()

        clients = [threading.Thread(target=client, args=(n,))
                   for n in range(16)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        self.assertEqual(errors, [])

    def test_outside_the_subtree_is_404_like_nothing(self):
        nothing = call("officer", "GET", "/api/v1/units/" + str(uuid.uuid4()))
        ref = harness.expect_problem(self, nothing, 404, "not_found")
        cases = [
            ("officer", U["thon-2"]), ("officer", U["mat-tran-thon-2"]),
            ("officer", U["commune"]), ("leader", U["province"]),
            ("leader", U["so-noi-vu"]), ("coordinator", U["commune"]),
            ("coordinator", U["mttq"]), ("viewer", U["so-noi-vu"]),
        ]
        for role, uid in cases:
            with self.subTest(role=role, unit=uid):
                r = call(role, "GET", "/api/v1/units/" + uid)
                doc = harness.expect_problem(self, r, 404, "not_found")
                self.assertEqual((doc["title"], doc["detail"]),
                                 (ref["title"], ref["detail"]))
        self.assertEqual(get_unit(U["thon-1"], "officer").json()["id"],
                         U["thon-1"])
        self.assertEqual(get_unit(U["commune"], "leader").json()["code"],
                         "binh-chuong")
        self.assertEqual(get_unit(U["so-noi-vu"], "service").json()["code"],
                         "so-noi-vu")

    def test_malformed_id_404(self):
        for bad in ("not-a-uuid", "5eed0000-0000-4000-8000-00000000001",
                    "5eed0000000040008000000000000001"):
            with self.subTest(id=bad):
                r = call("admin", "GET", "/api/v1/units/" + bad)
                harness.expect_problem(self, r, 404, "not_found")

    def test_etag_and_304(self):
        r = get_unit(U["thon-3"])
        doc = r.json()
        etag = r.headers["ETag"]
        self.assertEqual(etag, '"%d"' % doc["version"])
        r2 = call("admin", "GET", "/api/v1/units/" + U["thon-3"],
                  headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304, r2.describe())
        self.assertEqual(r2.body, b"")
        self.assertEqual(r2.headers.get("ETag"), etag)
        r3 = call("admin", "GET", "/api/v1/units/" + U["thon-3"],
                  headers={"If-None-Match": '"999"'})
        self.assertEqual(r3.status, 200)
        self.assertEqual(r3.json(), doc)

    def test_etag_after_a_change(self):
        r = create(U["thon-3"])
        uid, old = r.json()["id"], r.headers["ETag"]
        self.assertEqual(old, '"1"')
        p = patch(uid, {"name": "Tên mới"}, etag=old)
        self.assertEqual(p.status, 200, p.describe())
        self.assertEqual(p.headers.get("ETag"), '"2"')
        r = call("admin", "GET", "/api/v1/units/" + uid,
                 headers={"If-None-Match": old})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["name"], "Tên mới")

    def test_filters(self):
        t = tree()
        items, _ = walk("admin", "parent_id=" + U["commune"])
        self.assertEqual({u["id"] for u in items},
                         {i for i, v in t.items() if v[0] == U["commune"]})
        self.assertGreaterEqual(len(items), 11)
        items, _ = walk("admin", "kind=village")
        self.assertEqual({u["id"] for u in items},
                         {i for i, v in t.items() if v[4] == "village"})
        self.assertTrue({U["thon-1"], U["thon-4"]} <=
                        {u["id"] for u in items})
        items, _ = walk("officer", "kind=front")
        self.assertEqual([u["id"] for u in items], [U["mat-tran-thon-1"]])
        items, _ = walk("admin", "active=true")
        self.assertEqual({u["id"] for u in items},
                         {i for i, v in t.items() if v[5]})
        # Children of a unit above the caller: only those in its subtree.
        items, _ = walk("leader", "parent_id=" + U["province"])
        self.assertEqual([u["id"] for u in items], [U["commune"]])
        items, _ = walk("officer", "parent_id=" + U["commune"])
        self.assertEqual([u["id"] for u in items], [U["thon-1"]])

    def test_inactive_filter(self):
        uid = create(U["thon-4"]).json()["id"]
        r = patch(uid, {"active": False})
        self.assertEqual(r.status, 200, r.describe())
        self.assertFalse(r.json()["active"])
        items, _ = walk("admin", "active=false")
        self.assertIn(uid, [u["id"] for u in items])
        self.assertTrue(all(not u["active"] for u in items))
        items, _ = walk("admin", "active=true")
        self.assertNotIn(uid, [u["id"] for u in items])

    def test_bad_active_filter_400(self):
        for v in ("yes", "1", "TRUE", ""):
            with self.subTest(active=v):
                r = call("admin", "GET", "/api/v1/units?active=" + v)
                harness.expect_problem(self, r, 400, "invalid_query",
                                       {"active": "type"})


class Search(unittest.TestCase):

    def q(self, text, role="admin"):
        from urllib.parse import quote
        items, _ = walk(role, "q=" + quote(text))
        return items

    def test_diacritics_and_case_are_ignored(self):
        self.assertEqual([u["name"] for u in self.q("van hoa")],
                         ["Phòng Văn hóa – Xã hội"])
        self.assertEqual([u["id"] for u in self.q("VĂN HÓA")],
                         [U["phong-vh-xh"]])
        self.assertEqual([u["name"] for u in self.q("BINH CHUONG")],
                         ["UBND xã Bình Chương"])
        self.assertEqual([u["id"] for u in self.q("dang")],
                         [U["ban-xay-dung-dang"]])

    def test_code_matches_too(self):
        # No seeded name holds "thon-1" or "so-noi": only codes do.
        got = {u["id"]: u for u in self.q("thon-1")}
        self.assertIn(U["thon-1"], got)
        self.assertTrue(all("thon-1" in u["code"] for u in got.values()))
        self.assertEqual([u["id"] for u in self.q("so-noi")],
                         [U["so-noi-vu"]])

    def test_like_characters_are_literal(self):
        self.assertEqual(self.q("%"), [])
        self.assertEqual(self.q("_"), [])
        self.assertEqual(self.q("\\"), [])

    def test_search_matches_a_simple_model(self):
        t = tree()
        for text in ("van hoa", "BINH CHUONG", "thôn 1", "MẪU", "uy ban",
                     "trung tam", "xa", "thon-"):
            with self.subTest(q=text):
                want = {i for i, v in t.items()
                        if fold(text) in fold(v[2]) or fold(text) in v[3]}
                got = {u["id"] for u in self.q(text)}
                self.assertEqual(got, want)
                self.assertTrue(want, "a query that finds nothing proves "
                                      "little")

    def test_search_stays_in_scope(self):
        self.assertEqual([u["id"] for u in self.q("mau", "officer")],
                         sorted([U["thon-1"], U["mat-tran-thon-1"]],
                                key=lambda i: tree()[i][2].encode()))
        self.assertEqual(self.q("quang ngai", "leader"), [])


class Pages(unittest.TestCase):

    def test_walk_with_limit_2_visits_each_unit_once(self):
        full, _ = walk("admin")
        items, pages = walk("admin", limit=2)
        ids = [u["id"] for u in items]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids, [u["id"] for u in full])
        self.assertEqual(set(ids), set(tree()))
        self.assertEqual(len(pages), math.ceil(len(ids) / 2))
        self.assertTrue(all(len(p) == 2 for p in pages[:-1]))
        self.assertIn(len(pages[-1]), (1, 2))

    def test_walk_with_a_filter(self):
        items, pages = walk("admin", "q=mau", limit=3)
        full, _ = walk("admin", "q=mau")
        self.assertEqual([u["id"] for u in items], [u["id"] for u in full])
        self.assertGreaterEqual(len(items), 8)
        self.assertEqual(len(pages), math.ceil(len(items) / 3))

    def test_long_names_make_usable_cursors(self):
        # A name may have 300 characters, up to 3 bytes each in UTF-8: the
        # next_cursor after such a unit must still be accepted.
        parent = create(U["thon-4"]).json()["id"]
        long_names = ["ệ" * 300, "Ư" * 299 + "a", "b" + "ố" * 299]
        for name in long_names:
            create(parent, name=name)
        items, pages = walk("admin", "parent_id=" + parent, limit=1)
        self.assertEqual(sorted(u["name"] for u in items),
                         sorted(long_names))
        self.assertEqual(len(pages), 3)

    def test_limits(self):
        r = call("admin", "GET", "/api/v1/units?limit=1")
        doc = r.json()
        self.assertEqual(len(doc["items"]), 1)
        self.assertRegex(doc["next_cursor"], r"^[0-9a-f]+$")
        r = call("admin", "GET", "/api/v1/units?limit=200")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(len(r.json()["items"]), min(200, len(tree())))
        self.assertIsNone(r.json()["next_cursor"])
        r = call("admin", "GET", "/api/v1/units")
        self.assertEqual(len(r.json()["items"]), min(50, len(tree())))

    def test_bad_limit_400(self):
        for v in ("0", "201", "-1", "abc", "", "1.5", "2x", "99999999999"):
            with self.subTest(limit=v):
                r = call("admin", "GET", "/api/v1/units?limit=" + v)
                harness.expect_problem(self, r, 400, "invalid_query",
                                       {"limit": "range"})

    def test_bad_cursor_400(self):
        for v in ("zz", "abc", "", "0g", "x" * 10):
            with self.subTest(cursor=v):
                r = call("admin", "GET", "/api/v1/units?cursor=" + v)
                harness.expect_problem(self, r, 400, "invalid_query",
                                       {"cursor": "format"})

    def test_cursor_not_from_next_cursor_400(self):
        # Hex, but not even UTF-8 text: no cursor the server gave out.
        for v in ("abcd", "00", "ff" * 20, "c3"):
            with self.subTest(cursor=v):
                r = call("admin", "GET", "/api/v1/units?cursor=" + v)
                harness.expect_problem(self, r, 400, "invalid_query",
                                       {"cursor": "format"})

    def test_bad_parent_id_filter_400(self):
        r = call("admin", "GET", "/api/v1/units?parent_id=not-a-uuid")
        harness.expect_problem(self, r, 400, "invalid_query",
                               {"parent_id": "format"})


# --- creating ---------------------------------------------------------------

class Create(unittest.TestCase):

    def test_create(self):
        c = code("doi")
        rid = "create-" + secrets.token_hex(6)
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-2"], "kind": "other", "code": c,
            "name": "Tổ tự quản số 1"}, headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 201, r.describe())
        doc = r.json()
        self.assertEqual(r.headers.get("Location"),
                         "/api/v1/units/" + doc["id"])
        self.assertEqual(r.headers.get("ETag"), '"1"')
        self.assertEqual({k: doc[k] for k in ("parent_id", "kind", "code",
                                              "name", "depth", "active",
                                              "sample", "version")},
                         {"parent_id": U["thon-2"], "kind": "other",
                          "code": c, "name": "Tổ tự quản số 1", "depth": 4,
                          "active": True, "sample": False, "version": 1})
        self.assertEqual(doc["created_at"], doc["updated_at"])
        self.assertEqual(get_unit(doc["id"]).json(), doc)
        self.assertEqual(tree()[doc["id"]][:2], (U["thon-2"], 4))
        ev = db().psql("SELECT action, actor_id, request_id, after->>'code' "
                       "FROM audit_events WHERE entity_id = '%s'" % doc["id"])
        self.assertEqual(ev, [("create", db().psql(
            "SELECT id FROM users WHERE username = 'admin'")[0][0], rid,
            c)])
        # Visible to those whose subtree holds it, not to others.
        self.assertEqual(get_unit(doc["id"], "leader").json()["id"],
                         doc["id"])
        r = call("officer", "GET", "/api/v1/units/" + doc["id"])
        harness.expect_problem(self, r, 404, "not_found")

    def test_create_sample(self):
        r = create(U["thon-2"], sample=True)
        self.assertTrue(r.json()["sample"])

    def test_boundaries(self):
        r = create(U["thon-2"], name="N" * 300)
        self.assertEqual(len(r.json()["name"]), 300)
        r = create(U["thon-2"], name="Đ")
        self.assertEqual(r.json()["name"], "Đ")
        # 300 characters, 600 bytes.
        r = create(U["thon-2"], name="ư" * 300)
        self.assertEqual(r.json()["name"], "ư" * 300)
        long_code = "c" + secrets.token_hex(4) + "x" * 55
        self.assertEqual(len(long_code), 64)
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-2"], "kind": "other", "code": long_code,
            "name": "Mã dài"})
        self.assertEqual(r.status, 201, r.describe())
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-2"], "kind": "other", "code": "7",
            "name": "Mã một ký tự"})
        self.assertEqual(r.status, 201, r.describe())

    def test_code_with_a_dot(self):
        # The documented pattern ^[a-z0-9][a-z0-9._-]*$ allows dots.
        c = "to." + secrets.token_hex(3)
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-2"], "kind": "other", "code": c,
            "name": "Tổ có dấu chấm"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["code"], c)

    def test_code_unique_among_siblings_only(self):
        before = unit_count()
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "village", "code": "thon-1",
            "name": "Thôn trùng mã"})
        harness.expect_problem(self, r, 409, "conflict")
        for name in ("units_code_in_parent", "_pkey", "_key", "_fkey"):
            self.assertNotIn(name, r.text())
        self.assertEqual(unit_count(), before)
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-2"], "kind": "village", "code": "thon-1",
            "name": "Cùng mã, cha khác"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(unit_count(), before + 1)

    def test_invalid_bodies_422(self):
        ok = {"parent_id": U["thon-2"], "kind": "office", "code": "ok-code",
              "name": "Tên"}
        cases = [
            ({}, {"parent_id": "required", "kind": "required",
                  "code": "required", "name": "required"}),
            ({"parent_id": 5, "kind": 1, "code": [], "name": {},
              "sample": "yes"},
             {"parent_id": "type", "kind": "type", "code": "type",
              "name": "type", "sample": "type"}),
            ({"parent_id": "x", "kind": "city", "code": "Bad Code",
              "name": ""},
             {"parent_id": "format", "kind": "enum", "code": "format",
              "name": "length"}),
            (dict(ok, name="N" * 301), {"name": "length"}),
            (dict(ok, code="c" * 65), {"code": "length"}),
            (dict(ok, code="-lead"), {"code": "format"}),
            (dict(ok, code="HOA"), {"code": "format"}),
            (dict(ok, code="dấu"), {"code": "format"}),
            (dict(ok, code=""), {"code": "length"}),
            (dict(ok, name=None), {"name": "null"}),
            (dict(ok, parent_id=None), {"parent_id": "null"}),
            (dict(ok, sample=None), {"sample": "null"}),
            (dict(ok, colour="đỏ"), {"colour": "unknown"}),
            (dict(ok, active=True), {"active": "unknown"}),
            (dict(ok, id=str(uuid.uuid4())), {"id": "unknown"}),
            (dict(ok, depth=2, version=1), {"depth": "unknown",
                                            "version": "unknown"}),
        ]
        before = unit_count()
        for body, fields in cases:
            with self.subTest(body=json.dumps(body, ensure_ascii=False)[:70]):
                r = call("admin", "POST", "/api/v1/units", body=body)
                harness.expect_problem(self, r, 422, "invalid_body", fields)
        self.assertEqual(unit_count(), before)

    def test_unknown_or_unusable_parent_422(self):
        inactive = create(U["thon-3"]).json()["id"]
        self.assertEqual(patch(inactive, {"active": False}).status, 200)
        before = unit_count()
        for parent in (str(uuid.uuid4()), inactive):
            with self.subTest(parent=parent):
                r = call("admin", "POST", "/api/v1/units", body={
                    "parent_id": parent, "kind": "office", "code": code(),
                    "name": "Mồ côi"})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"parent_id": "unknown"})
        self.assertEqual(unit_count(), before)

    def test_bad_requests(self):
        path = "/api/v1/units"
        valid = json.dumps({"parent_id": U["thon-2"], "kind": "office",
                            "code": code(), "name": "Tên"}).encode()
        before = unit_count()
        cases = [
            (b'{"parent_id": "x",', "application/json", 400,
             "malformed_json"),
            (b'{"a":1} trailing', "application/json", 400, "malformed_json"),
            (b'[1, 2]', "application/json", 400, "body_not_object"),
            (b'"unit"', "application/json", 400, "body_not_object"),
            (b'', "application/json", 400, "body_required"),
            (valid, "text/plain", 415, "unsupported_media_type"),
            (valid, "application/xml", 415, "unsupported_media_type"),
            (valid, None, 415, "unsupported_media_type"),
            (b'{"name": "' + b"x" * 17000 + b'"}', "application/json", 413,
             "payload_too_large"),
        ]
        for raw, ctype, status, problem in cases:
            with self.subTest(problem=problem, ctype=ctype):
                headers = {"Content-Type": ctype} if ctype else {}
                r = call("admin", "POST", path, raw=raw, headers=headers)
                doc = harness.expect_problem(self, r, status, problem)
                if problem == "malformed_json":
                    self.assertRegex(doc["detail"], r"line \d+")
                    self.assertRegex(doc["detail"], r"column \d+")
        # application/json with parameters is still JSON.
        r = call("admin", "POST", path, raw=valid, headers={
            "Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(unit_count(), before + 1)

    def test_commune_admin_creates_only_inside(self):
        r = call("xa-admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "office", "code": code(),
            "name": "Ban của xã"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["parent_id"], U["commune"])
        before = unit_count()
        for parent in (U["province"], U["so-noi-vu"]):
            with self.subTest(parent=parent):
                r = call("xa-admin", "POST", "/api/v1/units", body={
                    "parent_id": parent, "kind": "office", "code": code(),
                    "name": "Ngoài phạm vi"})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"parent_id": "unknown"})
        self.assertEqual(unit_count(), before)


# --- changing ---------------------------------------------------------------

class Update(unittest.TestCase):

    def test_rename(self):
        r = create(U["thon-2"], name="Trước")
        doc = r.json()
        p = patch(doc["id"], {"name": "Sau", "sample": True},
                  etag=r.headers["ETag"])
        self.assertEqual(p.status, 200, p.describe())
        new = p.json()
        self.assertEqual((new["name"], new["sample"], new["version"]),
                         ("Sau", True, 2))
        self.assertEqual(p.headers.get("ETag"), '"2"')
        self.assertEqual(new["created_at"], doc["created_at"])
        self.assertGreater(new["updated_at"], doc["updated_at"])
        self.assertEqual((new["code"], new["kind"], new["parent_id"]),
                         (doc["code"], doc["kind"], doc["parent_id"]))
        self.assertEqual(get_unit(doc["id"]).json(), new)

    def test_if_match(self):
        r = create(U["thon-2"])
        uid = r.json()["id"]
        path = "/api/v1/units/" + uid
        x = call("admin", "PATCH", path, body={"name": "Không If-Match"})
        harness.expect_problem(self, x, 428, "precondition_required")
        for bad in ('"2"', '"0"', "1", "abc", '"1', "*", '""', '"a"'):
            with self.subTest(if_match=bad):
                x = call("admin", "PATCH", path, body={"name": "Sai"},
                         headers={"If-Match": bad})
                harness.expect_problem(self, x, 412, "precondition_failed")
        self.assertEqual(get_unit(uid).json()["version"], 1)
        ok = call("admin", "PATCH", path, body={"name": "Đúng"},
                  headers={"If-Match": '"1"'})
        self.assertEqual(ok.status, 200, ok.describe())
        stale = call("admin", "PATCH", path, body={"name": "Cũ"},
                     headers={"If-Match": '"1"'})
        harness.expect_problem(self, stale, 412, "precondition_failed")
        self.assertEqual(get_unit(uid).json()["name"], "Đúng")

    def test_invalid_patches(self):
        r = create(U["thon-2"])
        uid = r.json()["id"]
        path = "/api/v1/units/" + uid
        h = {"If-Match": r.headers["ETag"]}
        cases = [
            ({"name": 5}, 422, "invalid_body", {"name": "type"}),
            ({"kind": "city"}, 422, "invalid_body", {"kind": "enum"}),
            ({"code": "A B"}, 422, "invalid_body", {"code": "format"}),
            ({"active": "no"}, 422, "invalid_body", {"active": "type"}),
            ({"parent_id": None}, 422, "invalid_body", {"parent_id": "null"}),
            ({"name": None}, 422, "invalid_body", {"name": "null"}),
            ({"colour": "xanh"}, 422, "invalid_body", {"colour": "unknown"}),
            ({"id": uid}, 422, "invalid_body", {"id": "unknown"}),
            ({"depth": 1}, 422, "invalid_body", {"depth": "unknown"}),
            ({}, 422, "empty_patch", None),
        ]
        for body, status, problem, fields in cases:
            with self.subTest(body=body):
                x = call("admin", "PATCH", path, body=body, headers=h)
                harness.expect_problem(self, x, status, problem, fields)
        raws = [
            (b'{"name": ', "application/json", 400, "malformed_json"),
            (b'[]', "application/json", 400, "body_not_object"),
            (b'', "application/json", 400, "body_required"),
            (b'{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
            (b'{"name": "' + b"x" * 17000 + b'"}', "application/json", 413,
             "payload_too_large"),
        ]
        for raw, ctype, status, problem in raws:
            with self.subTest(problem=problem):
                x = call("admin", "PATCH", path, raw=raw,
                         headers=dict(h, **{"Content-Type": ctype}))
                harness.expect_problem(self, x, status, problem)
        self.assertEqual(get_unit(uid).json()["version"], 1)

    def test_duplicate_code_409(self):
        a = create(U["thon-2"]).json()
        b = create(U["thon-2"]).json()
        x = patch(b["id"], {"code": a["code"]})
        harness.expect_problem(self, x, 409, "conflict")
        self.assertNotIn("units_code_in_parent", x.text())
        self.assertEqual(get_unit(b["id"]).json()["code"], b["code"])

    def test_unknown_id_404(self):
        x = call("admin", "PATCH", "/api/v1/units/" + str(uuid.uuid4()),
                 body={"name": "Không có"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, x, 404, "not_found")

    def test_admins_change_only_units_strictly_below(self):
        # The province admin and its own unit.
        x = call("admin", "PATCH", "/api/v1/units/" + U["province"],
                 body={"name": "Tỉnh mới"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, x, 404, "not_found")
        # The commune admin: its own unit, above it, beside it.
        for uid in (U["commune"], U["province"], U["so-noi-vu"]):
            with self.subTest(unit=uid):
                x = call("xa-admin", "PATCH", "/api/v1/units/" + uid,
                                     body={"name": "Chiếm"},
                                     headers={"If-Match": '"1"'})
                harness.expect_problem(self, x, 404, "not_found")
                x = call("xa-admin", "DELETE", "/api/v1/units/" + uid,
                                     headers={"If-Match": '"1"'})
                harness.expect_problem(self, x, 404, "not_found")
        names = db().psql("SELECT name FROM units WHERE id IN ('%s', '%s', "
                          "'%s') ORDER BY id" % (U["province"], U["so-noi-vu"],
                                                 U["commune"]))
        self.assertEqual(names, [("UBND tỉnh Quảng Ngãi",),
                                 ("Sở Nội vụ tỉnh Quảng Ngãi",),
                                 ("UBND xã Bình Chương",)])
        # Strictly below: allowed.
        uid = create(U["thon-3"]).json()["id"]
        x = call("xa-admin", "PATCH", "/api/v1/units/" + uid,
                             body={"name": "Xã đổi"},
                             headers={"If-Match": '"1"'})
        self.assertEqual(x.status, 200, x.describe())
        self.assertEqual(x.json()["name"], "Xã đổi")
        leaf = create(U["commune"]).json()["id"]
        x = call("xa-admin", "DELETE", "/api/v1/units/" + leaf,
                             headers={"If-Match": '"1"'})
        self.assertEqual(x.status, 204, x.describe())

    def test_deactivated_unit_takes_no_children(self):
        uid = create(U["thon-2"]).json()["id"]
        self.assertEqual(patch(uid, {"active": False}).status, 200)
        r = create(uid, expect=422)
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"parent_id": "unknown"})
        self.assertTrue(patch(uid, {"active": True}).json()["active"])
        self.assertEqual(create(uid).json()["parent_id"], uid)


class Move(unittest.TestCase):

    def setUp(self):
        self.a = create(U["commune"], name="Khối A").json()
        self.b = create(self.a["id"], name="Khối B").json()
        self.c = create(self.b["id"], name="Khối C").json()

    def depths(self):
        return [get_unit(x["id"]).json()["depth"]
                for x in (self.a, self.b, self.c)]

    def test_move_carries_the_subtree(self):
        self.assertEqual(self.depths(), [3, 4, 5])
        r = patch(self.a["id"], {"parent_id": U["thon-2"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.json()["parent_id"], r.json()["depth"],
                          r.json()["version"]), (U["thon-2"], 4, 2))
        self.assertEqual(self.depths(), [4, 5, 6])
        t = tree()
        for x in (self.a, self.b, self.c):
            self.assertEqual(get_unit(x["id"]).json()["depth"],
                             t[x["id"]][1])
        items, _ = walk("admin", "parent_id=" + U["thon-2"])
        self.assertIn(self.a["id"], [u["id"] for u in items])
        # Scope follows: the moved units are below thon 2 now.
        items, _ = walk("admin", "q=khoi")
        self.assertTrue({self.a["id"], self.b["id"], self.c["id"]} <=
                        {u["id"] for u in items})
        # Out of the commune altogether: the leader loses sight of them.
        r = patch(self.a["id"], {"parent_id": U["so-noi-vu"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(self.depths(), [3, 4, 5])
        for x in (self.a, self.b, self.c):
            r = call("leader", "GET", "/api/v1/units/" + x["id"])
            harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(get_unit(self.c["id"], "service").json()["depth"], 5)

    def test_move_bumps_the_versions_below(self):
        self.assertEqual(patch(self.a["id"], {"parent_id": U["thon-3"]})
                         .status, 200)
        b = get_unit(self.b["id"])
        self.assertEqual((b.json()["parent_id"], b.json()["version"],
                          b.json()["depth"]), (self.a["id"], 2, 5))
        self.assertEqual(b.headers["ETag"], '"2"')
        self.assertEqual(get_unit(self.c["id"]).json()["version"], 2)
        # The old version of a unit below no longer passes If-Match.
        r = call("admin", "PATCH", "/api/v1/units/" + self.c["id"],
                 body={"name": "Cũ"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 412, "precondition_failed")

    def test_child_etag_changes_with_its_depth(self):
        # The child's representation changes (depth); its ETag must too.
        before = get_unit(self.b["id"])
        self.assertEqual(patch(self.a["id"], {"parent_id": U["thon-3"]})
                         .status, 200)
        r = call("admin", "GET", "/api/v1/units/" + self.b["id"],
                 headers={"If-None-Match": before.headers["ETag"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["depth"], before.json()["depth"] + 1)

    def test_no_move_into_its_own_subtree(self):
        # Under itself, its child or its grandchild.
        for target in (self.a["id"], self.b["id"], self.c["id"]):
            with self.subTest(target=target):
                r = patch(self.a["id"], {"parent_id": target})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"parent_id": "unknown"})
        self.assertEqual(self.depths(), [3, 4, 5])
        self.assertEqual(get_unit(self.a["id"]).json()["version"], 1)

    def test_no_move_to_an_unusable_parent(self):
        inactive = create(U["thon-4"]).json()["id"]
        self.assertEqual(patch(inactive, {"active": False}).status, 200)
        for target in (inactive, str(uuid.uuid4())):
            with self.subTest(target=target):
                r = patch(self.a["id"], {"parent_id": target})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"parent_id": "unknown"})
        # The commune admin cannot move a unit out of its subtree.
        r = call("xa-admin", "PATCH", "/api/v1/units/" + self.a["id"],
                             body={"parent_id": U["so-noi-vu"]},
                             headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"parent_id": "unknown"})
        self.assertEqual(tree()[self.a["id"]][:2], (U["commune"], 3))

    def test_same_parent_is_no_move(self):
        r = patch(self.b["id"], {"parent_id": self.a["id"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.json()["depth"], r.json()["version"]), (4, 2))
        self.assertEqual(self.depths(), [3, 4, 5])


class Delete(unittest.TestCase):

    def delete(self, uid, etag='"1"', role="admin"):
        return call(role, "DELETE", "/api/v1/units/" + uid,
                    headers={"If-Match": etag} if etag else {})

    def test_delete_a_fresh_leaf(self):
        r = create(U["thon-4"])
        uid = r.json()["id"]
        rid = "del-" + secrets.token_hex(6)
        x = call("admin", "DELETE", "/api/v1/units/" + uid,
                 headers={"If-Match": r.headers["ETag"], "X-Request-Id": rid})
        self.assertEqual(x.status, 204, x.describe())
        self.assertEqual(x.body, b"")
        harness.expect_problem(self, call("admin", "GET",
                                          "/api/v1/units/" + uid), 404,
                               "not_found")
        self.assertEqual(db().psql("SELECT count(*) FROM units WHERE id = "
                                   "'%s'" % uid), [("0",)])
        ev = db().psql("SELECT action, before->>'id', after IS NULL "
                       "FROM audit_events WHERE entity_id = '%s' AND "
                       "request_id = '%s'" % (uid, rid))
        self.assertEqual(ev, [("delete", uid, "t")])
        # Gone: a second delete finds nothing.
        harness.expect_problem(self, self.delete(uid), 404, "not_found")

    def test_units_in_use_409(self):
        parent = create(U["thon-4"]).json()["id"]
        create(parent)
        with_user = create(U["thon-4"]).json()["id"]
        harness.new_user(with_user, "viewer", "nguoi", "Người ở đây",
                         signed_in=False)
        with_sa = create(U["thon-4"]).json()["id"]
        r = call("admin", "POST", "/api/v1/service-accounts",
                 body={"unit_id": with_sa, "name": "Máy"})
        self.assertEqual(r.status, 201, r.describe())
        renamed = create(U["thon-4"]).json()["id"]
        self.assertEqual(patch(renamed, {"name": "Có lịch sử"}).status, 200)
        before = unit_count()
        for uid, etag in ((parent, '"1"'), (with_user, '"1"'),
                          (with_sa, '"1"'), (renamed, '"2"'),
                          (U["thon-1"], '"1"')):
            with self.subTest(unit=uid):
                harness.expect_problem(self, self.delete(uid, etag), 409,
                                       "unit_in_use")
        self.assertEqual(unit_count(), before)

    def test_preconditions(self):
        uid = create(U["thon-4"]).json()["id"]
        harness.expect_problem(self, self.delete(uid, None), 428,
                               "precondition_required")
        harness.expect_problem(self, self.delete(uid, '"2"'), 412,
                               "precondition_failed")
        harness.expect_problem(self, self.delete(uid, "soon"), 412,
                               "precondition_failed")
        harness.expect_problem(self, self.delete(str(uuid.uuid4())), 404,
                               "not_found")
        harness.expect_problem(self, self.delete(U["province"]), 404,
                               "not_found")
        x = call("admin", "DELETE", "/api/v1/units/" + uid, raw=b"{}",
                 headers={"If-Match": '"1"',
                          "Content-Type": "application/json"})
        harness.expect_problem(self, x, 413, "payload_too_large")
        self.assertIn(uid, tree())
        self.assertEqual(self.delete(uid).status, 204)


class Idempotency(unittest.TestCase):

    def post(self, body, key, who="admin"):
        h = {"Idempotency-Key": key} if key is not None else {}
        return call(who, "POST", "/api/v1/units", body=body, headers=h)

    def count(self, c):
        return int(db().psql("SELECT count(*) FROM units WHERE code = '%s'"
                             % c)[0][0])

    def body(self, parent=U["thon-3"]):
        return {"parent_id": parent, "kind": "other", "code": code("idem"),
                "name": "Một lần thôi"}

    def test_replay(self):
        body, key = self.body(), "k-" + secrets.token_hex(8)
        first = self.post(body, key)
        self.assertEqual(first.status, 201, first.describe())
        self.assertIsNone(first.headers.get("Idempotent-Replayed"))
        second = self.post(body, key)
        self.assertEqual(second.status, 201, second.describe())
        self.assertEqual(second.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(second.body, first.body)
        self.assertEqual(second.headers.get("Location"),
                         first.headers.get("Location"))
        self.assertEqual(second.headers.get("ETag"),
                         first.headers.get("ETag"))
        self.assertEqual(self.count(body["code"]), 1)
        ev = db().psql("SELECT count(*) FROM audit_events WHERE entity_id = "
                       "'%s'" % first.json()["id"])
        self.assertEqual(ev, [("1",)])

    def test_same_key_other_body_422(self):
        body, key = self.body(), "k-" + secrets.token_hex(8)
        self.assertEqual(self.post(body, key).status, 201)
        other = dict(body, code=code("other"))
        r = self.post(other, key)
        harness.expect_problem(self, r, 422, "idempotency_key_reused")
        self.assertEqual(self.count(other["code"]), 0)
        # The same key on another route is another request, too.
        r = call("admin", "POST", "/api/v1/users", body={},
                 headers={"Idempotency-Key": key})
        harness.expect_problem(self, r, 422, "idempotency_key_reused")

    def test_without_the_key_a_repeat_is_a_second_create(self):
        body = self.body()
        self.assertEqual(self.post(body, "k-" + secrets.token_hex(8)).status,
                         201)
        r = self.post(body, "k-" + secrets.token_hex(8))
        harness.expect_problem(self, r, 409, "conflict")
        r = self.post(body, None)
        harness.expect_problem(self, r, 409, "conflict")
        self.assertEqual(self.count(body["code"]), 1)

    def test_keys_belong_to_their_caller(self):
        body, key = self.body(U["commune"]), "k-" + secrets.token_hex(8)
        self.assertEqual(self.post(body, key).status, 201)
        r = self.post(body, key, "xa-admin")
        harness.expect_problem(self, r, 409, "conflict")
        self.assertIsNone(r.headers.get("Idempotent-Replayed"))

    def test_a_failed_request_is_not_remembered(self):
        key = "k-" + secrets.token_hex(8)
        bad = dict(self.body(), kind="city")
        harness.expect_problem(self, self.post(bad, key), 422,
                               "invalid_body", {"kind": "enum"})
        good = self.body()
        r = self.post(good, key)
        self.assertEqual(r.status, 201, r.describe())
        self.assertIsNone(r.headers.get("Idempotent-Replayed"))
        self.assertEqual(self.count(good["code"]), 1)

    def test_bad_keys_400(self):
        before = unit_count()
        for key in ("", "has space", "k" * 129, "tab\tkey", "đ"):
            with self.subTest(key=key[:20]):
                r = self.post(self.body(), key.encode("utf-8").decode(
                    "latin-1"))
                harness.expect_problem(self, r, 400,
                                       "invalid_idempotency_key")
        self.assertEqual(unit_count(), before)
        r = self.post(self.body(), "k" * 128)
        self.assertEqual(r.status, 201, r.describe())

    def test_concurrent_repeats_create_once(self):
        body, key = self.body(), "k-" + secrets.token_hex(8)
        results = []

        def worker():
            try:
                results.append(self.post(body, key))
            except Exception as e:  # noqa: BLE001 - reported below
                results.append(e)

        threads = [threading.Thread(target=worker) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 5)
        for r in results:
            self.assertNotIsInstance(r, Exception)
            self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(len({r.body for r in results}), 1)
        self.assertEqual(sum(r.headers.get("Idempotent-Replayed") == "true"
                             for r in results), 4)
        self.assertEqual(self.count(body["code"]), 1)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
