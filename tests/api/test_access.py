"""Access that an audit of the running service found open: admins of one
unit (managed from above, no role above one's own, a self-service password
change that needs the current password), deactivated units stopping their
users, tokens that die with a password change even within the same second
and stay dead after a reactivation, append-only version tables, and the
purge of what expires."""

import os
import subprocess
import unittest
import uuid

import harness
from harness import (U, Bearer, call, db, new_user, sign_in, strong_password,
                     tag)

setUpModule, tearDownModule = harness.fixtures(
    env={"DANVAN_LOGIN_LIMIT": "1000"})


def probe(tok):
    return call(Bearer(tok), "GET", "/api/v1/me")


def refresh(refresh_token):
    return call(None, "POST", "/api/v1/auth/refresh",
                body={"refresh_token": refresh_token})


def user_row(uid):
    return db().psql("SELECT role, active, password_hash FROM users "
                     "WHERE id = '%s'" % uid)


class AdminsOfOneUnit(unittest.TestCase):
    """An admin manages the users strictly below its own unit."""

    @classmethod
    def setUpClass(cls):
        # The commune's own admin: call("unit-admin", ...).
        cls.admin = new_user(U["commune"], "admin", name="unit-admin").doc
        peer = new_user(U["commune"], "admin", signed_in=False)
        cls.peer, cls.peer_pw = peer.doc, peer.password
        cls.leader = new_user(U["commune"], "leader", signed_in=False).doc
        cls.below = new_user(U["thon-1"], "officer", signed_in=False).doc

    def patch(self, uid, body):
        cur = call("unit-admin", "GET", "/api/v1/users/" + uid)
        self.assertEqual(cur.status, 200, cur.describe())
        return call("unit-admin", "PATCH", "/api/v1/users/" + uid, body=body,
                    headers={"If-Match": cur.headers["ETag"]})

    def test_cannot_reset_a_peer_admins_password(self):
        before = user_row(self.peer["id"])
        r = self.patch(self.peer["id"], {"password": strong_password()})
        harness.expect_problem(self, r, 403, "forbidden")
        self.assertEqual(user_row(self.peer["id"]), before)
        sign_in(self.peer["username"], self.peer_pw)

    def test_cannot_change_users_of_its_own_unit_or_itself(self):
        for who in (self.leader, self.admin, self.peer):
            with self.subTest(user=who["username"]):
                before = user_row(who["id"])
                for body in ({"active": False}, {"role": "viewer"},
                             {"password": strong_password()}):
                    harness.expect_problem(self, self.patch(who["id"], body),
                                           403, "forbidden")
                self.assertEqual(user_row(who["id"]), before)

    def test_cannot_create_a_user_beside_itself(self):
        for role in ("admin", "viewer"):
            with self.subTest(role=role):
                r = call("unit-admin", "POST", "/api/v1/users", body={
                    "unit_id": U["commune"], "username": "x." + tag(),
                    "role": role, "full_name": "X",
                    "password": strong_password()})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"unit_id": "unknown"})

    def test_manages_the_units_below(self):
        r = self.patch(self.below["id"], {"role": "viewer"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["role"], "viewer")
        # Made by the commune's admin, and signed in.
        new_user(U["thon-2"], "admin", by="unit-admin")

    def test_cannot_move_a_user_into_its_own_unit(self):
        r = self.patch(self.below["id"], {"unit_id": U["commune"]})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"unit_id": "unknown"})

    def test_the_unit_above_manages_them(self):
        cur = call("admin", "GET", "/api/v1/users/" + self.leader["id"])
        r = call("admin", "PATCH", "/api/v1/users/" + self.leader["id"],
                 body={"full_name": "Lãnh đạo đổi tên"},
                 headers={"If-Match": cur.headers["ETag"]})
        self.assertEqual(r.status, 200, r.describe())


