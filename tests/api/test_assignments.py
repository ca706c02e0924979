"""Assignments over HTTP: who does what of a task, the inbox of a unit
(its assignments and those below it, overdue first), progress reports by
the assigned unit, creating assignments (one unit or a group) with their
checks, and who may do what."""

import datetime
import json
import unittest
import uuid

import harness
from harness import (AGENCIES, CHECK, COMMUNE_PLAN, PROVINCE_PLAN, U, VILLAGES,
                     call, db, ok, tag)

NON_WRITERS = ("coordinator", "inspector", "officer", "viewer", "service")
# "Today" where the plan is carried out (Asia/Ho_Chi_Minh is UTC+7, no DST).
TODAY = (datetime.datetime.now(datetime.timezone.utc) +
         datetime.timedelta(hours=7)).date()
PAST = (TODAY - datetime.timedelta(days=10)).isoformat()
FUTURE = (TODAY + datetime.timedelta(days=40)).isoformat()


class Fixture:
    """What setUpModule builds as the leader, through the API: an issued
    plan with an overdue task assigned to thon-1 and thon-2, and a draft
    plan with an assignment to thon-1 that no inbox may show."""
    plan = None
    draft = None
    tasks = {}        # number -> task
    a = {}            # name -> assignment
    so_assignment = None


F = Fixture


def build():
    F.plan = new_plan()
    pid = F.plan["id"]
    F.tasks[1] = add_task(pid, 1, schedule="deadline", due_on=PAST)
    F.tasks[2] = add_task(pid, 2, schedule="deadline", due_on=FUTURE)
    F.tasks[3] = add_task(pid, 3, schedule="within_year")
    F.tasks[4] = add_task(pid, 4, schedule="ongoing")
    F.a["overdue_thon1"] = assign(F.tasks[1], unit_id=U["thon-1"])[0]
    F.a["overdue_thon2"] = assign(F.tasks[1], unit_id=U["thon-2"])[0]
    F.a["lead_vhxh"] = assign(F.tasks[1], role="lead",
                              unit_id=U["phong-vh-xh"])[0]
    for item in assign(F.tasks[2], group="villages"):
        F.a["t2_" + item["unit_id"][-2:]] = item
    own_due = (TODAY + datetime.timedelta(days=5)).isoformat()
    F.a["own_due_vhxh"] = assign(F.tasks[2], role="lead",
                                 unit_id=U["phong-vh-xh"], due_on=own_due)[0]
    F.a["within_thon1"] = assign(F.tasks[3], unit_id=U["thon-1"])[0]
    F.a["ongoing_thon1"] = assign(F.tasks[4], unit_id=U["thon-1"])[0]
    F.a["ongoing_front1"] = assign(F.tasks[4],
                                   unit_id=U["mat-tran-thon-1"])[0]
    F.a["ongoing_thon2"] = assign(F.tasks[4], unit_id=U["thon-2"])[0]
    ok(call("leader", "POST", "/api/v1/plans/%s/issue" % pid,
            headers={"If-Match": '"%d"' % F.plan["version"]}))
    F.draft = new_plan()
    t = add_task(F.draft["id"], 1, schedule="deadline", due_on=PAST)
    F.a["draft_thon1"] = assign(t, unit_id=U["thon-1"])[0]
    so = ok(call("admin", "POST", "/api/v1/plans", body={
        "title": "Kế hoạch Sở " + tag(), "year": TODAY.year,
        "issuing_unit_id": U["so-noi-vu"]}), 201).json()
    t = add_task(so["id"], 1, role="admin")
    F.so_assignment = assign(t, role="lead", unit_id=U["so-noi-vu"],
                             as_role="admin")[0]


setUpModule, tearDownModule = harness.fixtures(build)


def new_plan(role="leader", **extra):
    b = {"title": "Kế hoạch giao việc " + tag(), "year": TODAY.year,
         "issuing_unit_id": U["commune"]}
    b.update(extra)
    return ok(call(role, "POST", "/api/v1/plans", body=b), 201).json()


def issue(plan):
    v = ok(call("leader", "GET", "/api/v1/plans/" + plan["id"])).json()
    return ok(call("leader", "POST", "/api/v1/plans/%s/issue" % plan["id"],
                   headers={"If-Match": '"%d"' % v["version"]})).json()


def add_task(pid, number, role="leader", **extra):
    b = {"number": number, "title": "Nhiệm vụ %d" % number,
         "schedule": "ongoing"}
    b.update(extra)
    return ok(call(role, "POST", "/api/v1/plans/%s/tasks" % pid, body=b),
              201).json()


