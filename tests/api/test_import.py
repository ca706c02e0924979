"""POST /api/v1/plans/import: a whole plan (milestones, tasks, assignments)
in one document, written all at once or not at all; ?dry_run=true checks
everything and writes nothing; every problem of a bad document is listed
with its path."""

import copy
import json
import os
import unittest
import urllib.parse
import uuid

import harness
from harness import COMMUNE_PLAN, PROVINCE_PLAN, U, call, db, tag

SEED_DOC = os.path.join(harness.ROOT, "db", "seed",
                        "0003_plan_binh_chuong_2026.json")
NON_WRITERS = ("coordinator", "inspector", "officer", "viewer", "service")
PATH = "/api/v1/plans/import"


setUpModule, tearDownModule = harness.fixtures()


def document():
    """A valid document: 2 milestones, 3 tasks, 1 + 4 + 2 + 5 = 12
    assignments after the groups are expanded."""
    return {
        "plan": {"code": "09/KH-UBND", "title": "Kế hoạch nhập " + tag(),
                 "year": 2026, "issuing_unit_id": U["commune"],
                 "issued_on": "2026-02-10", "signer_name": "Võ Văn Tâm",
                 "signer_title": "Chủ tịch", "parent_plan_id": PROVINCE_PLAN,
                 "legal_bases": [{"code": "14/KH-UBND", "date": "2026-01-19",
                                  "issuer": "UBND tỉnh Quảng Ngãi"}],
                 "purposes": "Mục đích", "requirements": "Yêu cầu",
                 "funding": "Ngân sách",
                 "recipients": [{"name": "Sở Nội vụ",
                                 "unit_id": U["so-noi-vu"],
                                 "note": "báo cáo"}]},
        "milestones": [
            {"kind": "six_month_report", "title": "Báo cáo 6 tháng",
             "due_on": "2026-05-15", "receiving_unit_id": U["phong-vh-xh"],
             "owing": {"group": "agencies"}},
            {"kind": "custom", "title": "Báo cáo thôn",
             "due_on": "2026-06-15", "receiving_unit_id": U["phong-vh-xh"],
             "owing": {"unit_ids": [U["thon-1"], U["thon-2"]]},
             "note": "Riêng hai thôn"}],
        "tasks": [
            {"number": 1, "title": "Tuyên truyền", "content": "Nội dung 1",
             "schedule": "ongoing",
             "assignments": [{"role": "lead", "unit_id": U["phong-vh-xh"],
                              "scope_note": "chủ trì"},
                             {"role": "implement", "group": "villages"}]},
            {"number": 2, "title": "Rà soát văn bản", "schedule": "deadline",
             "due_on": "2026-05-30",
             "assignments": [{"role": "implement", "unit_id": U["thon-1"],
                              "due_on": "2026-05-20"},
                             {"role": "coordinate", "unit_id": U["mttq"]}]},
            {"number": 3, "title": "Tập huấn", "schedule": "within_year",
             "assignments": [{"role": "implement", "group": "agencies"}]}],
    }


def counts():
    """Rows of every table an import writes."""
    row = db().psql(
        "SELECT (SELECT count(*) FROM plans), (SELECT count(*) FROM tasks),"
        " (SELECT count(*) FROM milestones),"
        " (SELECT count(*) FROM milestone_units),"
        " (SELECT count(*) FROM assignments),"
        " (SELECT count(*) FROM plan_versions)")
    return tuple(int(x) for x in row[0])


def plan_counts(pid):
    row = db().psql(
        "SELECT (SELECT count(*) FROM milestones WHERE plan_id = '%s'),"
        " (SELECT count(*) FROM tasks WHERE plan_id = '%s'),"
        " (SELECT count(*) FROM assignments a JOIN tasks t ON t.id ="
        "  a.task_id WHERE t.plan_id = '%s')" % (pid, pid, pid))
    return {"milestones": int(row[0][0]), "tasks": int(row[0][1]),
            "assignments": int(row[0][2])}


def post(doc, role="leader", query="", headers=None):
    return call(role, "POST", PATH + query, body=doc, headers=headers)


def audit_count():
    return int(db().psql("SELECT count(*) FROM audit_events")[0][0])