class OwnPassword(unittest.TestCase):
    PATH = "/api/v1/me/password"

    def test_change_needs_the_current_password(self):
        made = new_user(U["thon-2"], "officer")
        user, pw, doc = made.doc, made.password, made.session
        tok = Bearer(made.token)
        new = strong_password()
        r = call(tok, "POST", self.PATH, body={
            "current_password": pw + "x", "new_password": new})
        harness.expect_problem(self, r, 403, "wrong_password",
                               {"current_password": "wrong"})
        sign_in(user["username"], pw)
        # No sleep: a token of the same second as the change dies with it.
        r = call(tok, "POST", self.PATH, body={
            "current_password": pw, "new_password": new})
        self.assertEqual(r.status, 204, r.describe())
        harness.expect_problem(self, probe(tok), 401, "invalid_token")
        harness.expect_problem(self, harness.login(user["username"], pw), 401,
                               "invalid_grant")
        harness.expect_problem(self, refresh(doc["refresh_token"]), 401,
                               "invalid_grant")
        again = sign_in(user["username"], new)
        self.assertEqual(probe(again["access_token"]).status, 200)
        audit = db().psql("SELECT action, actor_id FROM audit_events WHERE "
                          "entity_id = '%s' AND action = 'update_password'"
                          % user["id"])
        self.assertEqual(audit, [("update_password", user["id"])])

    def test_admin_changes_its_own_password_here(self):
        user = new_user(U["thon-3"], "admin")
        new = strong_password()
        r = call(Bearer(user.token), "POST", self.PATH, body={
            "current_password": user.password, "new_password": new})
        self.assertEqual(r.status, 204, r.describe())
        sign_in(user.username, new)

    def test_bad_bodies(self):
        made = new_user(U["thon-2"], "viewer")
        user, pw, tok = made.doc, made.password, Bearer(made.token)
        for body in ({}, {"current_password": pw}, {"new_password": "x" * 12},
                     {"current_password": 5, "new_password": "abc"},
                     {"current_password": "", "new_password": "abc"}):
            with self.subTest(body=body):
                r = call(tok, "POST", self.PATH, body=body)
                harness.expect_problem(self, r, 400, "invalid_request")
        r = call(tok, "POST", self.PATH, raw=b"{not json",
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")
        r = call(tok, "POST", self.PATH, body={
            "current_password": pw, "new_password": "x" * 300})
        harness.expect_problem(self, r, 400, "invalid_request")
        r = call(tok, "POST", self.PATH, body={
            "current_password": pw, "new_password": user["username"] + "-2026"})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"new_password": "weak"})
        sign_in(user["username"], pw)

    def test_service_account_and_anonymous(self):
        body = {"current_password": "a" * 12, "new_password": "b" * 12}
        r = call("service", "POST", self.PATH, body=body)
        harness.expect_problem(self, r, 403, "forbidden")
        r = call(None, "POST", self.PATH, body=body)
        harness.expect_problem(self, r, 401, "unauthenticated")

    def test_guessing_is_throttled(self):
        other = harness.Server(db(), {"DANVAN_LOGIN_LIMIT": "3"}).start()
        try:
            user = new_user(U["thon-4"], "viewer", signed_in=False)
            tok = sign_in(user.username, user.password, other)["access_token"]
            codes = []
            for _ in range(5):
                r = call(Bearer(tok), "POST", self.PATH, srv=other, body={
                    "current_password": strong_password(),
                    "new_password": strong_password()})
                codes.append(r.status)
            self.assertEqual(codes, [403, 403, 403, 429, 429])
            self.assertIsNotNone(r.headers.get("Retry-After"))
        finally:
            other.stop()


class DeactivatedUnit(unittest.TestCase):

    def test_a_deactivated_unit_stops_its_users(self):
        unit = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-4"], "kind": "other",
            "code": "to-" + tag(), "name": "Tổ tạm"})
        self.assertEqual(unit.status, 201, unit.describe())
        unit = unit.json()
        made = new_user(unit["id"], "officer")
        user, pw, doc = made.doc, made.password, made.session
        self.assertEqual(probe(doc["access_token"]).status, 200)
        r = call("admin", "PATCH", "/api/v1/units/" + unit["id"],
                 body={"active": False}, headers={"If-Match": '"1"'})
        self.assertEqual(r.status, 200, r.describe())
        harness.expect_problem(self, probe(doc["access_token"]), 401,
                               "invalid_token")
        harness.expect_problem(self, harness.login(user["username"], pw), 401,
                               "invalid_grant")
        harness.expect_problem(self, refresh(doc["refresh_token"]), 401,
                               "invalid_grant")

    def test_a_deactivated_ancestor_stops_them_too(self):
        top = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-4"], "kind": "other",
            "code": "cum-" + tag(), "name": "Cụm tạm"}).json()
        leaf = call("admin", "POST", "/api/v1/units", body={
            "parent_id": top["id"], "kind": "other",
            "code": "to-" + tag(), "name": "Tổ con"}).json()
        user = new_user(leaf["id"], "viewer")
        r = call("admin", "PATCH", "/api/v1/units/" + top["id"],
                 body={"active": False}, headers={"If-Match": '"1"'})
        self.assertEqual(r.status, 200, r.describe())
        harness.expect_problem(self, probe(user.token), 401, "invalid_token")
        harness.expect_problem(self, harness.login(user.username,
                                                   user.password), 401,
                               "invalid_grant")