def assign(task, role="implement", as_role="leader", **extra):
    b = {"role": role}
    b.update(extra)
    r = ok(call(as_role, "POST", "/api/v1/tasks/%s/assignments" % task["id"],
                body=b), 201)
    CHECK.assertIsNone(r.json()["next_cursor"])
    return r.json()["items"]


def get(aid, role="officer"):
    return ok(call(role, "GET", "/api/v1/assignments/" + aid)).json()


def version(aid):
    return int(db().psql("SELECT version FROM assignments WHERE id = '%s'"
                         % aid)[0][0])


def patch(aid, changes, role="officer", tag_=None):
    return call(role, "PATCH", "/api/v1/assignments/" + aid, body=changes,
                headers={"If-Match": tag_ or '"%d"' % version(aid)})


def inbox(role="officer", query="", limit=200):
    return harness.all_items(role, "/api/v1/assignments", query, limit, 500)


def sql_inbox(unit_id):
    """The assignments of `unit_id` and the units below it, of plans that
    are not drafts, from SQL."""
    rows = db().psql(
        "SELECT a.id FROM assignments a JOIN tasks t ON t.id = a.task_id"
        " JOIN plans p ON p.id = t.plan_id WHERE p.status <> 'draft' AND"
        " (a.unit_id = '%s' OR a.unit_id IN (SELECT u.id FROM units u,"
        " units me WHERE me.id = '%s' AND u.path <@ me.path))"
        % (unit_id, unit_id))
    return [r[0] for r in rows]


def assignment_rows(where="true"):
    return int(db().psql("SELECT count(*) FROM assignments a JOIN tasks t ON"
                         " t.id = a.task_id WHERE " + where)[0][0])


def inbox_key(a):
    return (not a["overdue"], a["effective_due_on"] or "9999-12-31",
            a["task_number"], a["id"])