def fields_of(resp):
    out = {}
    for e in resp.json().get("errors") or []:
        out.setdefault(e["field"], set()).add(e["code"])
    return out


class Import(unittest.TestCase):

    def test_valid_document(self):
        doc = document()
        before = counts()
        r = post(doc)
        self.assertEqual(r.status, 201, r.describe())
        out = r.json()
        plan = out["plan"]
        self.assertEqual(out["dry_run"], False)
        self.assertEqual(out["counts"], {"milestones": 2, "tasks": 3,
                                         "assignments": 12})
        self.assertEqual(plan_counts(plan["id"]), out["counts"])
        self.assertEqual(r.headers["Location"], "/api/v1/plans/" + plan["id"])
        for k, v in doc["plan"].items():
            self.assertEqual(plan[k], v, k)
        self.assertEqual(plan["status"], "draft")
        after = counts()
        self.assertEqual(after[0] - before[0], 1)
        self.assertEqual(after[2] - before[2], 2)
        self.assertEqual(after[3] - before[3], 5 + 2)
        self.assertEqual(after[5], before[5])
        # What was written reads back as the document said.
        got = call("viewer", "GET", r.headers["Location"])
        self.assertEqual(got.status, 200, got.describe())
        self.assertEqual(got.json(), plan)
        tasks = call("leader", "GET", "/api/v1/plans/%s/tasks"
                     % plan["id"]).json()["items"]
        self.assertEqual([(t["number"], t["title"], t["schedule"],
                           t["due_on"]) for t in tasks],
                         [(1, "Tuyên truyền", "ongoing", None),
                          (2, "Rà soát văn bản", "deadline", "2026-05-30"),
                          (3, "Tập huấn", "within_year", None)])
        t2 = call("leader", "GET", "/api/v1/tasks/%s/assignments"
                  % tasks[1]["id"]).json()["items"]
        self.assertEqual(sorted((a["role"], a["unit_id"], a["due_on"])
                                for a in t2),
                         sorted([("implement", U["thon-1"], "2026-05-20"),
                                 ("coordinate", U["mttq"], None)]))
        ms = call("leader", "GET", "/api/v1/plans/%s/milestones"
                  % plan["id"]).json()["items"]
        self.assertEqual([(m["kind"], m["due_on"], len(m["owing_unit_ids"]))
                          for m in ms],
                         [("six_month_report", "2026-05-15", 5),
                          ("custom", "2026-06-15", 2)])
        self.assertEqual(ms[1]["note"], "Riêng hai thôn")

    def test_issued_with_a_fixed_id(self):
        doc = document()
        pid = str(uuid.uuid4())
        doc["plan"].update(id=pid, status="issued")
        r = post(doc, role="admin")
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual((r.json()["plan"]["id"], r.json()["plan"]["status"]),
                         (pid, "issued"))
        self.assertEqual(db().psql("SELECT status FROM plans WHERE id = '%s'"
                                   % pid), [("issued",)])
        # The same id again is a conflict, and nothing more is written.
        before = counts()
        doc["plan"]["title"] = "Lần hai"
        r = post(doc, role="admin")
        harness.expect_problem(self, r, 409, "conflict")
        self.assertEqual(counts(), before)
        # The seeded plan's id is taken, too.
        doc["plan"]["id"] = COMMUNE_PLAN
        harness.expect_problem(self, post(doc, role="admin"), 409,
                               "conflict")
        self.assertEqual(counts(), before)

    def test_minimal_document(self):
        r = post({"plan": {"title": "Chỉ có kế hoạch", "year": 2027,
                           "issuing_unit_id": U["thon-3"]}})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["counts"], {"milestones": 0, "tasks": 0,
                                              "assignments": 0})
        self.assertEqual(r.json()["plan"]["issuing_unit_id"], U["thon-3"])

    def test_the_seed_document_imports_as_the_demo_plan(self):
        with open(SEED_DOC, encoding="utf-8") as f:
            doc = json.load(f)
        del doc["plan"]["id"]
        r = post(doc)
        self.assertEqual(r.status, 201, r.describe())
        demo = plan_counts(COMMUNE_PLAN)
        self.assertEqual(demo, {"milestones": 3, "tasks": 11,
                                "assignments": 99})
        self.assertEqual(r.json()["counts"], demo)
        self.assertEqual(plan_counts(r.json()["plan"]["id"]), demo)
        self.assertEqual(r.json()["plan"]["status"], "issued")

    def test_dry_run_writes_nothing(self):
        doc = document()
        before = counts()
        r = post(doc, query="?dry_run=true")
        self.assertEqual(r.status, 200, r.describe())
        out = r.json()
        self.assertEqual(out["dry_run"], True)
        self.assertEqual(out["counts"], {"milestones": 2, "tasks": 3,
                                         "assignments": 12})
        self.assertEqual(out["plan"]["title"], doc["plan"]["title"])
        self.assertIsNone(r.headers.get("Location"))
        self.assertEqual(counts(), before)
        self.assertEqual(db().psql("SELECT count(*) FROM plans WHERE title ="
                                   " '%s'" % doc["plan"]["title"]), [("0",)])
        harness.expect_problem(self, call(
            "leader", "GET", "/api/v1/plans/" + out["plan"]["id"]), 404,
            "not_found")
        self.assertEqual(db().psql("SELECT count(*) FROM audit_events WHERE "
                                   "entity_id = '%s'" % out["plan"]["id"]),
                         [("0",)])
        # dry_run=false is a real import.
        r = post(doc, query="?dry_run=false")
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["dry_run"], False)
        self.assertEqual(counts()[0], before[0] + 1)

    def test_dry_run_with_an_idempotency_key_writes_nothing(self):
        # The key's own transaction is around the import's: the dry run
        # rolls back to its savepoint, and only the key is kept.
        doc, key = document(), "dry-" + tag()
        title = doc["plan"]["title"]
        before, audit = counts(), audit_count()
        r = post(doc, query="?dry_run=true", headers={"Idempotency-Key": key})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["dry_run"], True)
        self.assertEqual(r.json()["counts"], {"milestones": 2, "tasks": 3,
                                              "assignments": 12})
        pid = r.json()["plan"]["id"]
        self.assertEqual(counts(), before)
        self.assertEqual(audit_count(), audit)
        found = call("leader", "GET", "/api/v1/plans?q="
                     + urllib.parse.quote(title))
        self.assertEqual(found.status, 200, found.describe())
        self.assertEqual(found.json()["items"], [])
        harness.expect_problem(self, call("leader", "GET",
                                          "/api/v1/plans/" + pid),
                               404, "not_found")
        # The key keeps the dry run's answer, and still writes nothing.
        again = post(doc, query="?dry_run=true",
                     headers={"Idempotency-Key": key})
        self.assertEqual(again.status, 200, again.describe())
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.json(), r.json())
        self.assertEqual((counts(), audit_count()), (before, audit))
        # A real import under another key is written once.
        r = post(doc, headers={"Idempotency-Key": key + "-real"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(counts()[0], before[0] + 1)

    def test_dry_run_finds_database_problems(self):
        doc = document()
        doc["tasks"][1]["assignments"][0]["due_on"] = "2026-06-30"
        before = counts()
        for q in ("?dry_run=true", ""):
            with self.subTest(q=q):
                r = post(doc, query=q)
                self.assertEqual(r.status, 422, r.describe())
                self.assertEqual(fields_of(r), {
                    "tasks[1].assignments[0].due_on": {"after_deadline"}},
                    r.describe())
        self.assertEqual(counts(), before)

    def test_bad_dry_run_400(self):
        for value in ("yes", "1", "TRUE", ""):
            with self.subTest(value=value):
                r = post(document(), query="?dry_run=" + value)
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertEqual([e["field"] for e in doc["errors"]],
                                 ["dry_run"])


class Problems(unittest.TestCase):

    def test_every_problem_is_listed_and_nothing_written(self):
        doc = document()
        doc["tasks"][0]["number"] = 0                  # a bad number
        doc["tasks"][2]["number"] = 2                  # used twice
        del doc["tasks"][1]["title"]                   # missing
        doc["tasks"][1]["assignments"][1] = {          # unit and group
            "role": "coordinate", "unit_id": U["mttq"], "group": "villages"}
        doc["tasks"][2]["assignments"].append(         # outside the subtree
            {"role": "implement", "unit_id": U["so-noi-vu"]})
        before = counts()
        r = post(doc)
        harness.expect_problem(self, r, 422, "invalid_document")
        self.assertEqual(fields_of(r), {
            "tasks[0].number": {"range"},
            "tasks[2].number": {"duplicate"},
            "tasks[1].title": {"required"},
            "tasks[1].assignments[1].unit_id": {"required"},
            "tasks[2].assignments[1].unit_id": {"unknown"},
        }, r.describe())
        self.assertEqual(counts(), before)
        r = post(doc, query="?dry_run=true")
        harness.expect_problem(self, r, 422, "invalid_document")
        self.assertEqual(counts(), before)

    def test_shape_problems_all_at_once(self):
        doc = document()
        doc["plan"]["year"] = "2026"
        del doc["plan"]["title"]
        doc["plan"]["colour"] = "đỏ"
        doc["milestones"][0]["kind"] = "weekly"
        doc["milestones"][1]["owing"] = {}
        doc["tasks"][0]["number"] = 0
        doc["tasks"][1]["schedule"] = "ongoing"        # due_on not allowed
        doc["tasks"][2]["number"] = 2                  # used twice
        doc["tasks"][0]["assignments"][0]["role"] = "boss"
        doc["tasks"][0]["assignments"][1]["unit_id"] = U["thon-1"]
        doc["tasks"][2]["assignments"] = "agencies"
        doc["appendix"] = []
        before = counts()
        r = post(doc)
        harness.expect_problem(self, r, 422, "invalid_document")
        self.assertEqual(fields_of(r), {
            "plan.year": {"type"},
            "plan.title": {"required"},
            "plan.colour": {"unknown"},
            "milestones[0].kind": {"enum"},
            "milestones[1].owing": {"required"},
            "tasks[0].number": {"range"},
            "tasks[1].due_on": {"not_allowed"},
            "tasks[2].number": {"duplicate"},
            "tasks[0].assignments[0].role": {"enum"},
            "tasks[0].assignments[1].unit_id": {"required"},
            "tasks[2].assignments": {"type"},
            "appendix": {"unknown"},
        }, r.describe())
        self.assertEqual(counts(), before)

    def test_units_outside_the_issuing_unit_all_listed(self):
        doc = document()
        doc["milestones"][0]["receiving_unit_id"] = U["so-noi-vu"]
        doc["milestones"][1]["owing"]["unit_ids"].append(U["province"])
        doc["tasks"][0]["assignments"][0]["unit_id"] = str(uuid.uuid4())
        doc["tasks"][1]["assignments"][1]["unit_id"] = U["so-noi-vu"]
        before = counts()
        r = post(doc)
        harness.expect_problem(self, r, 422, "invalid_document", {
            "milestones[0].receiving_unit_id": "unknown",
            "milestones[1].owing.unit_ids[2]": "unknown",
            "tasks[0].assignments[0].unit_id": "unknown",
            "tasks[1].assignments[1].unit_id": "unknown"})
        self.assertEqual(counts(), before)
        # A plan of thon-2 cannot give work to thon-1.
        doc = document()
        doc["plan"]["issuing_unit_id"] = U["thon-2"]
        doc["milestones"] = []
        doc["tasks"] = [{"number": 1, "title": "x", "schedule": "ongoing",
                         "assignments": [{"role": "implement",
                                          "unit_id": U["thon-1"]}]}]
        r = post(doc)
        harness.expect_problem(self, r, 422, "invalid_document", {
            "tasks[0].assignments[0].unit_id": "unknown"})
        self.assertEqual(counts(), before)

    def test_issuing_unit_named_with_its_path(self):
        before = counts()
        doc = document()
        doc["plan"]["issuing_unit_id"] = U["province"]
        doc["milestones"], doc["tasks"] = [], []
        r = post(doc)
        self.assertEqual(r.status, 422, r.describe())
        self.assertEqual(set(fields_of(r)), {"plan.issuing_unit_id"},
                         r.describe())
        self.assertEqual(counts(), before)

    def test_parent_plan_named_with_its_path(self):
        before = counts()
        doc = document()
        doc["plan"]["parent_plan_id"] = str(uuid.uuid4())
        r = post(doc)
        self.assertEqual(r.status, 422, r.describe())
        self.assertEqual(set(fields_of(r)), {"plan.parent_plan_id"},
                         r.describe())
        self.assertEqual(counts(), before)

    def test_status_is_draft_or_issued(self):
        before = counts()
        doc = document()
        doc["plan"]["status"] = "closed"
        r = post(doc)
        harness.expect_problem(self, r, 422, "invalid_document",
                               {"plan.status": "enum"})
        self.assertEqual(counts(), before)

    def test_not_a_document(self):
        before = counts()
        for b, errors in (({}, {"plan": "required"}),
                          ({"plan": []}, {"plan": "required"}),
                          ({"plan": document()["plan"], "tasks": {}},
                           {"tasks": "type"}),
                          ({"plan": document()["plan"], "milestones": 3},
                           {"milestones": "type"}),
                          ({"plan": document()["plan"], "tasks": [7]},
                           {"tasks[0]": "type"})):
            with self.subTest(b=str(b)[:40]):
                harness.expect_problem(self, post(b), 422, "invalid_document",
                                       errors)
        self.assertEqual(counts(), before)

    def test_bad_requests(self):
        valid = json.dumps(document()).encode()
        big = copy.deepcopy(document())
        big["tasks"] = [{"number": i, "title": "t", "schedule": "ongoing",
                         "content": "c" * 6000} for i in range(1, 200)]
        big = json.dumps(big).encode()
        self.assertGreater(len(big), 1024 * 1024)
        before = counts()
        for raw, ctype, status, problem in (
                (b'{"plan": {', "application/json", 400, "malformed_json"),
                (b'[{"plan": {}}]', "application/json", 400,
                 "body_not_object"),
                (b'', "application/json", 400, "body_required"),
                (valid, "text/plain", 415, "unsupported_media_type"),
                (valid, None, 415, "unsupported_media_type"),
                (big, "application/json", 413, "payload_too_large")):
            with self.subTest(problem=problem, ctype=ctype):
                headers = {"Content-Type": ctype} if ctype else {}
                if len(raw) > 1024 * 1024:
                    r = harness.send_unread("leader", PATH, raw, headers)
                else:
                    r = call("leader", "POST", PATH, raw=raw,
                             headers=headers)
                harness.expect_problem(self, r, status, problem)
        self.assertEqual(counts(), before)
        # The cap is the route's: a document of 300 KiB (over the 256 KiB
        # of POST /plans) is imported.
        doc = document()
        doc["tasks"] += [{"number": i, "title": "t", "schedule": "ongoing",
                          "content": "c" * 3000} for i in range(4, 104)]
        raw = json.dumps(doc).encode()
        self.assertTrue(256 * 1024 < len(raw) < 1024 * 1024, len(raw))
        r = call("leader", "POST", PATH, raw=raw,
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["counts"]["tasks"], 103)


class Roles(unittest.TestCase):

    def test_only_leader_and_admin_import(self):
        before = counts()
        for role in NON_WRITERS:
            with self.subTest(role=role):
                for q in ("", "?dry_run=true"):
                    r = post(document(), role=role, query=q)
                    harness.expect_problem(self, r, 403, "forbidden")
        r = call(None, "POST", PATH, body=document())
        harness.expect_problem(self, r, 401, "unauthenticated")
        self.assertEqual(counts(), before)
        r = post(document(), role="admin")
        self.assertEqual(r.status, 201, r.describe())

    def test_leader_imports_only_for_its_units(self):
        doc = document()
        doc["plan"]["issuing_unit_id"] = U["so-noi-vu"]
        doc["milestones"], doc["tasks"] = [], []
        before = counts()
        r = post(doc)
        harness.expect_problem(self, r, 422, "invalid_reference")
        self.assertEqual(counts(), before)
        r = post(doc, role="admin")
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["plan"]["issuing_unit_id"], U["so-noi-vu"])

    def test_idempotency_key(self):
        doc, key = document(), "import-" + tag()
        first = call("leader", "POST", PATH, body=doc,
                     headers={"Idempotency-Key": key})
        self.assertEqual(first.status, 201, first.describe())
        again = call("leader", "POST", PATH, body=doc,
                     headers={"Idempotency-Key": key})
        self.assertEqual(again.status, 201, again.describe())
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.json(), first.json())
        self.assertEqual(db().psql("SELECT count(*) FROM plans WHERE title ="
                                   " '%s'" % doc["plan"]["title"]), [("1",)])