class TokensOfAnOldGeneration(unittest.TestCase):

    def patch(self, uid, body):
        cur = call("admin", "GET", "/api/v1/users/" + uid)
        return call("admin", "PATCH", "/api/v1/users/" + uid, body=body,
                    headers={"If-Match": cur.headers["ETag"]})

    def test_password_set_in_the_same_second(self):
        user = new_user(U["thon-1"], "viewer")
        r = self.patch(user.id, {"password": strong_password()})
        self.assertEqual(r.status, 200, r.describe())
        harness.expect_problem(self, probe(user.token), 401, "invalid_token")

    def test_reactivation_does_not_revive_old_tokens(self):
        user = new_user(U["thon-1"], "viewer")
        self.assertEqual(self.patch(user.id, {"active": False}).status, 200)
        self.assertEqual(self.patch(user.id, {"active": True}).status, 200)
        harness.expect_problem(self, probe(user.token), 401, "invalid_token")
        fresh = sign_in(user.username, user.password)["access_token"]
        self.assertEqual(probe(fresh).status, 200)


class UnitCursorOracle(unittest.TestCase):

    def test_a_foreign_unit_as_cursor_answers_like_no_unit(self):
        # The village officer's subtree is its village; a commune office
        # whose name sorts before it must not show through a forged cursor.
        def page(unit_id):
            cur = unit_id.encode().hex()
            r = call("officer", "GET", "/api/v1/units?cursor=" + cur)
            self.assertEqual(r.status, 200, r.describe())
            return r.json()
        nothing = page(str(uuid.uuid4()))
        self.assertEqual(nothing, {"items": [], "next_cursor": None})
        for foreign in ("ban-xay-dung-dang", "province", "commune"):
            with self.subTest(unit=foreign):
                self.assertEqual(page(U[foreign]), nothing)
        own = page(U["thon-1"])
        self.assertIsNone(own["next_cursor"])


class Drafts(unittest.TestCase):
    """A draft plan is seen by those who may edit it (admins and leaders of
    the issuing unit or above) and by the issuing unit's own users; not by
    the units below nor by service accounts, until it is issued."""

    def test_who_sees_a_draft_and_everything_under_it(self):
        r = call("leader", "POST", "/api/v1/plans", body={
            "title": "Dự thảo " + tag(), "year": 2026,
            "issuing_unit_id": U["commune"]})
        self.assertEqual(r.status, 201, r.describe())
        plan = r.json()
        r = call("leader", "POST", "/api/v1/plans/%s/tasks"
                 % plan["id"], body={"number": 1, "title": "Việc",
                                     "schedule": "ongoing"})
        self.assertEqual(r.status, 201, r.describe())
        task = r.json()
        paths = ["/api/v1/plans/" + plan["id"],
                 "/api/v1/plans/%s/tasks" % plan["id"],
                 "/api/v1/plans/%s/milestones" % plan["id"],
                 "/api/v1/plans/%s/versions" % plan["id"],
                 "/api/v1/tasks/" + task["id"],
                 "/api/v1/tasks/%s/assignments" % task["id"]]
        nothing = ["/api/v1/plans/" + str(uuid.uuid4()),
                   "/api/v1/tasks/" + str(uuid.uuid4())]
        for role in harness.ROLES:
            sees = role in ("admin", "leader", "inspector", "viewer")
            for path in paths:
                with self.subTest(role=role, path=path):
                    r = call(role, "GET", path)
                    if sees:
                        self.assertEqual(r.status, 200, r.describe())
                    else:
                        doc = harness.expect_problem(self, r, 404,
                                                     "not_found")
                        other = call(role, "GET", nothing[
                            0 if "/plans/" in path else 1])
                        self.assertEqual(doc["detail"],
                                         other.json()["detail"])
            with self.subTest(role=role, list="plans"):
                r = call(role, "GET", "/api/v1/plans?limit=200")
                ids = [p["id"] for p in r.json()["items"]]
                self.assertEqual(plan["id"] in ids, sees)
        cur = call("leader", "GET", "/api/v1/plans/" + plan["id"])
        r = call("leader", "POST", "/api/v1/plans/%s/issue"
                 % plan["id"],
                 headers={"If-Match": cur.headers["ETag"]})
        self.assertEqual(r.status, 200, r.describe())
        for role in harness.ROLES:
            with self.subTest(role=role, issued=True):
                r = call(role, "GET", paths[0])
                self.assertEqual(r.status, 200, r.describe())


