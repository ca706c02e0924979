"""Tasks and milestones of a plan over HTTP: lists, pages, caching and
gzip; creating and changing them in a draft, by amendment once the plan is
issued, never once it is closed; schedules and deadlines; bad input; who
may write."""

import gzip
import json
import unittest
import uuid

import harness
from harness import (AGENCIES, COMMUNE_PLAN, PROVINCE_PLAN, U, VILLAGES, call,
                     db, ok, tag)

NON_WRITERS = ("coordinator", "inspector", "officer", "viewer", "service")
so_plan = None


def build():
    global so_plan
    so_plan = new_plan(role="admin", issuing_unit_id=U["so-noi-vu"])


setUpModule, tearDownModule = harness.fixtures(build)


def new_plan(role="leader", status="draft", **extra):
    b = {"title": "Kế hoạch thử " + tag(), "year": 2026,
         "issuing_unit_id": U["commune"]}
    b.update(extra)
    p = ok(call(role, "POST", "/api/v1/plans", body=b), 201).json()
    for to in {"draft": (), "issued": ("issue",),
               "closed": ("issue", "close")}[status]:
        p = ok(call(role, "POST", "/api/v1/plans/%s/%s" % (p["id"], to),
                    headers={"If-Match": '"%d"' % p["version"]})).json()
    return p


def plan_version(pid):
    return ok(call("leader", "GET", "/api/v1/plans/" + pid)).json()["version"]


def add_task(pid, number, role="leader", expect=201, **extra):
    b = {"number": number, "title": "Nhiệm vụ %d" % number,
         "schedule": "ongoing"}
    b.update(extra)
    return ok(call(role, "POST", "/api/v1/plans/%s/tasks" % pid, body=b),
              expect).json()


def milestone_body(**extra):
    b = {"kind": "custom", "title": "Báo cáo chuyên đề " + tag(),
         "due_on": "2026-08-15", "receiving_unit_id": U["phong-vh-xh"],
         "owing": {"group": "agencies"}}
    b.update(extra)
    return b


def task_rows(pid):
    return int(db().psql("SELECT count(*) FROM tasks WHERE plan_id = '%s'"
                         % pid)[0][0])


def milestone_rows(pid):
    return int(db().psql("SELECT count(*) FROM milestones WHERE plan_id = "
                         "'%s'" % pid)[0][0])


def walk(path, limit, role="leader"):
    return harness.pages(role, path, limit=limit, max_pages=100)


def versions(pid):
    return ok(call("leader", "GET", "/api/v1/plans/%s/versions?limit=200"
                   % pid)).json()["items"]


class TaskRead(unittest.TestCase):

    def test_list_of_the_demo_plan(self):
        r = ok(call("viewer", "GET", "/api/v1/plans/%s/tasks" % COMMUNE_PLAN))
        items = r.json()["items"]
        self.assertEqual([t["number"] for t in items], list(range(1, 12)))
        self.assertIsNone(r.json()["next_cursor"])
        self.assertTrue(all(t["plan_id"] == COMMUNE_PLAN for t in items))
        rows = db().psql("SELECT id, number, title, schedule, "
                         "coalesce(due_on::text, '') FROM tasks WHERE "
                         "plan_id = '%s' ORDER BY number" % COMMUNE_PLAN)
        self.assertEqual([(t["id"], str(t["number"]), t["title"],
                           t["schedule"], t["due_on"] or "")
                          for t in items], rows)

    def test_pages_of_four_cover_1_to_11_once(self):
        pages = walk("/api/v1/plans/%s/tasks" % COMMUNE_PLAN, 4)
        self.assertEqual([len(p) for p in pages], [4, 4, 3])
        numbers = [t["number"] for p in pages for t in p]
        self.assertEqual(numbers, list(range(1, 12)))
        self.assertEqual(len({t["id"] for p in pages for t in p}), 11)
        pages = walk("/api/v1/plans/%s/tasks" % COMMUNE_PLAN, 11)
        self.assertEqual([len(p) for p in pages], [11])

    def test_gzip(self):
        path = "/api/v1/plans/%s/tasks" % COMMUNE_PLAN
        plain = ok(call("leader", "GET", path))
        self.assertIsNone(plain.headers.get("Content-Encoding"))
        r = ok(call("leader", "GET", path,
                    headers={"Accept-Encoding": "gzip"}))
        self.assertEqual(r.headers.get("Content-Encoding"), "gzip")
        self.assertIn("accept-encoding", r.headers.get("Vary", "").lower())
        self.assertEqual(json.loads(gzip.decompress(r.body)), plain.json())
        self.assertLess(len(r.body), len(plain.body))

    def test_etag_and_304_on_the_list_and_a_task(self):
        path = "/api/v1/plans/%s/tasks" % COMMUNE_PLAN
        tag_ = ok(call("leader", "GET", path)).headers["ETag"]
        r = call("leader", "GET", path, headers={"If-None-Match": tag_})
        self.assertEqual(r.status, 304, r.describe())
        task = ok(call("leader", "GET", path)).json()["items"][7]
        r = ok(call("officer", "GET", "/api/v1/tasks/" + task["id"]))
        self.assertEqual(r.json(), task)
        self.assertEqual(r.headers["ETag"], '"%d"' % task["version"])
        r = call("officer", "GET", "/api/v1/tasks/" + task["id"],
                 headers={"If-None-Match": r.headers["ETag"]})
        self.assertEqual(r.status, 304, r.describe())

    def test_empty_plan_and_unknown_or_hidden_plans(self):
        p = new_plan()
        r = ok(call("leader", "GET", "/api/v1/plans/%s/tasks" % p["id"]))
        self.assertEqual(r.json(), {"items": [], "next_cursor": None})
        for role, pid in (("leader", str(uuid.uuid4())),
                          ("leader", so_plan["id"]),
                          ("officer", so_plan["id"])):
            with self.subTest(role=role, pid=pid):
                harness.expect_problem(self, call(
                    role, "GET", "/api/v1/plans/%s/tasks" % pid), 404,
                    "not_found")
                harness.expect_problem(self, call(
                    role, "GET", "/api/v1/plans/%s/milestones" % pid), 404,
                    "not_found")
        t = add_task(so_plan["id"], 1, role="admin")
        ok(call("admin", "GET", "/api/v1/tasks/" + t["id"]))
        harness.expect_problem(self, call(
            "leader", "GET", "/api/v1/tasks/" + t["id"]), 404, "not_found")
        harness.expect_problem(self, call(
            "leader", "GET", "/api/v1/tasks/%s" % uuid.uuid4()), 404,
            "not_found")

    def test_bad_page_parameters_400(self):
        path = "/api/v1/plans/%s/tasks" % COMMUNE_PLAN
        for q, field in (("limit=0", "limit"), ("limit=x", "limit"),
                         ("cursor=zz", "cursor"), ("cursor=abc", "cursor")):
            with self.subTest(q=q):
                r = call("leader", "GET", path + "?" + q)
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertEqual([e["field"] for e in doc["errors"]], [field])


