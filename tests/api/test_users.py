"""Users over HTTP: who may read whom (the caller's subtree), search and
pages, creating users with the password rules, changing them, and bad input
of every kind. No password or hash ever comes back."""

import base64
import json
import secrets
import unicodedata
import unittest
import uuid
from urllib.parse import quote

import harness
from harness import CHECK, U, Bearer, call, db, srv, strong_password

USER_FIELDS = {"id", "unit_id", "username", "full_name", "role", "active",
               "version", "created_at", "updated_at"}


def build():
    # A commune-level administrator: call("xa-admin", ...).
    harness.new_user(U["commune"], "admin", "xa-admin", name="xa-admin")


setUpModule, tearDownModule = harness.fixtures(build)


def new_username(prefix="u"):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def get_user(uid, role="admin"):
    r = call(role, "GET", "/api/v1/users/" + uid)
    CHECK.assertEqual(r.status, 200, r.describe())
    return r


def patch(uid, changes, etag=None, role="admin"):
    if etag is None:
        etag = get_user(uid).headers["ETag"]
    return call(role, "PATCH", "/api/v1/users/" + uid, body=changes,
                headers={"If-Match": etag})


def user_count():
    return int(db().psql("SELECT count(*) FROM users")[0][0])


def users_below(unit):
    """Ids of the users whose unit is `unit` or below it, by parent_id."""
    rows = db().psql(
        "WITH RECURSIVE t AS (SELECT id FROM units WHERE id = '%s' UNION ALL "
        "SELECT u.id FROM units u JOIN t ON u.parent_id = t.id) "
        "SELECT s.id FROM users s JOIN t ON s.unit_id = t.id" % unit)
    return {r[0] for r in rows}


def fold(s):
    """Lower case without diacritics (đ too), as search compares."""
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if unicodedata.category(c) != "Mn").lower()


def walk(who, query="", limit=200):
    """Every page of GET /users?query as `who`; (items, pages)."""
    pages = harness.pages(who, "/api/v1/users", query, limit)
    return [u for page in pages for u in page], pages


def all_users():
    rows = db().psql("SELECT id, username, full_name, role, active::text, "
                     "unit_id FROM users")
    return {r[0]: {"username": r[1], "full_name": r[2], "role": r[3],
                   "active": r[4] == "true", "unit_id": r[5]} for r in rows}


# --- reading ---------------------------------------------------------------