class FourEyes(unittest.TestCase):
    """People, not units: whoever wrote or submitted a submission does not
    accept, return or approve it; whoever accepted it does not approve it."""

    def step(self, who, sid, name, body=None):
        cur = call("leader", "GET", "/api/v1/submissions/" + sid)
        self.assertEqual(cur.status, 200, cur.describe())
        return call(who, "POST", "/api/v1/submissions/%s/%s" % (sid, name),
                    body=body, headers={"If-Match": cur.headers["ETag"]})

    def test_one_leader_cannot_do_every_step(self):
        writer = "leader"
        l2 = new_user(U["commune"], "leader")
        l3 = new_user(U["commune"], "leader")
        t2, t3 = Bearer(l2.token), Bearer(l3.token)
        # Written and submitted by the commune leader for the village's
        # Front board; received by the village, above which the leader is.
        r = call("leader", "POST", "/api/v1/submissions", body={
            "unit_id": U["mat-tran-thon-1"], "kind": "difficulty_report",
            "title": "Khó khăn " + tag(), "submit": True})
        self.assertEqual(r.status, 201, r.describe())
        sid = r.json()["id"]
        self.assertEqual(r.json()["receiving_unit_id"], U["thon-1"])
        for name, body in (("accept", None), ("return", {"reason": "Thiếu"})):
            with self.subTest(writer=name):
                harness.expect_problem(self, self.step(writer, sid, name,
                                                       body), 409,
                                       "four_eyes")
        self.assertEqual(self.step(t2, sid, "accept").status, 200)
        harness.expect_problem(self, self.step(t2, sid, "approve"), 409,
                               "four_eyes")
        harness.expect_problem(self, self.step(writer, sid, "approve"), 409,
                               "four_eyes")
        r = self.step(t3, sid, "approve")
        self.assertEqual(r.status, 200, r.describe())
        doc = r.json()
        self.assertEqual(doc["status"], "approved")
        self.assertEqual(doc["reviewed_by"], l2.id)
        self.assertEqual(doc["approved_by"], l3.id)


class BodyReferences(unittest.TestCase):
    """Ids in a body are resolved in the caller's scope: another commune's
    task or milestone answers exactly like one that does not exist."""

    @classmethod
    def setUpClass(cls):
        t = harness.CHECK
        # Another commune under the province, with an issued plan, a task
        # and a milestone owed by its office.
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["province"], "kind": "commune",
            "code": "xa-khac-" + tag(), "name": "Xã khác"})
        t.assertEqual(r.status, 201, r.describe())
        cls.commune = r.json()
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": cls.commune["id"], "kind": "office",
            "code": "vp-" + tag(), "name": "Văn phòng xã khác"})
        cls.office = r.json()
        r = call("admin", "POST", "/api/v1/plans", body={
            "title": "Kế hoạch xã khác", "year": 2026,
            "issuing_unit_id": cls.commune["id"]})
        t.assertEqual(r.status, 201, r.describe())
        plan = r.json()
        r = call("admin", "POST", "/api/v1/plans/%s/tasks"
                 % plan["id"], body={"number": 1, "title": "Việc",
                                     "schedule": "ongoing"})
        t.assertEqual(r.status, 201, r.describe())
        cls.task = r.json()
        r = call("admin", "POST", "/api/v1/plans/%s/milestones"
                 % plan["id"], body={
                             "kind": "custom", "title": "Mốc", "due_on":
                             "2026-12-30", "receiving_unit_id":
                             cls.commune["id"],
                             "owing": {"unit_ids": [cls.office["id"]]}})
        t.assertEqual(r.status, 201, r.describe())
        cls.milestone = r.json()
        cur = call("admin", "GET", "/api/v1/plans/" + plan["id"])
        r = call("admin", "POST", "/api/v1/plans/%s/issue"
                 % plan["id"],
                 headers={"If-Match": cur.headers["ETag"]})
        t.assertEqual(r.status, 200, r.describe())

    def attempt(self, **ref):
        body = {"unit_id": U["thon-1"], "kind": "progress_report",
                "title": "Báo cáo tiến độ"}
        body.update(ref)
        return call("officer", "POST", "/api/v1/submissions",
                    body=body)

    def test_foreign_task_or_milestone_is_unknown(self):
        before = db().psql("SELECT count(*) FROM submissions")
        for field, foreign in (("task_id", self.task["id"]),
                               ("milestone_id", self.milestone["id"])):
            with self.subTest(field=field):
                theirs = self.attempt(**{field: foreign})
                nothing = self.attempt(**{field: str(uuid.uuid4())})
                a = harness.expect_problem(self, theirs, 422,
                                           "invalid_reference")
                b = harness.expect_problem(self, nothing, 422,
                                           "invalid_reference")
                self.assertEqual((a["detail"], a["errors"]),
                                 (b["detail"], b["errors"]))
        self.assertEqual(db().psql("SELECT count(*) FROM submissions"),
                         before)

    def test_a_foreign_client_id_answers_like_any_clash(self):
        # The other commune's office has a submission; the village officer
        # sends a create with that id.
        office_user = new_user(self.office["id"], "officer")
        theirs = str(uuid.uuid4())
        body = {"id": theirs, "unit_id": self.office["id"],
                "kind": "difficulty_report", "title": "Của xã khác"}
        r = call(Bearer(office_user.token), "POST", "/api/v1/submissions",
                 body=body)
        self.assertEqual(r.status, 201, r.describe())
        mine = str(uuid.uuid4())
        own = {"id": mine, "unit_id": U["thon-1"],
               "kind": "difficulty_report", "title": "Của thôn"}
        self.assertEqual(call("officer", "POST",
                              "/api/v1/submissions",
                              body=own).status, 201)
        a = call("officer", "POST", "/api/v1/submissions",
                 body=dict(own, id=theirs))
        b = call("officer", "POST", "/api/v1/submissions",
                 body=dict(own, title="Khác"))
        da = harness.expect_problem(self, a, 409, "conflict")
        db_ = harness.expect_problem(self, b, 409, "conflict")
        self.assertEqual(da["detail"], db_["detail"])
        self.assertNotIn("Của xã khác", a.body.decode())