class TaskCreate(unittest.TestCase):

    def test_create_and_read_back(self):
        p = new_plan()
        r = ok(call("leader", "POST", "/api/v1/plans/%s/tasks" % p["id"],
                    body={"number": 3, "title": "Tập huấn",
                          "content": "Nội dung đầy đủ",
                          "schedule": "deadline", "due_on": "2026-05-30"}),
               201)
        t = r.json()
        self.assertEqual((t["plan_id"], t["number"], t["title"], t["content"],
                          t["schedule"], t["due_on"], t["version"]),
                         (p["id"], 3, "Tập huấn", "Nội dung đầy đủ",
                          "deadline", "2026-05-30", 1))
        self.assertEqual(r.headers["Location"], "/api/v1/tasks/" + t["id"])
        self.assertEqual(r.headers["ETag"], '"1"')
        self.assertEqual(ok(call("leader", "GET", r.headers["Location"]))
                         .json(), t)
        self.assertEqual(db().psql("SELECT number, schedule, due_on FROM "
                                   "tasks WHERE id = '%s'" % t["id"]),
                         [("3", "deadline", "2026-05-30")])
        w = add_task(p["id"], 1, schedule="within_year")
        self.assertEqual((w["schedule"], w["due_on"], w["content"]),
                         ("within_year", None, ""))
        items = ok(call("leader", "GET", "/api/v1/plans/%s/tasks"
                        % p["id"])).json()["items"]
        self.assertEqual([i["number"] for i in items], [1, 3])
        # A draft records no amendments.
        self.assertEqual(versions(p["id"]), [])
        self.assertEqual(plan_version(p["id"]), 1)

    def test_number_used_twice_409(self):
        p = new_plan()
        add_task(p["id"], 5)
        r = call("leader", "POST", "/api/v1/plans/%s/tasks" % p["id"],
                 body={"number": 5, "title": "Trùng", "schedule": "ongoing"})
        harness.expect_problem(self, r, 409, "conflict")
        self.assertNotIn("tasks_number_in_plan", r.text())
        self.assertEqual(task_rows(p["id"]), 1)
        # The same number in another plan is fine.
        add_task(new_plan()["id"], 5)

    def test_schedule_and_due_on_must_agree(self):
        p = new_plan()
        path = "/api/v1/plans/%s/tasks" % p["id"]
        cases = [
            ({"schedule": "deadline"}, {"due_on": "required"}),
            ({"schedule": "ongoing", "due_on": "2026-05-30"},
             {"due_on": "not_allowed"}),
            ({"schedule": "within_year", "due_on": "2026-12-31"},
             {"due_on": "not_allowed"}),
            ({"schedule": "deadline", "due_on": None},
             {"due_on": "required"}),
        ]
        for extra, errors in cases:
            with self.subTest(extra=extra):
                b = {"number": 1, "title": "Lịch"}
                b.update(extra)
                r = call("leader", "POST", path, body=b)
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        self.assertEqual(task_rows(p["id"]), 0)

    def test_bad_fields_422(self):
        p = new_plan()
        path = "/api/v1/plans/%s/tasks" % p["id"]
        base = {"number": 1, "title": "Nhiệm vụ", "schedule": "ongoing"}
        cases = [
            ({"number": 0}, {"number": "range"}),
            ({"number": 1000}, {"number": "range"}),
            ({"number": "1"}, {"number": "type"}),
            ({"number": 1.5}, {"number": "type"}),
            ({"title": ""}, {"title": "length"}),
            ({"title": "t" * 301}, {"title": "length"}),
            ({"title": ["t"]}, {"title": "type"}),
            ({"schedule": "weekly"}, {"schedule": "enum"}),
            ({"content": 7}, {"content": "type"}),
            ({"schedule": "deadline", "due_on": "30/05/2026"},
             {"due_on": "format"}),
            ({"plan_id": p["id"]}, {"plan_id": "unknown"}),
            ({"id": str(uuid.uuid4())}, {"id": "unknown"}),
            ({"assignments": []}, {"assignments": "unknown"}),
        ]
        for extra, errors in cases:
            with self.subTest(extra=str(extra)[:50]):
                b = dict(base)
                b.update(extra)
                r = call("leader", "POST", path, body=b)
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        r = call("leader", "POST", path, body={})
        harness.expect_problem(self, r, 422, "invalid_body", {
            "number": "required", "title": "required",
            "schedule": "required"})
        self.assertEqual(task_rows(p["id"]), 0)

    def test_an_impossible_deadline_names_the_field(self):
        p = new_plan()
        r = call("leader", "POST", "/api/v1/plans/%s/tasks" % p["id"],
                 body={"number": 1, "title": "Ngày sai",
                       "schedule": "deadline", "due_on": "2026-02-30"})
        self.assertEqual(r.status, 422, r.describe())
        self.assertEqual([e.get("field") for e in
                          r.json().get("errors") or []], ["due_on"],
                         r.describe())
        self.assertEqual(task_rows(p["id"]), 0)

    def test_bad_requests(self):
        p = new_plan()
        path = "/api/v1/plans/%s/tasks" % p["id"]
        valid = json.dumps({"number": 1, "title": "x",
                            "schedule": "ongoing"}).encode()
        big = json.dumps({"number": 1, "title": "x", "schedule": "ongoing",
                          "content": "x" * (64 * 1024)}).encode()
        for raw, ctype, status, problem in (
                (b'{"number": 1', "application/json", 400,
                 "malformed_json"),
                (b'[1]', "application/json", 400, "body_not_object"),
                (valid, "text/plain", 415, "unsupported_media_type"),
                (valid, None, 415, "unsupported_media_type"),
                (big, "application/json", 413, "payload_too_large")):
            with self.subTest(problem=problem, ctype=ctype):
                headers = {"Content-Type": ctype} if ctype else {}
                r = call("leader", "POST", path, raw=raw, headers=headers)
                harness.expect_problem(self, r, status, problem)
        self.assertEqual(task_rows(p["id"]), 0)

    def test_unknown_hidden_and_unmanaged_plans_404(self):
        b = {"number": 99, "title": "x", "schedule": "ongoing"}
        for pid in (str(uuid.uuid4()), so_plan["id"], PROVINCE_PLAN):
            with self.subTest(pid=pid):
                r = call("leader", "POST", "/api/v1/plans/%s/tasks" % pid,
                         body=dict(b, amendment_reason="thử"))
                harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(task_rows(PROVINCE_PLAN), 0)

    def test_issued_plan_needs_an_amendment_reason(self):
        p = new_plan(status="issued")
        v0 = plan_version(p["id"])
        b = {"number": 12, "title": "Bổ sung", "schedule": "deadline",
             "due_on": "2026-09-30"}
        r = call("leader", "POST", "/api/v1/plans/%s/tasks" % p["id"], body=b)
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        self.assertEqual(task_rows(p["id"]), 0)
        self.assertEqual(plan_version(p["id"]), v0)

        r = call("leader", "POST", "/api/v1/plans/%s/tasks" % p["id"],
                 body=dict(b, amendment_reason="Bổ sung nhiệm vụ mới"))
        t = ok(r, 201).json()
        self.assertEqual(task_rows(p["id"]), 1)
        self.assertEqual(plan_version(p["id"]), v0 + 1)
        v = versions(p["id"])
        self.assertEqual(len(v), 1)
        self.assertEqual((v[0]["entity_type"], v[0]["entity_id"],
                          v[0]["reason"], v[0]["changes"], v[0]["before"],
                          v[0]["version"]),
                         ("task", t["id"], "Bổ sung nhiệm vụ mới", b, None,
                          v0 + 1))

    def test_closed_plan_409(self):
        p = new_plan(status="closed")
        r = call("leader", "POST", "/api/v1/plans/%s/tasks" % p["id"],
                 body={"number": 1, "title": "x", "schedule": "ongoing",
                       "amendment_reason": "thử"})
        harness.expect_problem(self, r, 409, "plan_closed")
        self.assertEqual(task_rows(p["id"]), 0)