class Inbox(unittest.TestCase):

    def test_officer_sees_exactly_the_assignments_of_thon_1(self):
        items = inbox("officer")
        ids = [a["id"] for a in items]
        self.assertEqual(len(ids), len(set(ids)))
        exact = [r[0] for r in db().psql(
            "SELECT a.id FROM assignments a JOIN tasks t ON t.id = a.task_id"
            " JOIN plans p ON p.id = t.plan_id WHERE a.unit_id = '%s'"
            " AND p.status <> 'draft'" % U["thon-1"])]
        self.assertEqual(sorted(ids), sorted(sql_inbox(U["thon-1"])))
        self.assertEqual(sorted(a["id"] for a in items
                                if a["unit_id"] == U["thon-1"]),
                         sorted(exact))
        # thon-1's own, plus its village front board below it.
        self.assertEqual({a["unit_id"] for a in items},
                         {U["thon-1"], U["mat-tran-thon-1"]})
        for name in ("overdue_thon1", "within_thon1", "ongoing_thon1",
                     "ongoing_front1", "t2_21"):
            self.assertIn(F.a[name]["id"], ids, name)
        for name in ("overdue_thon2", "ongoing_thon2", "draft_thon1",
                     "lead_vhxh"):
            self.assertNotIn(F.a[name]["id"], ids, name)
        # The demo plan's village assignments are there: tasks 1-7, 10, 11.
        demo = sorted(a["task_number"] for a in items
                      if a["plan_id"] == COMMUNE_PLAN and
                      a["unit_id"] == U["thon-1"])
        self.assertEqual(demo, [1, 2, 3, 4, 5, 6, 7, 10, 11])

    def test_overdue_first(self):
        items = inbox("officer")
        flags = [a["overdue"] for a in items]
        self.assertTrue(flags[0], items[0])
        self.assertEqual(flags, sorted(flags, reverse=True))
        head = [a for a in items if a["overdue"]]
        mine = [a for a in head if a["plan_id"] == F.plan["id"]]
        self.assertEqual([a["id"] for a in mine],
                         [F.a["overdue_thon1"]["id"]])
        self.assertEqual((mine[0]["effective_due_on"], mine[0]["status"]),
                         (PAST, "not_started"))
        if len(head) == 1:
            self.assertEqual(items[0]["id"], F.a["overdue_thon1"]["id"])
        self.assertEqual([inbox_key(a) for a in items],
                         sorted(inbox_key(a) for a in items))
        # Undated (ongoing) work comes last.
        dated = [a["effective_due_on"] is not None for a in items]
        self.assertEqual(dated, sorted(dated, reverse=True))
        self.assertIsNone(items[-1]["effective_due_on"])

    def test_pages_cover_the_inbox_once(self):
        whole = [a["id"] for a in inbox("officer")]
        for limit in (1, 2, 5):
            with self.subTest(limit=limit):
                self.assertEqual([a["id"] for a in
                                  inbox("officer", limit=limit)], whole)

    def test_leader_inbox_is_the_commune(self):
        items = inbox("leader")
        ids = [a["id"] for a in items]
        self.assertEqual(sorted(ids), sorted(sql_inbox(U["commune"])))
        self.assertEqual(len(ids), len(set(ids)))
        self.assertNotIn(F.a["draft_thon1"]["id"], ids)
        self.assertNotIn(F.so_assignment["id"], ids)
        # Task 8 of the demo plan (due 2026-05-30) is overdue once past.
        overdue = {a["id"] for a in items if a["overdue"]}
        self.assertIn(F.a["overdue_thon2"]["id"], overdue)
        self.assertEqual([inbox_key(a) for a in items],
                         sorted(inbox_key(a) for a in items))
        for a in items:
            if a["overdue"]:
                self.assertLess(a["effective_due_on"], TODAY.isoformat())
                self.assertNotEqual(a["status"], "done")

    def test_filters(self):
        pid = F.plan["id"]
        items = inbox("officer", "plan_id=" + pid)
        self.assertEqual(sorted(a["id"] for a in items), sorted(
            F.a[n]["id"] for n in ("overdue_thon1", "t2_21", "within_thon1",
                                   "ongoing_thon1", "ongoing_front1")))
        items = inbox("officer", "unit_id=%s&plan_id=%s"
                      % (U["mat-tran-thon-1"], pid))
        self.assertEqual([a["id"] for a in items],
                         [F.a["ongoing_front1"]["id"]])
        items = inbox("officer", "unit_id=" + U["mat-tran-thon-1"])
        self.assertTrue(items)
        self.assertEqual({a["unit_id"] for a in items},
                         {U["mat-tran-thon-1"]})
        items = inbox("leader", "unit_id=%s&plan_id=%s" % (U["thon-2"], pid))
        self.assertEqual(sorted(a["id"] for a in items), sorted(
            F.a[n]["id"] for n in ("overdue_thon2", "t2_22",
                                   "ongoing_thon2")))
        items = inbox("officer", "due_before=" + TODAY.isoformat())
        self.assertIn(F.a["overdue_thon1"]["id"], [a["id"] for a in items])
        self.assertEqual([a["id"] for a in items], [
            a["id"] for a in inbox("officer") if a["effective_due_on"] and
            a["effective_due_on"] < TODAY.isoformat()])
        items = inbox("leader", "due_before=%s&plan_id=%s" % (FUTURE, pid))
        ids = [a["id"] for a in items]
        for n in ("overdue_thon1", "overdue_thon2", "lead_vhxh",
                  "own_due_vhxh"):
            self.assertIn(F.a[n]["id"], ids, n)
        for n in ("t2_21", "ongoing_thon1"):
            self.assertNotIn(F.a[n]["id"], ids, n)
        self.assertEqual(ids, [
            a["id"] for a in inbox("leader", "plan_id=" + pid)
            if a["effective_due_on"] and a["effective_due_on"] < FUTURE])
        items = inbox("leader", "status=not_started&plan_id=" + pid)
        self.assertTrue(all(a["status"] == "not_started" for a in items))
        # Another unit's id is not a way out of one's subtree.
        self.assertEqual(inbox("officer", "unit_id=" + U["thon-2"]), [])

    def test_bad_filters_400(self):
        for q, field in (("status=finished", "status"),
                         ("due_before=tomorrow", "due_before"),
                         ("due_before=2026-13-01", "due_before"),
                         ("unit_id=thon-1", "unit_id"),
                         ("plan_id=1", "plan_id"), ("limit=500", "limit"),
                         ("cursor=0g", "cursor")):
            with self.subTest(q=q):
                r = call("officer", "GET", "/api/v1/assignments?" + q)
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertIn(field, [e["field"] for e in doc["errors"]])

    def test_every_role_has_an_inbox(self):
        for role in harness.ROLES:
            with self.subTest(role=role):
                unit = harness.demo_account(role)["unit_id"]
                ids = [a["id"] for a in inbox(role)]
                self.assertEqual(sorted(ids), sorted(sql_inbox(unit)))