class AppendOnlyVersions(unittest.TestCase):

    def test_version_tables_refuse_change(self):
        # The demo has no amendment yet: one row, so row triggers fire.
        db().psql("INSERT INTO plan_versions (plan_id, version, reason,"
                  " entity_type, entity_id, changes) SELECT id, 999, 'thử',"
                  " 'plan', id, '{}' FROM plans LIMIT 1")
        for table, col in (("plan_versions", "changes"),
                           ("submission_versions", "title")):
            for sql in ("UPDATE %s SET %s = %s" % (table, col, col),
                        "DELETE FROM %s" % table,
                        "TRUNCATE %s" % table):
                for role in ("danvan_app", "danvan_owner"):
                    with self.subTest(sql=sql, role=role):
                        with self.assertRaises(harness.PsqlError):
                            db().psql(sql, role=role)
            rows = db().psql("SELECT count(*) FROM %s" % table)
            self.assertGreater(int(rows[0][0]), 0, table)


class Purge(unittest.TestCase):

    def danvan(self, *args):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DANVAN_")}
        env["DANVAN_DATABASE_URL"] = db().app_url
        return subprocess.run([os.environ["DANVAN_BIN"], *args],
                              capture_output=True, text=True, timeout=60,
                              env=env)

    def test_purge_deletes_only_what_expired(self):
        uid = new_user(U["thon-2"], "viewer", signed_in=False).id
        db().psql([
            "INSERT INTO idempotency_keys (principal, key, request_hash,"
            " created_at) VALUES ('p', 'old', 'h', now() - interval '2 days'),"
            " ('p', 'new', 'h', now())",
            # A family wholly expired, and one with a live token whose used,
            # expired ancestor must stay to catch a replay.
            "INSERT INTO refresh_tokens (user_id, family_id, token_hash,"
            " expires_at, used_at) VALUES"
            " ('%s', '00000000-0000-4000-8000-0000000000a1', 'dead1',"
            "  now() - interval '1 day', now()),"
            " ('%s', '00000000-0000-4000-8000-0000000000a2', 'used2',"
            "  now() - interval '1 day', now()),"
            " ('%s', '00000000-0000-4000-8000-0000000000a2', 'live2',"
            "  now() + interval '1 day', NULL)" % (uid, uid, uid),
            "INSERT INTO login_failures (key, window_start, failures) VALUES"
            " ('user:old-purge', now() - interval '2 days', 3),"
            " ('user:new-purge', now(), 3)"])
        p = self.danvan("purge")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("expired row(s) deleted", p.stderr)
        self.assertEqual(db().psql(
            "SELECT key FROM idempotency_keys WHERE principal = 'p' "
            "ORDER BY key"), [("new",)])
        self.assertEqual(db().psql(
            "SELECT token_hash FROM refresh_tokens WHERE user_id = '%s' "
            "ORDER BY token_hash" % uid), [("live2",), ("used2",)])
        self.assertEqual(db().psql(
            "SELECT key FROM login_failures WHERE key LIKE '%-purge'"),
            [("user:new-purge",)])
        p = self.danvan("purge")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("purge: 0 expired", p.stderr)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