class TaskUpdate(unittest.TestCase):

    def setUp(self):
        self.plan = new_plan()
        self.task = add_task(self.plan["id"], 1, schedule="deadline",
                             due_on="2026-06-30")

    def patch(self, changes, tag_=None, tid=None):
        return call("leader", "PATCH", "/api/v1/tasks/" +
                    (tid or self.task["id"]), body=changes,
                    headers={"If-Match": tag_ or '"%d"' % ok(call(
                        "leader", "GET", "/api/v1/tasks/" +
                        (tid or self.task["id"]))).json()["version"]})

    def current(self):
        return ok(call("leader", "GET", "/api/v1/tasks/" + self.task["id"])
                  ).json()

    def test_change_fields(self):
        r = ok(self.patch({"title": "Tên mới", "content": "Chi tiết"}))
        t = r.json()
        self.assertEqual((t["title"], t["content"], t["version"],
                          t["number"], t["due_on"]),
                         ("Tên mới", "Chi tiết", 2, 1, "2026-06-30"))
        self.assertEqual(r.headers["ETag"], '"2"')
        self.assertEqual(self.current(), t)

    def test_schedule_changes_keep_due_on_consistent(self):
        # To ongoing: the deadline goes.
        t = ok(self.patch({"schedule": "ongoing"})).json()
        self.assertEqual((t["schedule"], t["due_on"]), ("ongoing", None))
        # To a deadline without a date: refused.
        r = self.patch({"schedule": "deadline"})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"due_on": "required"})
        # A date on an ongoing task: refused.
        r = self.patch({"due_on": "2026-07-01"})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"due_on": "not_allowed"})
        self.assertEqual(self.current(), t)
        t = ok(self.patch({"schedule": "deadline",
                           "due_on": "2026-07-01"})).json()
        self.assertEqual((t["schedule"], t["due_on"]),
                         ("deadline", "2026-07-01"))
        t = ok(self.patch({"due_on": "2026-08-01"})).json()
        self.assertEqual(t["due_on"], "2026-08-01")

    def test_if_match(self):
        path = "/api/v1/tasks/" + self.task["id"]
        r = call("leader", "PATCH", path, body={"title": "x"})
        harness.expect_problem(self, r, 428, "precondition_required")
        for stale in ('"2"', '"x"', "1"):
            with self.subTest(if_match=stale):
                harness.expect_problem(self, self.patch({"title": "x"},
                                                        stale), 412,
                                       "precondition_failed")
        self.assertEqual(self.current(), self.task)

    def test_invalid_patches(self):
        for changes, problem, errors in (
                ({}, "empty_patch", None),
                ({"number": 0}, "invalid_body", {"number": "range"}),
                ({"title": None}, "invalid_body", {"title": "null"}),
                ({"plan_id": COMMUNE_PLAN}, "invalid_body",
                 {"plan_id": "unknown"}),
                ({"schedule": "daily"}, "invalid_body",
                 {"schedule": "enum"})):
            with self.subTest(changes=changes):
                harness.expect_problem(self, self.patch(changes), 422,
                                       problem, errors)
        self.assertEqual(self.current(), self.task)

    def test_concurrent_patches_of_one_version_one_wins(self):
        # The version is compared under the task's lock: of eight changes
        # made from the same version, one is applied and seven are stale.
        path, tag_ = "/api/v1/tasks/" + self.task["id"], '"%d"' % (
            self.task["version"])
        got = harness.locked_race(
            "tasks", self.task["id"], 8, lambda i: call(
                "leader", "PATCH", path, body={"title": "Cùng lúc %d" % i},
                headers={"If-Match": tag_}))
        harness.expect_one_winner(self, got)
        won = next(r.json() for r in got if r.status == 200)
        self.assertEqual(won["version"], self.task["version"] + 1)
        self.assertEqual(self.current(), won)

    def test_number_taken_409(self):
        add_task(self.plan["id"], 2)
        r = self.patch({"number": 2})
        harness.expect_problem(self, r, 409, "conflict")
        self.assertEqual(self.current()["number"], 1)

    def test_unknown_and_unmanaged_tasks_404(self):
        r = call("leader", "PATCH", "/api/v1/tasks/%s" % uuid.uuid4(),
                 body={"title": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        t = add_task(so_plan["id"], 7, role="admin")
        r = call("leader", "PATCH", "/api/v1/tasks/" + t["id"],
                 body={"title": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(ok(call("admin", "GET", "/api/v1/tasks/" + t["id"]))
                         .json()["title"], t["title"])

    def test_issued_plan_needs_an_amendment_reason(self):
        p = new_plan()
        t = add_task(p["id"], 1)
        ok(call("leader", "POST", "/api/v1/plans/%s/issue" % p["id"],
                headers={"If-Match": '"1"'}))
        v0 = plan_version(p["id"])
        r = self.patch({"title": "Đổi tên"}, tid=t["id"])
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        self.assertEqual(ok(call("leader", "GET", "/api/v1/tasks/" + t["id"]))
                         .json(), t)
        r = ok(self.patch({"title": "Đổi tên", "amendment_reason": "Lý do"},
                          tid=t["id"]))
        self.assertEqual(r.json()["title"], "Đổi tên")
        self.assertEqual(plan_version(p["id"]), v0 + 1)
        v = versions(p["id"])
        self.assertEqual([(x["entity_type"], x["entity_id"], x["reason"],
                           x["changes"]) for x in v],
                         [("task", t["id"], "Lý do", {"title": "Đổi tên"})])
        self.assertEqual(v[0]["before"]["title"], t["title"])

    def test_closed_plan_409(self):
        p = new_plan()
        t = add_task(p["id"], 1)
        for to, tag_ in (("issue", '"1"'), ("close", '"2"')):
            ok(call("leader", "POST", "/api/v1/plans/%s/%s" % (p["id"], to),
                    headers={"If-Match": tag_}))
        r = self.patch({"title": "x", "amendment_reason": "y"}, tid=t["id"])
        harness.expect_problem(self, r, 409, "plan_closed")


class MilestoneRead(unittest.TestCase):

    def test_demo_milestones(self):
        for role in harness.ROLES:
            with self.subTest(role=role):
                r = ok(call(role, "GET", "/api/v1/plans/%s/milestones"
                            % COMMUNE_PLAN))
                items = r.json()["items"]
                self.assertEqual([(m["kind"], m["due_on"]) for m in items],
                                 [("unit_plan", "2026-01-30"),
                                  ("six_month_report", "2026-05-15"),
                                  ("annual_report", "2026-10-30")])
                for m in items:
                    self.assertEqual(m["plan_id"], COMMUNE_PLAN)
                    self.assertEqual(m["receiving_unit_id"], U["phong-vh-xh"])
                    self.assertEqual(sorted(m["owing_unit_ids"]), AGENCIES)

    def test_get_one(self):
        listed = ok(call("leader", "GET", "/api/v1/plans/%s/milestones"
                         % COMMUNE_PLAN)).json()["items"]
        for role in harness.ROLES:
            with self.subTest(role=role):
                r = ok(call(role, "GET", "/api/v1/milestones/" +
                            listed[1]["id"]))
                self.assertEqual(r.json(), listed[1])
                self.assertEqual(r.headers["ETag"],
                                 '"%d"' % listed[1]["version"])
                r = call(role, "GET", "/api/v1/milestones/" + listed[1]["id"],
                         headers={"If-None-Match": r.headers["ETag"]})
                self.assertEqual(r.status, 304, r.describe())
        hidden = ok(call("admin", "POST", "/api/v1/plans/%s/milestones"
                         % so_plan["id"],
                         body=milestone_body(receiving_unit_id=U["so-noi-vu"],
                                             owing={"unit_ids": []})),
                    201).json()
        self.assertEqual(ok(call("admin", "GET", "/api/v1/milestones/" +
                                 hidden["id"])).json(), hidden)
        for role, mid in (("leader", hidden["id"]), ("officer", hidden["id"]),
                          ("leader", str(uuid.uuid4()))):
            with self.subTest(role=role, mid=mid):
                harness.expect_problem(self, call(
                    role, "GET", "/api/v1/milestones/" + mid), 404,
                    "not_found")

    def test_pages(self):
        pages = walk("/api/v1/plans/%s/milestones" % COMMUNE_PLAN, 2)
        self.assertEqual([len(p) for p in pages], [2, 1])
        self.assertEqual([m["due_on"] for p in pages for m in p],
                         ["2026-01-30", "2026-05-15", "2026-10-30"])


class MilestoneCreate(unittest.TestCase):

    def create(self, pid, b, expect=201):
        return ok(call("leader", "POST", "/api/v1/plans/%s/milestones" % pid,
                       body=b), expect)

    def test_groups_and_units(self):
        p = new_plan()
        for owing, want in (({"group": "agencies"}, AGENCIES),
                            ({"group": "villages"}, VILLAGES),
                            ({"group": "agencies_and_villages"},
                             sorted(AGENCIES + VILLAGES)),
                            ({"unit_ids": [U["thon-2"], U["phong-kinh-te"]]},
                             sorted([U["thon-2"], U["phong-kinh-te"]])),
                            ({"unit_ids": []}, [])):
            with self.subTest(owing=owing):
                b = milestone_body(owing=owing, note="Ghi chú")
                r = self.create(p["id"], b)
                m = r.json()
                self.assertEqual(sorted(m["owing_unit_ids"]), want)
                self.assertEqual((m["kind"], m["title"], m["due_on"],
                                  m["receiving_unit_id"], m["note"],
                                  m["plan_id"], m["version"]),
                                 (b["kind"], b["title"], b["due_on"],
                                  b["receiving_unit_id"], "Ghi chú", p["id"],
                                  1))
                self.assertEqual(r.headers.get("Location"),
                                 "/api/v1/milestones/" + m["id"])
                self.assertEqual(r.headers["ETag"], '"1"')
                self.assertEqual(ok(call("viewer", "GET",
                                         r.headers["Location"])).json(), m)
                rows = db().psql("SELECT unit_id FROM milestone_units WHERE "
                                 "milestone_id = '%s' ORDER BY unit_id"
                                 % m["id"])
                self.assertEqual([x[0] for x in rows], want)
        items = ok(call("leader", "GET", "/api/v1/plans/%s/milestones"
                        % p["id"])).json()["items"]
        self.assertEqual(len(items), 5)
        self.assertEqual(versions(p["id"]), [])

    def test_order_is_due_on(self):
        p = new_plan()
        for d in ("2026-09-01", "2026-03-01", "2026-06-01"):
            self.create(p["id"], milestone_body(due_on=d))
        items = ok(call("leader", "GET", "/api/v1/plans/%s/milestones"
                        % p["id"])).json()["items"]
        self.assertEqual([m["due_on"] for m in items],
                         ["2026-03-01", "2026-06-01", "2026-09-01"])

    def test_units_outside_the_issuing_unit_422(self):
        p = new_plan()
        for b, errors in (
                (milestone_body(receiving_unit_id=U["so-noi-vu"]),
                 {"receiving_unit_id": "unknown"}),
                (milestone_body(receiving_unit_id=U["province"]),
                 {"receiving_unit_id": "unknown"}),
                (milestone_body(receiving_unit_id=str(uuid.uuid4())),
                 {"receiving_unit_id": "unknown"}),
                (milestone_body(owing={"unit_ids": [U["thon-1"],
                                                    U["so-noi-vu"]]}),
                 {"owing.unit_ids": "unknown"}),
                (milestone_body(owing={"unit_ids": [str(uuid.uuid4())]}),
                 {"owing.unit_ids": "unknown"})):
            with self.subTest(b=str(b)[-80:]):
                r = call("leader", "POST", "/api/v1/plans/%s/milestones"
                         % p["id"], body=b)
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       errors)
        self.assertEqual(milestone_rows(p["id"]), 0)
        self.assertEqual(db().psql("SELECT count(*) FROM milestone_units mu "
                                   "JOIN milestones m ON m.id = "
                                   "mu.milestone_id WHERE m.plan_id = '%s'"
                                   % p["id"]), [("0",)])

    def test_bad_fields_422(self):
        p = new_plan()
        cases = [
            ({"owing": {"group": "agencies", "unit_ids": [U["thon-1"]]}},
             {"owing": "required"}),
            ({"owing": {}}, {"owing": "required"}),
            ({"owing": "agencies"}, {"owing": "type"}),
            ({"owing": {"group": "everyone"}}, {"owing.group": "enum",
                                                "owing": "required"}),
            ({"owing": {"unit_ids": ["x"]}},
             {"owing.unit_ids[0]": "format"}),
            ({"owing": {"unit_ids": "x"}}, {"owing.unit_ids": "type",
                                            "owing": "required"}),
            ({"owing": {"group": "villages", "extra": 1}},
             {"owing.extra": "unknown"}),
            ({"kind": "weekly"}, {"kind": "enum"}),
            ({"due_on": "2026-8-15"}, {"due_on": "format"}),
            ({"title": ""}, {"title": "length"}),
            ({"receiving_unit_id": "phong-vh-xh"},
             {"receiving_unit_id": "format"}),
            ({"note": 3}, {"note": "type"}),
            ({"owing_unit_ids": []}, {"owing_unit_ids": "unknown"}),
        ]
        for extra, errors in cases:
            with self.subTest(extra=str(extra)[:60]):
                r = call("leader", "POST", "/api/v1/plans/%s/milestones"
                         % p["id"], body=milestone_body(**extra))
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        r = call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                 body={})
        harness.expect_problem(self, r, 422, "invalid_body", {
            "kind": "required", "title": "required", "due_on": "required",
            "receiving_unit_id": "required", "owing": "required"})
        r = call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                 raw=b"{]", headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")
        r = call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                 raw=json.dumps(milestone_body()).encode(),
                 headers={"Content-Type": "text/csv"})
        harness.expect_problem(self, r, 415, "unsupported_media_type")
        r = call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                 body=milestone_body(note="n" * (65 * 1024)))
        harness.expect_problem(self, r, 413, "payload_too_large")
        self.assertEqual(milestone_rows(p["id"]), 0)

    def test_issued_and_closed_plans(self):
        p = new_plan(status="issued")
        b = milestone_body()
        r = call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                 body=b)
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        self.assertEqual(milestone_rows(p["id"]), 0)
        m = self.create(p["id"], dict(b, amendment_reason="Thêm mốc")).json()
        v = versions(p["id"])
        self.assertEqual([(x["entity_type"], x["entity_id"], x["reason"],
                           x["changes"]) for x in v],
                         [("milestone", m["id"], "Thêm mốc", b)])
        ok(call("leader", "POST", "/api/v1/plans/%s/close" % p["id"],
                headers={"If-Match": '"%d"' % plan_version(p["id"])}))
        r = call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                 body=dict(b, amendment_reason="Sau khi đóng"))
        harness.expect_problem(self, r, 409, "plan_closed")
        self.assertEqual(milestone_rows(p["id"]), 1)

    def test_hidden_and_unmanaged_plans_404(self):
        for pid in (so_plan["id"], PROVINCE_PLAN, str(uuid.uuid4())):
            with self.subTest(pid=pid):
                r = call("leader", "POST", "/api/v1/plans/%s/milestones"
                         % pid, body=milestone_body(amendment_reason="x"))
                harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(milestone_rows(PROVINCE_PLAN), 0)