class Read(unittest.TestCase):

    def test_assignment_fields(self):
        t1 = F.tasks[1]
        a = get(F.a["overdue_thon1"]["id"])
        self.assertEqual(
            (a["task_id"], a["plan_id"], a["task_number"], a["task_title"],
             a["unit_id"], a["role"], a["scope_note"], a["due_on"],
             a["effective_due_on"], a["overdue"]),
            (t1["id"], F.plan["id"], 1, t1["title"], U["thon-1"],
             "implement", None, None, PAST, True))
        r = ok(call("officer", "GET", "/api/v1/assignments/" + a["id"]))
        self.assertEqual(r.headers["ETag"], '"%d"' % a["version"])
        r = call("officer", "GET", "/api/v1/assignments/" + a["id"],
                 headers={"If-None-Match": r.headers["ETag"]})
        self.assertEqual(r.status, 304, r.describe())

    def test_effective_due_on(self):
        own = (TODAY + datetime.timedelta(days=5)).isoformat()
        cases = [("overdue_thon1", PAST, True), ("t2_21", FUTURE, False),
                 ("own_due_vhxh", own, False),
                 ("within_thon1", "%d-12-31" % TODAY.year, False),
                 ("ongoing_thon1", None, False)]
        for name, due, overdue in cases:
            with self.subTest(name=name):
                a = get(F.a[name]["id"], "leader")
                self.assertEqual((a["effective_due_on"], a["overdue"]),
                                 (due, overdue))

    def test_for_task(self):
        r = ok(call("viewer", "GET", "/api/v1/tasks/%s/assignments"
                    % F.tasks[1]["id"]))
        items = r.json()["items"]
        self.assertEqual(sorted(a["id"] for a in items), sorted(
            F.a[n]["id"] for n in ("overdue_thon1", "overdue_thon2",
                                   "lead_vhxh")))
        self.assertTrue(all(a["task_id"] == F.tasks[1]["id"] for a in items))
        pages, cursor = [], None
        while True:
            q = "?limit=1" + ("&cursor=" + cursor if cursor else "")
            r = ok(call("viewer", "GET", "/api/v1/tasks/%s/assignments%s"
                        % (F.tasks[1]["id"], q)))
            pages += [a["id"] for a in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(pages, [a["id"] for a in items])

    def test_scope_of_reading(self):
        # thon-2's assignment on the commune plan: the plan is visible.
        self.assertEqual(get(F.a["overdue_thon2"]["id"])["unit_id"],
                         U["thon-2"])
        # Nothing of Sở Nội vụ's plan is visible from the commune.
        for role in ("officer", "leader"):
            with self.subTest(role=role):
                harness.expect_problem(self, call(
                    role, "GET", "/api/v1/assignments/" +
                    F.so_assignment["id"]), 404, "not_found")
                harness.expect_problem(self, call(
                    role, "GET", "/api/v1/tasks/%s/assignments"
                    % F.so_assignment["task_id"]), 404, "not_found")
        self.assertEqual(get(F.so_assignment["id"], "admin")["unit_id"],
                         U["so-noi-vu"])
        for path in ("/api/v1/assignments/%s" % uuid.uuid4(),
                     "/api/v1/tasks/%s/assignments" % uuid.uuid4(),
                     "/api/v1/assignments/nope"):
            with self.subTest(path=path):
                harness.expect_problem(self, call("leader", "GET", path),
                                       404, "not_found")


class Progress(unittest.TestCase):

    def test_officer_reports_progress(self):
        aid = F.a["within_thon1"]["id"]
        v0 = version(aid)
        r = ok(patch(aid, {"status": "in_progress", "progress": 40,
                           "progress_note": "Đã tổ chức 2 buổi"}))
        a = r.json()
        self.assertEqual((a["status"], a["progress"], a["progress_note"],
                          a["version"]),
                         ("in_progress", 40, "Đã tổ chức 2 buổi", v0 + 1))
        self.assertEqual(r.headers["ETag"], '"%d"' % (v0 + 1))
        self.assertEqual(db().psql("SELECT status, progress, progress_note "
                                   "FROM assignments WHERE id = '%s'" % aid),
                         [("in_progress", "40", "Đã tổ chức 2 buổi")])
        self.assertEqual(get(aid), a)
        rows = db().psql("SELECT action, actor_id FROM audit_events WHERE "
                         "entity_id = '%s' ORDER BY at" % aid)
        self.assertEqual(rows[-1], ("update", harness.demo_user_id("officer")))

    def test_done_sets_progress_100_and_ends_overdue(self):
        p = new_plan()
        t = add_task(p["id"], 1, schedule="deadline", due_on=PAST)
        a = assign(t, unit_id=U["thon-3"])[0]
        issue(p)
        self.assertTrue(get(a["id"], "leader")["overdue"])
        r = ok(patch(a["id"], {"status": "done"}, role="leader"))
        self.assertEqual((r.json()["status"], r.json()["progress"],
                          r.json()["overdue"]), ("done", 100, False))

    def test_officer_cannot_report_for_thon_2(self):
        for name in ("overdue_thon2", "ongoing_thon2"):
            with self.subTest(name=name):
                aid = F.a[name]["id"]
                before = get(aid, "leader")
                r = patch(aid, {"progress": 10})
                harness.expect_problem(self, r, 404, "not_found")
                self.assertEqual(get(aid, "leader"), before)

    def test_officer_reports_for_the_units_below(self):
        aid = F.a["ongoing_front1"]["id"]
        self.assertEqual(ok(patch(aid, {"progress": 15})).json()["progress"],
                         15)

    def test_roles(self):
        aid = F.a["ongoing_thon1"]["id"]
        for role in ("viewer", "inspector", "service"):
            with self.subTest(role=role):
                r = patch(aid, {"progress": 5}, role=role)
                harness.expect_problem(self, r, 403, "forbidden")
        self.assertEqual(get(aid)["progress"], 0)
        # The coordinator (phong-vh-xh) reports for its own unit only.
        r = ok(patch(F.a["lead_vhxh"]["id"], {"progress": 20},
                     role="coordinator"))
        self.assertEqual(r.json()["progress"], 20)
        harness.expect_problem(self, patch(aid, {"progress": 5},
                                           role="coordinator"), 404,
                               "not_found")
        # Leader and admin report for any unit they are above.
        self.assertEqual(ok(patch(F.a["ongoing_thon2"]["id"],
                                  {"progress": 30}, role="leader"))
                         .json()["progress"], 30)
        self.assertEqual(ok(patch(F.a["ongoing_thon2"]["id"],
                                  {"progress": 35}, role="admin"))
                         .json()["progress"], 35)
        self.assertEqual(get(aid)["progress"], 0)

    def test_if_match(self):
        aid = F.a["t2_21"]["id"]
        before = get(aid)
        r = call("officer", "PATCH", "/api/v1/assignments/" + aid,
                 body={"progress": 1})
        harness.expect_problem(self, r, 428, "precondition_required")
        for stale in ('"%d"' % (before["version"] + 1), '"0"', "W/x"):
            with self.subTest(if_match=stale):
                harness.expect_problem(self, patch(aid, {"progress": 1},
                                                   tag_=stale), 412,
                                       "precondition_failed")
        self.assertEqual(get(aid), before)

    def test_concurrent_reports_of_one_version_one_wins(self):
        # The version is compared under the assignment's lock: of eight
        # reports made from the same version, one is applied.
        p = new_plan()
        a = assign(add_task(p["id"], 1), unit_id=U["thon-4"])[0]
        issue(p)
        path, tag_ = "/api/v1/assignments/" + a["id"], '"%d"' % a["version"]
        got = harness.locked_race(
            "assignments", a["id"], 8, lambda i: call(
                "leader", "PATCH", path, body={"progress": 10 + i},
                headers={"If-Match": tag_}))
        harness.expect_one_winner(self, got)
        won = next(r.json() for r in got if r.status == 200)
        self.assertEqual(won["version"], a["version"] + 1)
        self.assertEqual(get(a["id"], "leader"), won)

    def test_invalid_reports(self):
        aid = F.a["t2_21"]["id"]
        before = get(aid)
        cases = [
            ({}, "empty_patch", None),
            ({"progress": 101}, "invalid_body", {"progress": "range"}),
            ({"progress": -1}, "invalid_body", {"progress": "range"}),
            ({"progress": "50"}, "invalid_body", {"progress": "type"}),
            ({"status": "finished"}, "invalid_body", {"status": "enum"}),
            ({"progress_note": None}, "invalid_body",
             {"progress_note": "null"}),
            ({"progress_note": "n" * 2001}, "invalid_body",
             {"progress_note": "length"}),
            ({"unit_id": U["thon-2"]}, "invalid_body", {"unit_id": "unknown"}),
            ({"role": "lead"}, "invalid_body", {"role": "unknown"}),
            ({"due_on": FUTURE}, "invalid_body", {"due_on": "unknown"}),
            ({"responsible_user_id": "thon1"}, "invalid_body",
             {"responsible_user_id": "format"}),
        ]
        for changes, problem, errors in cases:
            with self.subTest(changes=str(changes)[:50]):
                harness.expect_problem(self, patch(aid, changes), 422,
                                       problem, errors)
        for raw, ctype, status, problem in (
                (b'{"progress": ', "application/json", 400,
                 "malformed_json"),
                (b'{"progress": 1}', "text/plain", 415,
                 "unsupported_media_type"),
                (json.dumps({"progress_note": "n" * (17 * 1024)}).encode(),
                 "application/json", 413, "payload_too_large")):
            with self.subTest(problem=problem):
                r = call("officer", "PATCH", "/api/v1/assignments/" + aid,
                         raw=raw, headers={"Content-Type": ctype,
                                           "If-Match": '"%d"' % version(aid)})
                harness.expect_problem(self, r, status, problem)
        self.assertEqual(get(aid), before)

    def test_responsible_user(self):
        aid = F.a["ongoing_thon1"]["id"]
        me = harness.demo_user_id("officer")
        a = ok(patch(aid, {"responsible_user_id": me})).json()
        self.assertEqual(a["responsible_user_id"], me)
        # Someone of another unit, or nobody, cannot be responsible.
        for uid in (harness.demo_user_id("coordinator"), str(uuid.uuid4())):
            with self.subTest(uid=uid):
                r = patch(F.a["ongoing_front1"]["id"],
                          {"responsible_user_id": uid}, role="leader")
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"responsible_user_id": "unknown"})
        r = patch(F.a["ongoing_front1"]["id"], {"responsible_user_id": me},
                  role="leader")
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"responsible_user_id": "unknown"})

    def test_done_is_100(self):
        aid = F.a["t2_21"]["id"]
        before = get(aid)
        r = patch(aid, {"status": "done", "progress": 90})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"progress": "range"})
        self.assertEqual(get(aid), before)

    def test_only_on_an_issued_plan(self):
        # A draft's work is not started yet; a closed plan's is over.
        aid = F.a["draft_thon1"]["id"]
        for role in ("officer", "leader"):
            with self.subTest(role=role):
                r = patch(aid, {"progress": 10}, role=role)
                harness.expect_problem(self, r, 409, "plan_not_issued")
        self.assertEqual(get(aid, "leader")["progress"], 0)
        p = new_plan()
        a = assign(add_task(p["id"], 1), unit_id=U["thon-1"])[0]
        p = issue(p)
        ok(call("leader", "POST", "/api/v1/plans/%s/close" % p["id"],
                headers={"If-Match": '"%d"' % p["version"]}))
        r = patch(a["id"], {"status": "done"})
        harness.expect_problem(self, r, 409, "plan_not_issued")
        self.assertEqual(get(a["id"])["status"], "not_started")

    def test_unknown_assignment_404(self):
        r = call("leader", "PATCH", "/api/v1/assignments/%s" % uuid.uuid4(),
                 body={"progress": 1}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        r = patch(F.so_assignment["id"], {"progress": 1}, role="leader")
        harness.expect_problem(self, r, 404, "not_found")


class Create(unittest.TestCase):

    def setUp(self):
        self.plan = new_plan()
        self.task = add_task(self.plan["id"], 1, schedule="deadline",
                             due_on=FUTURE)
        self.path = "/api/v1/tasks/%s/assignments" % self.task["id"]

    def rows(self):
        return assignment_rows("t.id = '%s'" % self.task["id"])

    def test_one_unit(self):
        b = {"role": "lead", "unit_id": U["phong-kinh-te"],
             "scope_note": "chủ trì phần kinh tế",
             "due_on": (TODAY + datetime.timedelta(days=20)).isoformat()}
        r = ok(call("leader", "POST", self.path, body=b), 201)
        items = r.json()["items"]
        self.assertEqual(len(items), 1)
        self.assertIsNone(r.headers.get("Location"))
        a = items[0]
        self.assertEqual((a["task_id"], a["plan_id"], a["task_number"],
                          a["unit_id"], a["role"], a["scope_note"],
                          a["due_on"], a["effective_due_on"], a["status"],
                          a["progress"], a["version"]),
                         (self.task["id"], self.plan["id"], 1,
                          U["phong-kinh-te"], "lead", "chủ trì phần kinh tế",
                          b["due_on"], b["due_on"], "not_started", 0, 1))
        self.assertEqual(db().psql("SELECT unit_id, role FROM assignments "
                                   "WHERE id = '%s'" % a["id"]),
                         [(U["phong-kinh-te"], "lead")])
        self.assertEqual(get(a["id"], "leader"), a)
        # A draft plan's assignment is in no inbox yet.
        self.assertNotIn(a["id"], [x["id"] for x in inbox(
            "coordinator", "plan_id=" + self.plan["id"])])

    def test_groups(self):
        for group, want in (("villages", VILLAGES), ("agencies", AGENCIES),
                            ("agencies_and_villages",
                             sorted(AGENCIES + VILLAGES))):
            with self.subTest(group=group):
                role = {"villages": "implement", "agencies": "coordinate",
                        "agencies_and_villages": "lead"}[group]
                items = assign(self.task, role=role, group=group)
                self.assertEqual(sorted(a["unit_id"] for a in items), want)
                self.assertTrue(all(a["role"] == role for a in items))
                self.assertEqual(assignment_rows(
                    "t.id = '%s' AND a.role = '%s'"
                    % (self.task["id"], role)), len(want))
        self.assertEqual(self.rows(), 4 + 5 + 9)

    def test_exactly_one_of_unit_and_group(self):
        for b in ({"role": "implement", "unit_id": U["thon-1"],
                   "group": "villages"},
                  {"role": "implement"}):
            with self.subTest(b=b):
                r = call("leader", "POST", self.path, body=b)
                doc = harness.expect_problem(self, r, 422, "invalid_body")
                self.assertEqual([e["field"] for e in doc["errors"]],
                                 ["unit_id"])
        self.assertEqual(self.rows(), 0)

    def test_units_outside_the_plan_422(self):
        for unit in (U["so-noi-vu"], U["province"], str(uuid.uuid4())):
            with self.subTest(unit=unit):
                r = call("leader", "POST", self.path,
                         body={"role": "implement", "unit_id": unit})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"unit_id": "unknown"})
        # A plan of thon-2 cannot give work to thon-1.
        p = new_plan(issuing_unit_id=U["thon-2"])
        t = add_task(p["id"], 1)
        r = call("leader", "POST", "/api/v1/tasks/%s/assignments" % t["id"],
                 body={"role": "implement", "unit_id": U["thon-1"]})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"unit_id": "unknown"})
        self.assertEqual(self.rows(), 0)
        self.assertEqual(assignment_rows("t.id = '%s'" % t["id"]), 0)

    def test_not_due_after_the_task(self):
        deadline = self.task["due_on"]
        after = (datetime.date.fromisoformat(deadline) +
                 datetime.timedelta(days=1)).isoformat()
        r = call("leader", "POST", self.path, body={
            "role": "implement", "unit_id": U["thon-1"], "due_on": after})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"due_on": "after_deadline"})
        r = call("leader", "POST", self.path, body={
            "role": "implement", "group": "villages", "due_on": after})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"due_on": "after_deadline"})
        self.assertEqual(self.rows(), 0)
        items = assign(self.task, unit_id=U["thon-1"], due_on=deadline)
        self.assertEqual(items[0]["due_on"], deadline)
        # An ongoing task has no deadline to be after.
        t = add_task(self.plan["id"], 2)
        items = assign(t, unit_id=U["thon-1"], due_on="%d-12-01"
                       % (TODAY.year + 1))
        self.assertEqual(items[0]["effective_due_on"],
                         "%d-12-01" % (TODAY.year + 1))

    def test_responsible_user(self):
        officer = harness.demo_user_id("officer")
        a = assign(self.task, unit_id=U["thon-1"],
                   responsible_user_id=officer)[0]
        self.assertEqual(a["responsible_user_id"], officer)
        # Not a user of that unit; or a group, which is not one unit.
        r = call("leader", "POST", self.path, body={
            "role": "lead", "unit_id": U["thon-2"],
            "responsible_user_id": officer})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"unit_id": "unknown"})
        r = call("leader", "POST", self.path, body={
            "role": "lead", "group": "villages",
            "responsible_user_id": officer})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"responsible_user_id": "not_allowed"})
        self.assertEqual(self.rows(), 1)

    def test_bad_fields_422(self):
        base = {"role": "implement", "unit_id": U["thon-1"]}
        cases = [
            ({"role": "owner"}, {"role": "enum"}),
            ({"role": None}, {"role": "null"}),
            ({"unit_id": "thon-1"}, {"unit_id": "format"}),
            ({"unit_id": 21}, {"unit_id": "type"}),
            ({"group": "everyone", "unit_id": None},
             {"group": "enum", "unit_id": "null"}),
            ({"scope_note": "s" * 1001}, {"scope_note": "length"}),
            ({"due_on": "tomorrow"}, {"due_on": "format"}),
            ({"status": "done"}, {"status": "unknown"}),
            ({"progress": 50}, {"progress": "unknown"}),
            ({"responsible_user_id": "x"},
             {"responsible_user_id": "format"}),
        ]
        for extra, errors in cases:
            with self.subTest(extra=str(extra)[:50]):
                b = dict(base)
                b.update(extra)
                r = call("leader", "POST", self.path, body=b)
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        r = call("leader", "POST", self.path, body={"unit_id": U["thon-1"]})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"role": "required"})
        for raw, ctype, status, problem in (
                (b'{"role": "lead"', "application/json", 400,
                 "malformed_json"),
                (b'', "application/json", 400, "body_required"),
                (b'{"role": "lead"}', "application/xml", 415,
                 "unsupported_media_type"),
                (json.dumps(dict(base, scope_note="s" * (17 * 1024)))
                 .encode(), "application/json", 413, "payload_too_large")):
            with self.subTest(problem=problem):
                r = call("leader", "POST", self.path, raw=raw,
                         headers={"Content-Type": ctype})
                harness.expect_problem(self, r, status, problem)
        self.assertEqual(self.rows(), 0)

    def test_issued_plan_needs_an_amendment_reason(self):
        issue(self.plan)
        v0 = ok(call("leader", "GET", "/api/v1/plans/" + self.plan["id"])
                ).json()["version"]
        b = {"role": "implement", "group": "villages"}
        r = call("leader", "POST", self.path, body=b)
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        self.assertEqual(self.rows(), 0)
        r = ok(call("leader", "POST", self.path, body=dict(
            b, amendment_reason="Giao thêm cho các thôn")), 201)
        items = r.json()["items"]
        self.assertEqual(len(items), 4)
        self.assertEqual(self.rows(), 4)
        p = ok(call("leader", "GET", "/api/v1/plans/" + self.plan["id"])
               ).json()
        self.assertEqual(p["version"], v0 + 1)
        v = ok(call("leader", "GET", "/api/v1/plans/%s/versions"
                    % self.plan["id"])).json()["items"]
        self.assertEqual([(x["entity_type"], x["reason"], x["changes"])
                          for x in v],
                         [("assignment", "Giao thêm cho các thôn", b)])
        # Now the plan is issued, the villages see the work.
        mine = [a["id"] for a in items if a["unit_id"] == U["thon-1"]]
        self.assertEqual(len(mine), 1)
        self.assertIn(mine[0], [a["id"] for a in inbox("officer")])

    def test_closed_plan_409(self):
        issue(self.plan)
        p = ok(call("leader", "GET", "/api/v1/plans/" + self.plan["id"])
               ).json()
        ok(call("leader", "POST", "/api/v1/plans/%s/close" % p["id"],
                headers={"If-Match": '"%d"' % p["version"]}))
        r = call("leader", "POST", self.path, body={
            "role": "implement", "unit_id": U["thon-1"],
            "amendment_reason": "Sau khi đóng"})
        harness.expect_problem(self, r, 409, "plan_closed")
        self.assertEqual(self.rows(), 0)

    def test_unknown_hidden_and_unmanaged_tasks_404(self):
        demo_task = ok(call("leader", "GET", "/api/v1/plans/%s/tasks"
                            % COMMUNE_PLAN)).json()["items"][0]
        province_task = add_task(PROVINCE_PLAN, 1, role="admin",
                                 amendment_reason="Thêm để thử")
        for tid in (str(uuid.uuid4()), F.so_assignment["task_id"],
                    province_task["id"]):
            with self.subTest(tid=tid):
                r = call("leader", "POST", "/api/v1/tasks/%s/assignments"
                         % tid, body={"role": "implement",
                                      "unit_id": U["thon-1"],
                                      "amendment_reason": "x"})
                harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(assignment_rows("t.id = '%s'"
                                         % province_task["id"]), 0)
        # The demo plan is the leader's to amend.
        items = assign(demo_task, role="coordinate",
                       unit_id=U["mat-tran-thon-1"],
                       amendment_reason="Ban công tác Mặt trận phối hợp")
        self.assertEqual(items[0]["task_number"], 1)

    def test_only_leader_and_admin_assign(self):
        for role in NON_WRITERS:
            with self.subTest(role=role):
                r = call(role, "POST", self.path, body={
                    "role": "implement", "unit_id": U["thon-1"]})
                harness.expect_problem(self, r, 403, "forbidden")
        self.assertEqual(self.rows(), 0)
        items = assign(self.task, unit_id=U["thon-4"], as_role="admin")
        self.assertEqual(items[0]["unit_id"], U["thon-4"])
        # A draft is read by its editors and by the issuing unit's users;
        # the units below (even the assigned village) and service accounts
        # see it once it is issued.
        for role in harness.ROLES:
            with self.subTest(read=role, status="draft"):
                r = call(role, "GET", self.path)
                if role in ("coordinator", "officer", "service"):
                    harness.expect_problem(self, r, 404, "not_found")
                    r = call(role, "GET", "/api/v1/assignments/" +
                             items[0]["id"])
                    harness.expect_problem(self, r, 404, "not_found")
                else:
                    ok(r)
        issue(self.plan)
        for role in harness.ROLES:
            with self.subTest(read=role, status="issued"):
                ok(call(role, "GET", self.path))


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