# The commune's group of offices and villages: 5 + 4 units.
BOTH = "agencies_and_villages"


def big_document(tasks, entries):
    """The document's plan with `tasks` tasks, each with one assignment
    entry per (role, group) of `entries`, and no milestones."""
    doc = document()
    doc["milestones"] = []
    doc["tasks"] = [{"number": i + 1, "title": "Nhiệm vụ %d" % (i + 1),
                     "schedule": "ongoing",
                     "assignments": [{"role": role, "group": group}
                                     for role, group in entries]}
                    for i in range(tasks)]
    return doc


class Bounds(unittest.TestCase):
    """The work of one import is bounded: at most 5000 assignments once
    the groups are expanded, counted before anything is written, and the
    transaction has a deadline (DANVAN_TRANSACTION_TIMEOUT_MS)."""

    ALL_ROLES = [("lead", BOTH), ("coordinate", BOTH), ("implement", BOTH)]

    def test_over_the_cap_is_refused_and_writes_nothing(self):
        before, audit = counts(), audit_count()
        doc = big_document(200, self.ALL_ROLES)   # 200 x 27 = 5400
        for query in ("", "?dry_run=true"):
            with self.subTest(query=query):
                r = post(doc, query=query)
                d = harness.expect_problem(self, r, 413, "import_too_large")
                self.assertIn("5400 assignments", d["detail"])
                self.assertIn("at most 5000", d["detail"])
        # Entries naming one unit count one each; shape problems do not
        # get a document past the count.
        doc = big_document(200, [("implement", U["thon-%d" % k])
                                 for k in range(1, 5)] * 7)
        for t in doc["tasks"]:
            for k, a in enumerate(t["assignments"]):
                a["unit_id"] = a.pop("group")
                a["role"] = ("lead", "coordinate", "implement")[k % 3]
        doc["tasks"][0]["title"] = ""
        r = post(doc)
        d = harness.expect_problem(self, r, 413, "import_too_large")
        self.assertIn("5600 assignments", d["detail"])
        self.assertEqual(counts(), before)
        self.assertEqual(audit_count(), audit)

    def test_at_the_cap_is_taken(self):
        doc = big_document(185, self.ALL_ROLES)   # 185 x 27 = 4995
        doc["tasks"].append({"number": 186, "title": "Nhiệm vụ cuối",
                             "schedule": "ongoing", "assignments": [
                                 {"role": "lead", "group": "agencies"}]})
        before = counts()
        r = post(doc, query="?dry_run=true")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["counts"], {"milestones": 0, "tasks": 186,
                                              "assignments": 5000})
        self.assertEqual(counts(), before)

    def test_past_the_deadline_rolled_back_with_503(self):
        # Allowed by the cap (200 x 13 = 2600), too much for 20 ms.
        doc = big_document(200, [("implement", BOTH),
                                 ("coordinate", "villages")])
        # Signed in here: the tiny server's own sign-in is not under test.
        leader = harness.Bearer(harness.token("leader"))
        before, audit = counts(), audit_count()
        tiny = harness.Server(db(), {
            "DANVAN_TRANSACTION_TIMEOUT_MS": "20"}).start()
        try:
            r = call(leader, "POST", PATH, body=doc, srv=tiny)
            harness.expect_problem(self, r, 503, "request_timeout")
            self.assertEqual(r.headers.get("Retry-After"), "1")
            self.assertEqual(counts(), before)
            self.assertEqual(audit_count(), audit)
            self.assertIn("request_timeout", tiny.stderr())
            # A read is one statement, in no transaction: no deadline.
            r = call(leader, "GET", "/api/v1/plans/" + COMMUNE_PLAN,
                     srv=tiny)
            self.assertEqual(r.status, 200, r.describe())
        finally:
            tiny.stop()
        # The same document within the default deadline is imported.
        r = post(doc)
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["counts"]["assignments"], 2600)
        self.assertEqual(plan_counts(r.json()["plan"]["id"]),
                         {"milestones": 0, "tasks": 200,
                          "assignments": 2600})


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