class MilestoneUpdate(unittest.TestCase):

    def setUp(self):
        self.plan = new_plan()
        r = ok(call("leader", "POST", "/api/v1/plans/%s/milestones"
                    % self.plan["id"], body=milestone_body()), 201)
        self.m = r.json()

    def patch(self, changes, tag_=None, mid=None):
        return call("leader", "PATCH", "/api/v1/milestones/" +
                    (mid or self.m["id"]), body=changes,
                    headers={"If-Match": tag_ or '"%d"' % self.version(
                        mid or self.m["id"])})

    def version(self, mid):
        return int(db().psql("SELECT version FROM milestones WHERE id = '%s'"
                             % mid)[0][0])

    def current(self, pid=None):
        items = ok(call("leader", "GET", "/api/v1/plans/%s/milestones"
                        % (pid or self.plan["id"]))).json()["items"]
        return {m["id"]: m for m in items}[self.m["id"]]

    def test_change_fields_and_owing(self):
        r = ok(self.patch({"title": "Mốc mới", "due_on": "2026-07-31",
                           "owing": {"group": "villages"}}))
        m = r.json()
        self.assertEqual((m["title"], m["due_on"], m["version"]),
                         ("Mốc mới", "2026-07-31", 2))
        self.assertEqual(sorted(m["owing_unit_ids"]), VILLAGES)
        self.assertEqual(r.headers["ETag"], '"2"')
        self.assertEqual(self.current(), m)
        m = ok(self.patch({"owing": {"unit_ids": [U["mttq"]]}})).json()
        self.assertEqual(m["owing_unit_ids"], [U["mttq"]])
        m = ok(self.patch({"receiving_unit_id": U["vp-hdnd-ubnd"]})).json()
        self.assertEqual(m["receiving_unit_id"], U["vp-hdnd-ubnd"])
        self.assertEqual(m["owing_unit_ids"], [U["mttq"]])

    def owing_rows(self):
        return sorted(u for (u,) in db().psql(
            "SELECT unit_id FROM milestone_units WHERE milestone_id = '%s'"
            % self.m["id"]))

    def test_owing_sets_that_keep_units(self):
        # The ordinary way to add one unit: the set as it was, plus one.
        m = ok(self.patch({"owing": {"unit_ids": AGENCIES + [U["mttq"]]}}))
        want = sorted(AGENCIES + [U["mttq"]])
        self.assertEqual(m.json()["owing_unit_ids"], want)
        self.assertEqual(self.owing_rows(), want)
        # One leaves, the others stay.
        keep = [u for u in want if u != U["phong-kinh-te"]]
        m = ok(self.patch({"owing": {"unit_ids": keep}}))
        self.assertEqual(m.json()["owing_unit_ids"], keep)
        self.assertEqual(self.owing_rows(), keep)
        # The same set again, and a group that keeps some and adds others.
        ok(self.patch({"owing": {"unit_ids": list(reversed(keep))}}))
        self.assertEqual(self.owing_rows(), keep)
        m = ok(self.patch({"owing": {"group": "agencies_and_villages"}}))
        self.assertEqual(m.json()["owing_unit_ids"],
                         sorted(AGENCIES + VILLAGES))
        self.assertEqual(self.owing_rows(), sorted(AGENCIES + VILLAGES))
        self.assertEqual(m.json()["version"], self.m["version"] + 4)
        self.assertEqual(self.current(), m.json())

    def test_owing_amendments_keep_the_old_set(self):
        ok(call("leader", "POST", "/api/v1/plans/%s/issue" % self.plan["id"],
                headers={"If-Match": '"1"'}))
        add = {"owing": {"unit_ids": AGENCIES + [U["thon-1"]]}}
        r = self.patch(add)
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        self.assertEqual(self.owing_rows(), AGENCIES)
        m = ok(self.patch(dict(add, amendment_reason="Thêm thôn 1"))).json()
        grown = sorted(AGENCIES + [U["thon-1"]])
        self.assertEqual(m["owing_unit_ids"], grown)
        drop = {"owing": {"unit_ids": AGENCIES[1:] + [U["thon-1"]]}}
        m = ok(self.patch(dict(drop, amendment_reason="Bớt một"))).json()
        self.assertEqual(m["owing_unit_ids"], sorted(AGENCIES[1:] +
                                                     [U["thon-1"]]))
        self.assertEqual(self.owing_rows(), m["owing_unit_ids"])
        v = versions(self.plan["id"])
        self.assertEqual([(x["entity_id"], x["reason"], x["changes"])
                          for x in v],
                         [(self.m["id"], "Thêm thôn 1", add),
                          (self.m["id"], "Bớt một", drop)])
        self.assertEqual([sorted(x["before"]["owing_unit_ids"]) for x in v],
                         [AGENCIES, grown])
        self.assertEqual(v[0]["before"]["title"], self.m["title"])

    def test_if_match(self):
        path = "/api/v1/milestones/" + self.m["id"]
        r = call("leader", "PATCH", path, body={"title": "x"})
        harness.expect_problem(self, r, 428, "precondition_required")
        harness.expect_problem(self, self.patch({"title": "x"}, '"5"'), 412,
                               "precondition_failed")
        self.assertEqual(self.current(), self.m)

    def test_invalid_patches(self):
        for changes, problem, errors in (
                ({}, "empty_patch", None),
                ({"kind": "yearly"}, "invalid_body", {"kind": "enum"}),
                ({"due_on": None}, "invalid_body", {"due_on": "null"}),
                ({"owing": {"group": "x"}}, "invalid_body",
                 {"owing.group": "enum", "owing": "required"}),
                ({"plan_id": COMMUNE_PLAN}, "invalid_body",
                 {"plan_id": "unknown"})):
            with self.subTest(changes=changes):
                harness.expect_problem(self, self.patch(changes), 422,
                                       problem, errors)
        for changes, errors in (
                ({"receiving_unit_id": U["so-noi-vu"]},
                 {"receiving_unit_id": "unknown"}),
                ({"owing": {"unit_ids": [U["province"]]}},
                 {"owing.unit_ids": "unknown"})):
            with self.subTest(changes=changes):
                harness.expect_problem(self, self.patch(changes), 422,
                                       "invalid_reference", errors)
        self.assertEqual(self.current(), self.m)

    def test_concurrent_patches_of_one_version_one_wins(self):
        # Of eight changes made from the same version, one is applied.
        path, tag_ = "/api/v1/milestones/" + self.m["id"], '"%d"' % (
            self.m["version"])
        got = harness.locked_race(
            "milestones", self.m["id"], 8, lambda i: call(
                "leader", "PATCH", path, body={"title": "Cùng lúc %d" % i},
                headers={"If-Match": tag_}))
        harness.expect_one_winner(self, got)
        won = next(r.json() for r in got if r.status == 200)
        self.assertEqual(won["version"], self.m["version"] + 1)
        self.assertEqual(self.current(), won)

    def test_unknown_and_unmanaged_404(self):
        r = call("leader", "PATCH", "/api/v1/milestones/%s" % uuid.uuid4(),
                 body={"title": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        demo = ok(call("leader", "GET", "/api/v1/plans/%s/milestones"
                       % COMMUNE_PLAN)).json()["items"][0]
        # The leader manages the commune plan, the officer does not write.
        r = call("officer", "PATCH", "/api/v1/milestones/" + demo["id"],
                 body={"title": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 403, "forbidden")
        r = ok(call("admin", "POST", "/api/v1/plans/%s/milestones"
                    % so_plan["id"],
                    body=milestone_body(receiving_unit_id=U["so-noi-vu"],
                                        owing={"unit_ids": []})), 201)
        r = call("leader", "PATCH", "/api/v1/milestones/" + r.json()["id"],
                 body={"title": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")

    def test_issued_plan_needs_an_amendment_reason(self):
        ok(call("leader", "POST", "/api/v1/plans/%s/issue" % self.plan["id"],
                headers={"If-Match": '"1"'}))
        r = self.patch({"due_on": "2026-12-01"})
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        self.assertEqual(self.current(), self.m)
        m = ok(self.patch({"due_on": "2026-12-01",
                           "amendment_reason": "Lùi hạn"})).json()
        self.assertEqual(m["due_on"], "2026-12-01")
        v = versions(self.plan["id"])
        self.assertEqual([(x["entity_type"], x["entity_id"], x["reason"],
                           x["changes"]) for x in v],
                         [("milestone", self.m["id"], "Lùi hạn",
                           {"due_on": "2026-12-01"})])
        self.assertEqual(v[0]["before"]["due_on"], self.m["due_on"])
        ok(call("leader", "POST", "/api/v1/plans/%s/close" % self.plan["id"],
                headers={"If-Match": '"%d"' % plan_version(self.plan["id"])}))
        r = self.patch({"title": "x", "amendment_reason": "y"})
        harness.expect_problem(self, r, 409, "plan_closed")


class Roles(unittest.TestCase):

    def test_only_leader_and_admin_write(self):
        p = new_plan()
        t = add_task(p["id"], 1)
        m = ok(call("leader", "POST", "/api/v1/plans/%s/milestones" % p["id"],
                    body=milestone_body()), 201).json()
        for role in NON_WRITERS:
            with self.subTest(role=role):
                for method, path, b in (
                        ("POST", "/api/v1/plans/%s/tasks" % p["id"],
                         {"number": 2, "title": "x", "schedule": "ongoing"}),
                        ("PATCH", "/api/v1/tasks/" + t["id"], {"title": "x"}),
                        ("POST", "/api/v1/plans/%s/milestones" % p["id"],
                         milestone_body()),
                        ("PATCH", "/api/v1/milestones/" + m["id"],
                         {"title": "x"})):
                    r = call(role, method, path, body=b,
                             headers={"If-Match": '"1"'})
                    harness.expect_problem(self, r, 403, "forbidden")
        self.assertEqual(task_rows(p["id"]), 1)
        self.assertEqual(milestone_rows(p["id"]), 1)
        self.assertEqual(ok(call("leader", "GET", "/api/v1/tasks/" + t["id"]))
                         .json(), t)
        # The admin writes as the leader does.
        ok(call("admin", "POST", "/api/v1/plans/%s/tasks" % p["id"],
                body={"number": 2, "title": "x", "schedule": "ongoing"}), 201)
        ok(call("admin", "PATCH", "/api/v1/milestones/" + m["id"],
                body={"title": "y"}, headers={"If-Match": '"1"'}))

    def test_every_role_reads(self):
        task = ok(call("leader", "GET", "/api/v1/plans/%s/tasks"
                       % COMMUNE_PLAN)).json()["items"][0]
        for role in harness.ROLES:
            with self.subTest(role=role):
                for path in ("/api/v1/plans/%s/tasks" % COMMUNE_PLAN,
                             "/api/v1/plans/%s/milestones" % COMMUNE_PLAN,
                             "/api/v1/tasks/" + task["id"]):
                    ok(call(role, "GET", path))


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