class Read(unittest.TestCase):

    def test_admin_lists_every_user(self):
        items, _ = walk("admin")
        db_users = all_users()
        self.assertEqual({u["id"] for u in items}, set(db_users))
        self.assertEqual(len(items), len(db_users))
        for u in items:
            self.assertEqual(set(u), USER_FIELDS)
            want = db_users[u["id"]]
            self.assertEqual({k: u[k] for k in want}, want)
        names = [u["username"] for u in items]
        self.assertEqual(names, sorted(names))
        xem = next(u for u in items if u["username"] == "xem")
        self.assertEqual((xem["role"], xem["unit_id"], xem["full_name"],
                          xem["active"]),
                         ("viewer", U["commune"], "Người xem (mẫu)", True))

    def test_each_reader_sees_its_subtree(self):
        for role in ("admin", "leader", "coordinator"):
            with self.subTest(role=role):
                own = harness.demo_account(role)["unit_id"]
                items, _ = walk(role)
                self.assertEqual({u["id"] for u in items}, users_below(own))
        items, _ = walk("leader")
        names = {u["username"] for u in items}
        self.assertTrue({"lanhdao", "kiemtra", "xem", "vhxh", "thon1"} <=
                        names)
        self.assertNotIn("admin", names)
        items, _ = walk("coordinator")
        self.assertIn("vhxh", {u["username"] for u in items})
        self.assertTrue(all(u["unit_id"] == U["phong-vh-xh"] for u in items))

    def test_outside_the_subtree_is_404(self):
        ref = harness.expect_problem(self, call(
            "coordinator", "GET", "/api/v1/users/" + str(uuid.uuid4())),
            404, "not_found")
        for role, target in (("coordinator", "leader"),
                             ("coordinator", "viewer"),
                             ("coordinator", "admin"),
                             ("leader", "admin")):
            with self.subTest(role=role, target=target):
                r = call(role, "GET",
                         "/api/v1/users/" + harness.demo_user_id(target))
                doc = harness.expect_problem(self, r, 404, "not_found")
                self.assertEqual((doc["title"], doc["detail"]),
                                 (ref["title"], ref["detail"]))
        r = get_user(harness.demo_user_id("viewer"), "leader")
        self.assertEqual(r.json()["username"], "xem")
        r = get_user(harness.demo_user_id("coordinator"), "coordinator")
        self.assertEqual(r.json()["username"], "vhxh")
        # Filtering on a unit outside the subtree finds nobody.
        items, _ = walk("coordinator", "unit_id=" + U["commune"])
        self.assertEqual(items, [])

    def test_get_with_etag(self):
        r = get_user(harness.demo_user_id("officer"))
        doc = r.json()
        self.assertEqual(set(doc), USER_FIELDS)
        self.assertEqual((doc["username"], doc["unit_id"], doc["role"]),
                         ("thon1", U["thon-1"], "officer"))
        self.assertEqual(r.headers["ETag"], '"%d"' % doc["version"])
        r2 = call("admin", "GET", "/api/v1/users/" + doc["id"],
                  headers={"If-None-Match": r.headers["ETag"]})
        self.assertEqual(r2.status, 304, r2.describe())
        self.assertEqual(r2.body, b"")

    def test_malformed_or_unknown_id_404(self):
        for bad in ("nope", str(uuid.uuid4())):
            with self.subTest(id=bad):
                harness.expect_problem(self, call(
                    "admin", "GET", "/api/v1/users/" + bad), 404, "not_found")

    def test_filters(self):
        db_users = all_users()
        items, _ = walk("admin", "role=viewer")
        self.assertEqual({u["id"] for u in items},
                         {i for i, u in db_users.items()
                          if u["role"] == "viewer"})
        self.assertIn("xem", [u["username"] for u in items])
        items, _ = walk("admin", "unit_id=" + U["thon-1"])
        self.assertEqual({u["id"] for u in items},
                         {i for i, u in db_users.items()
                          if u["unit_id"] == U["thon-1"]})
        self.assertIn("thon1", [u["username"] for u in items])
        items, _ = walk("admin", "active=false")
        self.assertEqual({u["id"] for u in items},
                         {i for i, u in db_users.items() if not u["active"]})

    def test_search(self):
        # Full name without case or diacritics, or a piece of the username;
        # LIKE's own characters are plain characters.
        db_users = all_users()
        cases = [("kiemtra", {"kiemtra"}), ("KIEM", {"kiemtra"}),
                 ("lanh dao", {"lanhdao"}), ("LÃNH ĐẠO", {"lanhdao"}),
                 ("nguoi xem", {"xem"}), ("%", set()), ("_", set()),
                 ("(mau)", {"admin", "lanhdao", "vhxh", "kiemtra", "thon1",
                            "xem"})]
        for text, seeded in cases:
            with self.subTest(q=text):
                items, _ = walk("admin", "q=" + quote(text))
                got = {u["username"] for u in items}
                want = {u["username"] for u in db_users.values()
                        if fold(text) in fold(u["full_name"])
                        or fold(text) in u["username"]}
                self.assertEqual(got, want)
                self.assertTrue(seeded <= got, seeded - got)
        items, _ = walk("coordinator", "q=lanh")
        self.assertEqual(items, [])

    def test_pages(self):
        full, _ = walk("admin")
        items, pages = walk("admin", limit=2)
        self.assertEqual([u["id"] for u in items], [u["id"] for u in full])
        self.assertEqual(len(set(u["id"] for u in items)), len(items))
        self.assertTrue(all(len(p) == 2 for p in pages[:-1]))
        self.assertEqual(len(pages), (len(items) + 1) // 2)

    def test_bad_queries_400(self):
        cases = [("limit=0", {"limit": "range"}),
                 ("limit=201", {"limit": "range"}),
                 ("limit=x", {"limit": "range"}),
                 ("cursor=xyz", {"cursor": "format"}),
                 ("cursor=abc", {"cursor": "format"}),
                 ("cursor=ffff", {"cursor": "format"}),
                 ("active=maybe", {"active": "type"}),
                 ("role=root", {"role": "enum"}),
                 ("role=service", {"role": "enum"}),
                 ("unit_id=thon-1", {"unit_id": "format"})]
        for query, fields in cases:
            with self.subTest(query=query):
                r = call("admin", "GET", "/api/v1/users?" + query)
                harness.expect_problem(self, r, 400, "invalid_query", fields)


# --- creating ---------------------------------------------------------------

class Create(unittest.TestCase):

    def post(self, body, role="admin", headers=None):
        return call(role, "POST", "/api/v1/users", body=body, headers=headers)

    def valid(self, **over):
        body = {"unit_id": U["thon-2"], "username": new_username(),
                "full_name": "Trần Thị Bình", "role": "officer",
                "password": strong_password()}
        body.update(over)
        return body

    def test_create(self):
        body = self.valid()
        rid = "user-create-" + secrets.token_hex(6)
        r = self.post(body, headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 201, r.describe())
        doc = r.json()
        self.assertEqual(set(doc), USER_FIELDS)
        self.assertEqual({k: doc[k] for k in ("unit_id", "username",
                                              "full_name", "role", "active",
                                              "version")},
                         {"unit_id": U["thon-2"], "username": body["username"],
                          "full_name": "Trần Thị Bình", "role": "officer",
                          "active": True, "version": 1})
        self.assertEqual(r.headers.get("Location"),
                         "/api/v1/users/" + doc["id"])
        self.assertEqual(r.headers.get("ETag"), '"1"')
        self.assertEqual(get_user(doc["id"]).json(), doc)
        # The password works, and only an Argon2id hash of it is stored.
        tok = harness.sign_in(body["username"],
                              body["password"])["access_token"]
        claims = json.loads(base64.urlsafe_b64decode(
            tok.split(".")[1] + "=="))
        self.assertEqual((claims["sub"], claims["role"], claims["unit"]),
                         (doc["id"], "officer", U["thon-2"]))
        r = call(Bearer(tok), "GET", "/api/v1/units/" + U["thon-2"])
        self.assertEqual(r.status, 200, r.describe())
        stored = db().psql("SELECT password_hash FROM users WHERE id = '%s'"
                           % doc["id"])[0][0]
        self.assertTrue(stored.startswith("$argon2id$v=19$m=65536,t=3,"),
                        stored[:40])
        self.assertNotIn(body["password"], stored)
        ev = db().psql("SELECT action, request_id, after ? 'password_hash', "
                       "after->>'username' FROM audit_events WHERE "
                       "entity_id = '%s'" % doc["id"])
        self.assertEqual(ev, [("create", rid, "f", body["username"])])

    def test_username_rules(self):
        for name in ("abc", "a.b", "a_b-c.9", "0" + "x" * 63):
            with self.subTest(username=name):
                body = self.valid(username=name + (
                    "" if len(name) == 64 else secrets.token_hex(2)))
                r = self.post(body)
                self.assertEqual(r.status, 201, r.describe())
                self.assertEqual(r.json()["username"], body["username"])

    def test_invalid_bodies_422(self):
        cases = [
            ({}, {"unit_id": "required", "username": "required",
                  "full_name": "required", "role": "required",
                  "password": "required"}),
            ({"unit_id": 1, "username": 2, "full_name": [], "role": {},
              "password": 3.5},
             {"unit_id": "type", "username": "type", "full_name": "type",
              "role": "type", "password": "type"}),
            (self.valid(unit_id="thon-1"), {"unit_id": "format"}),
            (self.valid(username="AB1"), {"username": "format"}),
            (self.valid(username="ab"), {"username": "length"}),
            (self.valid(username="-abc"), {"username": "format"}),
            (self.valid(username="tên-người"), {"username": "format"}),
            (self.valid(username="a b c"), {"username": "format"}),
            (self.valid(username="a" * 65), {"username": "length"}),
            (self.valid(full_name=""), {"full_name": "length"}),
            (self.valid(full_name="Đ" * 201), {"full_name": "length"}),
            (self.valid(role="root"), {"role": "enum"}),
            (self.valid(role="service"), {"role": "enum"}),
            (self.valid(role="Admin"), {"role": "enum"}),
            (self.valid(full_name=None), {"full_name": "null"}),
            (self.valid(email="a@b.vn"), {"email": "unknown"}),
            (self.valid(password_hash="$argon2id$x"),
             {"password_hash": "unknown"}),
            (self.valid(id=str(uuid.uuid4())), {"id": "unknown"}),
        ]
        before = user_count()
        for body, fields in cases:
            with self.subTest(body=json.dumps(body, ensure_ascii=False)[:80]):
                harness.expect_problem(self, self.post(body), 422,
                                       "invalid_body", fields)
        self.assertEqual(user_count(), before)

    def test_active_is_not_a_create_field(self):
        # A new user is created active; `active` is not among its fields.
        body = self.valid(active=False)
        r = self.post(body)
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"active": "unknown"})
        self.assertEqual(db().psql("SELECT count(*) FROM users WHERE "
                                   "username = '%s'" % body["username"]),
                         [("0",)])

    def test_weak_passwords_422(self):
        name = new_username("pw")
        weak = [
            "short-pw1",               # 9 characters
            "Ngắn-ngắn",               # 9 characters, 13 bytes
            "1234567890",              # common
            "Password123",             # common, whatever its case
            "MATKHAU123",
            "quangngai123",
            "xx" + name + "-2026!",    # contains the username
            "Z" + name.upper() + "#9",
            "aaaaaaaaaaaa",            # one character repeated
            "ệ" * 86 + "abc",          # 89 characters but 261 bytes
        ]
        before = user_count()
        for pw in weak:
            with self.subTest(password=pw[:30]):
                r = self.post(self.valid(username=name, password=pw))
                harness.expect_problem(self, r, 422, "invalid_body",
                                       {"password": "weak"})
        r = self.post(self.valid(username=name, password="x" * 257))
        doc = harness.expect_problem(self, r, 422, "invalid_body")
        self.assertEqual([e["field"] for e in doc["errors"]], ["password"])
        self.assertIn(doc["errors"][0]["code"], ("length", "weak"))
        self.assertEqual(user_count(), before)
        # Right at the limits: 10 characters; 256 bytes.
        for pw in ("Ab3$efgh9K", "ệ" * 85 + "a"):
            with self.subTest(password=pw[:20]):
                r = self.post(self.valid(password=pw))
                self.assertEqual(r.status, 201, r.describe())

    def test_repeated_multibyte_character_is_weak(self):
        # "not one character repeated" holds for characters, not bytes.
        for pw in ("đđđđđđđđđđđđ", "ệệệệệệệệệệ"):
            with self.subTest(password=pw):
                body = self.valid(password=pw)
                r = self.post(body)
                harness.expect_problem(self, r, 422, "invalid_body",
                                       {"password": "weak"})

    def test_unit_must_be_active_and_in_scope(self):
        inactive = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-2"], "kind": "other",
            "code": "tam-" + secrets.token_hex(3), "name": "Tạm"})
        self.assertEqual(inactive.status, 201, inactive.describe())
        r = call("admin", "PATCH", "/api/v1/units/" + inactive.json()["id"],
                 body={"active": False}, headers={"If-Match": '"1"'})
        self.assertEqual(r.status, 200, r.describe())
        before = user_count()
        for unit in (str(uuid.uuid4()), inactive.json()["id"]):
            with self.subTest(unit=unit):
                harness.expect_problem(self, self.post(self.valid(
                    unit_id=unit)), 422, "invalid_reference",
                    {"unit_id": "unknown"})
        # Above, beside, and the admin's own unit: its users are made from
        # the unit above.
        for unit in (U["province"], U["so-noi-vu"], U["commune"]):
            with self.subTest(commune_admin_unit=unit):
                r = call("xa-admin", "POST", "/api/v1/users",
                         body=self.valid(unit_id=unit))
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"unit_id": "unknown"})
        self.assertEqual(user_count(), before)
        r = call("xa-admin", "POST", "/api/v1/users",
                 body=self.valid(unit_id=U["phong-vh-xh"]))
        self.assertEqual(r.status, 201, r.describe())

    def test_duplicate_username_409(self):
        before = user_count()
        for name in ("admin", "thon1"):
            with self.subTest(username=name):
                r = self.post(self.valid(username=name))
                doc = harness.expect_problem(self, r, 409, "conflict")
                # Said in words; the schema's names stay in the log.
                self.assertEqual(doc["detail"], "another record already "
                                 "holds a value that must be unique")
                for name in ("users_username_key", "_pkey", "_key", "_fkey",
                             "users"):
                    self.assertNotIn(name, r.text())
        self.assertIn("users_username_key", srv().stderr())
        self.assertEqual(user_count(), before)
        # No password hashing is wasted on the request either way; the
        # stored admin is unchanged.
        self.assertEqual(db().psql("SELECT role, unit_id FROM users WHERE "
                                   "username = 'admin'"),
                         [("admin", U["province"])])

    def test_bad_requests(self):
        valid = json.dumps(self.valid()).encode()
        before = user_count()
        cases = [
            (b'{"username": ', "application/json", 400, "malformed_json"),
            (b'[]', "application/json", 400, "body_not_object"),
            (b'', "application/json", 400, "body_required"),
            (valid, "text/plain", 415, "unsupported_media_type"),
            (valid, "application/merge-patch+json", 415,
             "unsupported_media_type"),
            (b'{"full_name": "' + b"x" * 17000 + b'"}', "application/json",
             413, "payload_too_large"),
        ]
        for raw, ctype, status, problem in cases:
            with self.subTest(problem=problem, ctype=ctype):
                r = call("admin", "POST", "/api/v1/users", raw=raw,
                         headers={"Content-Type": ctype})
                harness.expect_problem(self, r, status, problem)
        self.assertEqual(user_count(), before)

    def test_idempotent_create(self):
        body, key = self.valid(), "u-" + secrets.token_hex(8)
        a = self.post(body, headers={"Idempotency-Key": key})
        b = self.post(body, headers={"Idempotency-Key": key})
        self.assertEqual((a.status, b.status), (201, 201))
        self.assertEqual(b.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(a.body, b.body)
        self.assertEqual(db().psql("SELECT count(*) FROM users WHERE "
                                   "username = '%s'" % body["username"]),
                         [("1",)])
        # The stored answer holds no password.
        stored = db().psql("SELECT body FROM idempotency_keys WHERE key = "
                           "'%s'" % key)[0][0]
        self.assertNotIn(body["password"], stored)
        self.assertNotIn("argon2", stored)


# --- changing ---------------------------------------------------------------

class Update(unittest.TestCase):

    def test_change_name_role_and_unit(self):
        user = harness.new_user(signed_in=False).doc
        r = patch(user["id"], {"full_name": "Lê Văn Đổi"}, etag='"1"')
        self.assertEqual(r.status, 200, r.describe())
        doc = r.json()
        self.assertEqual((doc["full_name"], doc["version"]),
                         ("Lê Văn Đổi", 2))
        self.assertEqual(r.headers["ETag"], '"2"')
        self.assertEqual((doc["username"], doc["role"], doc["unit_id"]),
                         (user["username"], user["role"], user["unit_id"]))
        r = patch(user["id"], {"role": "coordinator",
                               "unit_id": U["phong-kinh-te"]}, etag='"2"')
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.json()["role"], r.json()["unit_id"],
                          r.json()["version"]),
                         ("coordinator", U["phong-kinh-te"], 3))
        self.assertEqual(get_user(user["id"]).json(), r.json())

    def test_username_cannot_change(self):
        user = harness.new_user(signed_in=False).doc
        r = patch(user["id"], {"username": new_username()})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"username": "unknown"})
        self.assertEqual(get_user(user["id"]).json()["username"],
                         user["username"])

    def test_invalid_patches(self):
        user = harness.new_user(signed_in=False).doc
        path = "/api/v1/users/" + user["id"]
        h = {"If-Match": '"1"'}
        cases = [
            ({}, 422, "empty_patch", None),
            ({"full_name": None}, 422, "invalid_body", {"full_name": "null"}),
            ({"active": None}, 422, "invalid_body", {"active": "null"}),
            ({"active": "no"}, 422, "invalid_body", {"active": "type"}),
            ({"role": "root"}, 422, "invalid_body", {"role": "enum"}),
            ({"unit_id": "x"}, 422, "invalid_body", {"unit_id": "format"}),
            ({"full_name": ""}, 422, "invalid_body", {"full_name": "length"}),
            ({"nickname": "Bé"}, 422, "invalid_body", {"nickname": "unknown"}),
            ({"version": 5}, 422, "invalid_body", {"version": "unknown"}),
        ]
        for body, status, problem, fields in cases:
            with self.subTest(body=body):
                r = call("admin", "PATCH", path, body=body, headers=h)
                harness.expect_problem(self, r, status, problem, fields)
        raws = [
            (b'{"full_name": "x",}', "application/json", 400,
             "malformed_json"),
            (b'[{"full_name": "x"}]', "application/json", 400,
             "body_not_object"),
            (b'{"full_name": "x"}', "text/plain", 415,
             "unsupported_media_type"),
            (b'{"full_name": "' + b"x" * 17000 + b'"}', "application/json",
             413, "payload_too_large"),
        ]
        for raw, ctype, status, problem in raws:
            with self.subTest(problem=problem):
                r = call("admin", "PATCH", path, raw=raw,
                         headers=dict(h, **{"Content-Type": ctype}))
                harness.expect_problem(self, r, status, problem)
        # merge-patch+json is JSON for PATCH.
        r = call("admin", "PATCH", path, raw=b'{"full_name": "Merge"}',
                 headers=dict(h, **{"Content-Type":
                                    "application/merge-patch+json"}))
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["full_name"], "Merge")

    def test_preconditions_and_unknown_ids(self):
        user = harness.new_user(signed_in=False).doc
        path = "/api/v1/users/" + user["id"]
        r = call("admin", "PATCH", path, body={"full_name": "A"})
        harness.expect_problem(self, r, 428, "precondition_required")
        for bad in ('"2"', "one", '"x1"'):
            with self.subTest(if_match=bad):
                r = call("admin", "PATCH", path, body={"full_name": "A"},
                         headers={"If-Match": bad})
                harness.expect_problem(self, r, 412, "precondition_failed")
        r = call("admin", "PATCH", "/api/v1/users/" + str(uuid.uuid4()),
                 body={"full_name": "A"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(get_user(user["id"]).json()["version"], 1)

    def test_unit_must_be_active_and_in_scope(self):
        user = harness.new_user(U["thon-3"], signed_in=False).doc
        for unit in (str(uuid.uuid4()),):
            r = patch(user["id"], {"unit_id": unit})
            harness.expect_problem(self, r, 422, "invalid_reference",
                                   {"unit_id": "unknown"})
        r = call("xa-admin", "PATCH", "/api/v1/users/" + user["id"],
                             body={"unit_id": U["so-noi-vu"]},
                             headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"unit_id": "unknown"})
        self.assertEqual(get_user(user["id"]).json()["unit_id"], U["thon-3"])

    def test_commune_admin_reaches_only_its_subtree(self):
        for target in ("admin",):
            uid = harness.demo_user_id(target)
            r = call("xa-admin", "GET", "/api/v1/users/" + uid)
            harness.expect_problem(self, r, 404, "not_found")
            r = call("xa-admin", "PATCH", "/api/v1/users/" + uid,
                                 body={"active": False},
                                 headers={"If-Match": '"1"'})
            harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(db().psql("SELECT active FROM users WHERE username "
                                   "= 'admin'"), [("t",)])
        items, _ = walk("xa-admin")
        self.assertNotIn("admin", [u["username"] for u in items])
        user = harness.new_user(U["thon-4"], signed_in=False).doc
        r = call("xa-admin", "PATCH", "/api/v1/users/" + user["id"],
                             body={"full_name": "Xã sửa"},
                             headers={"If-Match": '"1"'})
        self.assertEqual(r.status, 200, r.describe())

    def test_password_change(self):
        made = harness.new_user()
        user, old, session = made.doc, made.password, made.session
        new = strong_password()
        rid = "pw-" + secrets.token_hex(6)
        r = call("admin", "PATCH", "/api/v1/users/" + user["id"],
                 body={"password": new},
                 headers={"If-Match": '"1"', "X-Request-Id": rid})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["version"], 2)
        harness.expect_problem(self, harness.login(user["username"], old),
                               401, "invalid_grant")
        harness.sign_in(user["username"], new)
        r = call(None, "POST", "/api/v1/auth/refresh",
                 body={"refresh_token": session["refresh_token"]})
        harness.expect_problem(self, r, 401, "invalid_grant")
        ev = db().psql("SELECT action, before ? 'password_hash', after ? "
                       "'password_hash', position('argon2' in after::text) "
                       "FROM audit_events WHERE request_id = '%s'" % rid)
        self.assertEqual(ev, [("update_password", "f", "f", "0")])

    def test_weak_new_password_422(self):
        made = harness.new_user(signed_in=False)
        user, old = made.doc, made.password
        for pw in ("ngan", "1234567890", user["username"] + "-abc123",
                   "bbbbbbbbbbbbbb"):
            with self.subTest(password=pw):
                r = patch(user["id"], {"password": pw}, etag='"1"')
                expected = {"password": "weak"} if len(pw) >= 10 else None
                doc = harness.expect_problem(self, r, 422, "invalid_body",
                                             expected)
                self.assertEqual([e["field"] for e in doc["errors"]],
                                 ["password"])
        harness.sign_in(user["username"], old)
        self.assertEqual(get_user(user["id"]).json()["version"], 1)

    def test_deactivation_revokes_refresh_tokens(self):
        made = harness.new_user(signed_in=False)
        user, pw = made.doc, made.password
        harness.sign_in(user["username"], pw)
        harness.sign_in(user["username"], pw)
        live = "SELECT count(*) FROM refresh_tokens WHERE user_id = '%s' " \
               "AND revoked_at IS NULL" % user["id"]
        self.assertEqual(db().psql(live), [("2",)])
        r = patch(user["id"], {"active": False}, etag='"1"')
        self.assertEqual(r.status, 200, r.describe())
        self.assertFalse(r.json()["active"])
        self.assertEqual(db().psql(live), [("0",)])
        items, _ = walk("admin", "active=false")
        self.assertIn(user["id"], [u["id"] for u in items])
        # A name change alone revokes nothing.
        other = harness.new_user().doc
        self.assertEqual(patch(other["id"], {"full_name": "Đổi tên"},
                               etag='"1"').status, 200)
        self.assertEqual(db().psql(
            "SELECT count(*) FROM refresh_tokens WHERE user_id = '%s' AND "
            "revoked_at IS NULL" % other["id"]), [("1",)])


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
