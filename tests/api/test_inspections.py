"""Inspections over HTTP: Phòng VH-XH issues its inspection plan, the team
visits Phòng Kinh tế, records findings and recommendations and completes
the visit with minutes; the office answers with evidence, one answer is
accepted and one reopened, and when the server's today passes its due day
(today_vn() moved, as the obligations tests move due days around today) it
is overdue in the lists and the follow-up view. Then, per endpoint: bad
input, roles that may not, objects of other units (404) and ids smuggled in
the body (422 invalid_reference, the same for missing and out of reach)."""

import datetime
import hashlib
import secrets
import unittest
import uuid
from zoneinfo import ZoneInfo

import harness
from harness import CHECK, COMMUNE_PLAN, U, call, db

KT, VHXH = U["phong-kinh-te"], U["phong-vh-xh"]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = datetime.datetime.now(VN).date()
PDF = b"%PDF-1.4\n% bien ban kiem tra\n" + secrets.token_bytes(64)


def day(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


class F:
    ids = {}
    iplan = insp = None
    recs = []


def build():
    # Every demo account signs in (call(username, ...) acts as it).
    for acct in harness.demo_accounts():
        if "password" in acct:
            harness.token(acct["username"])
            F.ids[acct["username"]] = harness.user_id(acct["username"])
    F.tasks = {int(n): i for i, n in db().psql(
        "SELECT id, number FROM tasks WHERE plan_id = '%s'" % COMMUNE_PLAN)}


setUpModule, tearDownModule = harness.fixtures(build)


def ok(resp, status=200):
    CHECK.assertEqual(resp.status, status, resp.describe())
    return resp.json() if resp.body else None


def etag(resp):
    return {"If-Match": resp.headers["ETag"]}


def fresh(who, path):
    r = call(who, "GET", path)
    CHECK.assertEqual(r.status, 200, r.describe())
    return r


def step(who, path, action, body=None, status=200):
    cur = fresh("kiemtra", path)
    return call(who, "POST", path + "/" + action, body=body,
                headers=etag(cur)), status


def set_today(offset_days):
    """Moves the server's notion of today (today_vn) by offset days."""
    db().psql(
        "CREATE OR REPLACE FUNCTION today_vn() RETURNS date LANGUAGE sql "
        "STABLE PARALLEL SAFE RETURN ((now() + interval '%d days') AT TIME "
        "ZONE 'Asia/Ho_Chi_Minh')::date" % offset_days)


def team(*names):
    return [{"user_id": F.ids[n], "role": "lead" if i == 0 else "member"}
            for i, n in enumerate(names)]


class AStory(unittest.TestCase):
    """The issue's story, in order (before the other classes, which use it)."""

    def test_1_plan_issued(self):
        r = call("vhxh", "POST", "/api/v1/inspection-plans", body={
            "plan_id": COMMUNE_PLAN, "issuing_unit_id": VHXH,
            "title": "Kế hoạch kiểm tra, giám sát (thử)",
            "period_start": day(-30), "period_end": day(60)})
        F.iplan = ok(r, 201)
        self.assertEqual(r.headers["Location"],
                         "/api/v1/inspection-plans/" + F.iplan["id"])
        self.assertEqual((F.iplan["status"], F.iplan["amendments"]),
                         ("draft", []))
        path = "/api/v1/inspection-plans/" + F.iplan["id"]
        doc = ok(call("vhxh", "POST", path + "/issue",
                      headers=etag(fresh("vhxh", path))))
        self.assertEqual(doc["status"], "issued")
        self.assertEqual(doc["issued_by"], F.ids["vhxh"])
        r = call("vhxh", "PATCH", path, body={"title": "Đổi tên"},
                 headers=etag(fresh("vhxh", path)))
        harness.expect_problem(self, r, 422, "amendment_required",
                               {"amendment_reason": "required"})
        doc = ok(call("vhxh", "PATCH", path, body={
            "period_end": day(90), "amendment_reason": "Bổ sung đợt kiểm tra"},
            headers=etag(fresh("vhxh", path))))
        self.assertEqual([(a["reason"], a["changes"]) for a in
                          doc["amendments"]],
                         [("Bổ sung đợt kiểm tra", {"period_end": day(90)})])
        r = call("vhxh", "POST", path + "/issue", headers=etag(fresh("vhxh",
                                                                     path)))
        harness.expect_problem(self, r, 409, "invalid_transition")

    def test_2_visit_planned(self):
        r = call("vhxh", "POST", "/api/v1/inspections", body={
            "inspection_plan_id": F.iplan["id"], "kind": "inspection",
            "title": "Kiểm tra Phòng Kinh tế (thử)", "target_unit_id": KT,
            "scheduled_on": day(0), "team": team("kiemtra", "bxdd"),
            "task_ids": [F.tasks[2], F.tasks[3]]}, headers={
                "Idempotency-Key": "insp-" + secrets.token_hex(4)})
        F.insp = ok(r, 201)
        self.assertEqual((F.insp["status"], F.insp["inspecting_unit_id"],
                          sorted(F.insp["task_ids"])),
                         ("planned", VHXH, sorted([F.tasks[2], F.tasks[3]])))
        self.assertEqual([(m["user_id"], m["role"]) for m in F.insp["team"]],
                         [(F.ids["kiemtra"], "lead"), (F.ids["bxdd"], "member")])
        # The inspected office sees its visit; its officer cannot work on it.
        path = "/api/v1/inspections/" + F.insp["id"]
        self.assertEqual(ok(call("kinhte", "GET", path))["id"], F.insp["id"])
        r = call("kinhte", "POST", path + "/findings", body={
            "text": "x", "severity": "info"})
        harness.expect_problem(self, r, 403, "forbidden")
        # Before the visit starts there are no findings.
        r = call("kiemtra", "POST", path + "/findings", body={
            "text": "Sớm quá", "severity": "info"})
        harness.expect_problem(self, r, 409, "inspection_not_in_progress")

    def test_3_visit_conducted(self):
        path = "/api/v1/inspections/" + F.insp["id"]
        r, _ = step("kiemtra", path, "start")
        doc = ok(r)
        self.assertEqual((doc["status"], doc["conducted_on"]),
                         ("in_progress", TODAY.isoformat()))
        for n, (text, sev, task) in enumerate((
                ("Sổ tiếp công dân ghi thiếu kết quả", "minor", 3),
                ("Chưa niêm yết thủ tục hành chính", "major", 2))):
            f = ok(call("bxdd", "POST", path + "/findings", body={
                "text": text, "severity": sev, "task_id": F.tasks[task],
                "recommendations": [{"text": "Khắc phục: " + text,
                                     "due_on": day(1)}]}), 201)
            self.assertEqual((f["severity"], f["task_id"],
                              len(f["recommendation_ids"])),
                             (sev, F.tasks[task], 1))
            F.recs += f["recommendation_ids"]
        # Phòng VH-XH manages the plan but is not on this team.
        r = call("vhxh", "POST", path + "/findings", body={
            "text": "Ngoài đoàn", "severity": "info"})
        harness.expect_problem(self, r, 409, "not_on_team")
        r = call("kiemtra", "POST", path + "/attachments?filename=Bi%C3%AAn%20"
                 "b%E1%BA%A3n.pdf", raw=PDF, headers={
                    "Content-Type": "application/pdf"})
        att = ok(r, 201)
        self.assertEqual((att["inspection_id"], att["filename"], att["size"]),
                         (F.insp["id"], "Biên bản.pdf", len(PDF)))
        got = call("kinhte", "GET", r.headers["Location"])
        self.assertEqual((got.status, got.body), (200, PDF))
        doc = ok(call("kiemtra", "GET", path + "/findings"))
        self.assertEqual(len(doc["items"]), 2)
        r, _ = step("kiemtra", path, "complete", body={})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"conclusion": "required"})
        r, _ = step("kiemtra", path, "complete", body={
            "conclusion": "Cơ bản thực hiện tốt; khắc phục hai tồn tại.",
            "minutes": "Biên bản kiểm tra (thử)"})
        doc = ok(r)
        self.assertEqual((doc["status"], doc["findings"]), ("completed", 2))
        r = call("kiemtra", "POST", path + "/findings", body={
            "text": "Muộn", "severity": "info"})
        harness.expect_problem(self, r, 409, "inspection_not_in_progress")

    def test_4_unit_responds_with_evidence(self):
        mine = ok(call("kinhte", "GET", "/api/v1/recommendations?"
                       "inspection_id=" + F.insp["id"]))["items"]
        self.assertEqual(sorted(x["id"] for x in mine), sorted(F.recs))
        for rid in F.recs:
            path = "/api/v1/recommendations/" + rid
            r = call("kinhte", "POST", path + "/attachments?filename=anh.png",
                     raw=b"\x89PNG\r\n\x1a\n" + rid.encode(),
                     headers={"Content-Type": "image/png"})
            ok(r, 201)
            doc = ok(call("kinhte", "POST", path + "/respond", body={
                "response": "Đã khắc phục, gửi kèm ảnh."},
                headers=etag(fresh("kinhte", path))))
            self.assertEqual((doc["status"], doc["responded_by"],
                              doc["attachments"]),
                             ("responded", F.ids["kinhte"], 1))
            files = ok(call("kiemtra", "GET", path + "/attachments"))["items"]
            self.assertEqual([f["recommendation_id"] for f in files], [rid])

    def test_5_one_resolved_one_reopened(self):
        a, b = ("/api/v1/recommendations/" + x for x in F.recs)
        doc = ok(call("kiemtra", "POST", a + "/resolve",
                      headers=etag(fresh("kiemtra", a))))
        self.assertEqual((doc["status"], doc["resolved_by"]),
                         ("resolved", F.ids["kiemtra"]))
        r = call("kiemtra", "POST", b + "/reopen", body={},
                 headers=etag(fresh("kiemtra", b)))
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"reason": "required"})
        doc = ok(call("kiemtra", "POST", b + "/reopen", body={
            "reason": "Chưa niêm yết trên trang thông tin điện tử"},
            headers=etag(fresh("kiemtra", b))))
        self.assertEqual((doc["status"], doc["reopen_count"], doc["overdue"]),
                         ("open", 1, False))
        r = call("kinhte", "POST", a + "/attachments?filename=b.png",
                 raw=b"\x89PNG\r\n\x1a\nmore", headers={
                    "Content-Type": "image/png"})
        harness.expect_problem(self, r, 409, "recommendation_locked")

    def test_6_overdue_after_the_due_day(self):
        a, b = F.recs
        try:
            set_today(2)
            doc = ok(call("vhxh", "GET", "/api/v1/recommendations/" + b))
            self.assertEqual((doc["status"], doc["overdue"]), ("open", True))
            self.assertFalse(ok(call("vhxh", "GET", "/api/v1/recommendations/"
                                     + a))["overdue"])
            over = ok(call("vhxh", "GET", "/api/v1/recommendations?overdue=true"
                           "&inspection_id=" + F.insp["id"]))["items"]
            self.assertEqual([x["id"] for x in over], [b])
            fu = ok(call("vhxh", "GET", "/api/v1/inspections/follow-up"))
            self.assertEqual(fu["as_of"], day(2))
            kt = [u for u in fu["units"] if u["unit_id"] == KT]
            self.assertEqual(len(kt), 1, fu)
            self.assertIn(b, [x["id"] for x in kt[0]["overdue_recommendations"]])
            self.assertNotIn(a, [x["id"] for x in
                                 kt[0]["overdue_recommendations"]])
        finally:
            set_today(0)
        self.assertFalse(ok(call("vhxh", "GET", "/api/v1/recommendations/"
                                 + b))["overdue"])

    def test_7_audited(self):
        r = call("leader", "GET", "/api/v1/audit?entity_id=" + F.recs[1])
        actions = [e["action"] for e in ok(r)["items"]]
        self.assertEqual(actions, ["reopen", "respond", "attach", "create"])
        r = call("leader", "GET", "/api/v1/audit?entity_id="
                 + F.insp["id"])
        self.assertEqual({e["action"] for e in ok(r)["items"]},
                         {"create", "start", "complete", "attach"})


class Demo(unittest.TestCase):

    def test_seeded_plan(self):
        items = ok(call("leader", "GET", "/api/v1/inspections?"
                        "inspection_plan_id=5eed0000-0000-4000-8000-"
                        "000000000701"))["items"]
        self.assertEqual([x["status"] for x in items],
                         ["completed", "in_progress", "planned"])
        recs = ok(call("leader", "GET", "/api/v1/recommendations?"
                       "inspection_id=" + items[0]["id"]))["items"]
        self.assertEqual(sorted((x["status"], x["overdue"]) for x in recs),
                         [("open", True), ("resolved", False)])


class Records(unittest.TestCase):
    """While a second visit to Phòng Kinh tế is in progress, the team
    corrects a finding, adds recommendations by themselves (one of the
    visit, one of the finding) and files the visit's minutes, which the
    visit's list of files shows."""

    @classmethod
    def setUpClass(cls):
        cls.visit = ok(call("vhxh", "POST", "/api/v1/inspections", body={
            "inspection_plan_id": F.iplan["id"], "kind": "inspection",
            "title": "Kiểm tra lại Phòng Kinh tế (thử)", "target_unit_id": KT,
            "scheduled_on": day(0), "team": team("kiemtra")}), 201)
        cls.path = "/api/v1/inspections/" + cls.visit["id"]
        r, _ = step("kiemtra", cls.path, "start")
        CHECK.assertEqual(ok(r)["status"], "in_progress")

    def finding(self, text):
        return ok(call("kiemtra", "POST", self.path + "/findings", body={
            "text": text, "severity": "info"}), 201)

    def findings(self):
        return {f["id"]: f for f in
                ok(call("kiemtra", "GET", self.path + "/findings"))["items"]}

    def test_finding_corrected(self):
        f = self.finding("Sổ theo dõi chưa cập nhật")
        path = "/api/v1/findings/" + f["id"]
        r = call("kiemtra", "PATCH", path, body={
            "text": "Sổ theo dõi đơn thư chưa cập nhật từ tháng 9",
            "severity": "major", "task_id": F.tasks[2]},
            headers={"If-Match": '"%d"' % f["version"]})
        doc = ok(r)
        self.assertEqual((doc["id"], doc["text"], doc["severity"],
                          doc["task_id"], doc["version"]),
                         (f["id"], "Sổ theo dõi đơn thư chưa cập nhật từ "
                          "tháng 9", "major", F.tasks[2], f["version"] + 1))
        self.assertEqual(r.headers["ETag"], '"%d"' % doc["version"])
        self.assertEqual(self.findings()[f["id"]], doc)
        # The version it was read at is gone; who is not on the team may not.
        r = call("kiemtra", "PATCH", path, body={"severity": "minor"},
                 headers={"If-Match": '"%d"' % f["version"]})
        harness.expect_problem(self, r, 412, "precondition_failed")
        r = call("vhxh", "PATCH", path, body={"severity": "minor"},
                 headers={"If-Match": '"%d"' % doc["version"]})
        harness.expect_problem(self, r, 409, "not_on_team")
        self.assertEqual(self.findings()[f["id"]]["severity"], "major")

    def test_recommendations_of_the_team(self):
        r = call("kiemtra", "POST", "/api/v1/recommendations", body={
            "inspection_id": self.visit["id"],
            "text": "Niêm yết quy trình tiếp nhận phản ánh", "due_on": day(14)})
        own = ok(r, 201)
        self.assertEqual(r.headers["Location"],
                         "/api/v1/recommendations/" + own["id"])
        self.assertEqual((own["inspection_id"], own["finding_id"],
                          own["responsible_unit_id"], own["due_on"],
                          own["status"], own["overdue"], own["attachments"]),
                         (self.visit["id"], None, KT, day(14), "open", False,
                          0))
        self.assertEqual(ok(call("kinhte", "GET", r.headers["Location"])),
                         own)
        f = self.finding("Chưa phân công người theo dõi")
        of = ok(call("kiemtra", "POST", "/api/v1/recommendations", body={
            "inspection_id": self.visit["id"], "finding_id": f["id"],
            "text": "Phân công một cán bộ theo dõi", "due_on": day(7)}), 201)
        self.assertEqual((of["finding_id"], of["responsible_unit_id"]),
                         (f["id"], KT))
        self.assertEqual(self.findings()[f["id"]]["recommendation_ids"],
                         [of["id"]])
        # Its unit answers with a photo, stored once however often sent.
        photo = b"\x89PNG\r\n\x1a\n" + of["id"].encode()
        url = "/api/v1/recommendations/%s/attachments?filename=anh.png" \
            % of["id"]
        first = ok(call("kinhte", "POST", url, raw=photo,
                        headers={"Content-Type": "image/png"}), 201)
        again = ok(call("kinhte", "POST", url, raw=photo,
                        headers={"Content-Type": "image/png"}))
        self.assertEqual(again, first)
        self.assertEqual(ok(call("kinhte", "GET", "/api/v1/recommendations/"
                                 + of["id"]))["attachments"], 1)
        mine = ok(call("kinhte", "GET", "/api/v1/recommendations?"
                       "inspection_id=" + self.visit["id"]))["items"]
        self.assertEqual(sorted(x["id"] for x in mine),
                         sorted((own["id"], of["id"])))
        r = call("vhxh", "POST", "/api/v1/recommendations", body={
            "inspection_id": self.visit["id"], "text": "Ngoài đoàn",
            "due_on": day(7)})
        harness.expect_problem(self, r, 409, "not_on_team")

    def test_visit_changed(self):
        cur = fresh("kiemtra", self.path)
        version = cur.json()["version"]
        doc = ok(call("kiemtra", "PATCH", self.path, body={
            "title": "Kiểm tra lại Phòng Kinh tế, đợt 2 (thử)",
            "scheduled_on": day(1)}, headers=etag(cur)))
        self.assertEqual((doc["title"], doc["scheduled_on"], doc["status"],
                          doc["version"]),
                         ("Kiểm tra lại Phòng Kinh tế, đợt 2 (thử)", day(1),
                          "in_progress", version + 1))
        self.assertEqual(fresh("kinhte", self.path).json(), doc)
        r = call("kinhte", "PATCH", self.path, body={"title": "x"},
                 headers=etag(fresh("kinhte", self.path)))
        harness.expect_problem(self, r, 403, "forbidden")

    def test_team_and_scope_replaced_keeping_some(self):
        # The lead and a task stay, a member comes, then goes again.
        for names, tasks in ((("kiemtra", "bxdd"), [F.tasks[2]]),
                             (("kiemtra",), [F.tasks[2], F.tasks[3]])):
            cur = fresh("kiemtra", self.path)
            doc = ok(call("kiemtra", "PATCH", self.path, body={
                "team": team(*names), "task_ids": tasks},
                headers=etag(cur)))
            self.assertEqual(sorted((m["user_id"], m["role"])
                                    for m in doc["team"]),
                             sorted((t["user_id"], t["role"])
                                    for t in team(*names)))
            self.assertEqual(sorted(doc["task_ids"]), sorted(tasks))

    def test_minutes_filed(self):
        url = (self.path + "/attachments?filename=Bi%C3%AAn%20b%E1%BA%A3n"
               "%20l%E1%BA%A7n%202.pdf")
        r = call("kiemtra", "POST", url, raw=PDF,
                 headers={"Content-Type": "application/pdf"})
        att = ok(r, 201)
        # The same bytes again are the file stored: no second one.
        r = call("kiemtra", "POST", url, raw=PDF,
                 headers={"Content-Type": "application/pdf"})
        self.assertEqual(ok(r), att)
        for who in ("kiemtra", "kinhte"):
            files = ok(call(who, "GET", self.path + "/attachments"))["items"]
            self.assertEqual([(x["id"], x["inspection_id"],
                               x["recommendation_id"], x["filename"],
                               x["content_type"], x["size"], x["sha256"])
                              for x in files],
                             [(att["id"], self.visit["id"], None,
                               "Biên bản lần 2.pdf", "application/pdf",
                               len(PDF), hashlib.sha256(PDF).hexdigest())])


def uid():
    return str(uuid.uuid4())


class BadInput(unittest.TestCase):
    """Refusals, endpoint by endpoint."""

    @classmethod
    def setUpClass(cls):
        cls.outsider = harness.new_user(U["so-noi-vu"], "inspector", "sonv").id
        doc = ok(call("vhxh", "POST", "/api/v1/inspection-plans", body={
            "plan_id": COMMUNE_PLAN, "issuing_unit_id": VHXH, "title": "B",
            "period_start": day(-5), "period_end": day(30)}), 201)
        cls.iplan = doc["id"]
        cls.visit = ok(call("vhxh", "POST", "/api/v1/inspections", body={
            "inspection_plan_id": cls.iplan, "kind": "supervision",
            "title": "Giám sát", "target_unit_id": U["tt-phuc-vu-hcc"],
            "scheduled_on": day(3), "team": team("kiemtra")}), 201)

    def body(self, **kw):
        b = {"inspection_plan_id": self.iplan, "kind": "inspection",
             "title": "T", "target_unit_id": KT, "scheduled_on": day(1),
             "team": team("kiemtra")}
        b.update(kw)
        return {k: v for k, v in b.items() if v is not None}

    def test_malformed_and_wrong_types(self):
        r = call("vhxh", "POST", "/api/v1/inspections", raw=b"{\"title\": ",
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")
        r = call("vhxh", "POST", "/api/v1/inspections", body=[1])
        harness.expect_problem(self, r, 400, "body_not_object")
        r = call("vhxh", "POST", "/api/v1/inspections", body=self.body(
            title=5, kind="visit", scheduled_on="15/12/2026", team="kiemtra"))
        harness.expect_problem(self, r, 422, "invalid_body", {
            "title": "type", "kind": "enum", "scheduled_on": "format",
            "team": "type"})
        r = call("vhxh", "POST", "/api/v1/inspections", body={})
        doc = harness.expect_problem(self, r, 422, "invalid_body")
        self.assertEqual({e["field"] for e in doc["errors"]}, {
            "inspection_plan_id", "kind", "title", "target_unit_id",
            "scheduled_on", "team"})

    def test_oversize_and_team_rules(self):
        for kw, field, code in (
                ({"title": "x" * 301}, "title", "length"),
                ({"team": [{"user_id": uid(), "role": "member"}] * 21},
                 "team", "type"),
                ({"team": team("kiemtra", "bxdd")[1:]}, "team", "lead"),
                ({"team": team("kiemtra") * 2}, "team[1].user_id",
                 "duplicate"),
                ({"scheduled_on": day(400)}, "scheduled_on", "range"),
                ({"minutes": "early"}, "minutes", "unknown")):
            with self.subTest(field=field):
                r = call("vhxh", "POST", "/api/v1/inspections",
                         body=self.body(**kw))
                doc = harness.expect_problem(self, r, 422, "invalid_body")
                self.assertIn((field, code), [(e["field"], e["code"])
                                              for e in doc["errors"]])

    def test_smuggled_ids_are_one_answer(self):
        """Missing and out of reach read the same."""
        cases = (("inspection_plan_id", {"inspection_plan_id": uid()}),
                 ("target_unit_id", {"target_unit_id": uid()}),
                 ("target_unit_id", {"target_unit_id": U["so-noi-vu"]}),
                 ("team[0].user_id", {"team": [{"user_id": uid(),
                                                "role": "lead"}]}),
                 ("team[0].user_id", {"team": [{"user_id": self.outsider,
                                                "role": "lead"}]}),
                 ("team[0].user_id", {"team": team("kinhte")}),
                 ("task_ids[0]", {"task_ids": [uid()]}))
        for field, kw in cases:
            with self.subTest(field=field, kw=kw):
                r = call("vhxh", "POST", "/api/v1/inspections",
                         body=self.body(**kw))
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {field: "unknown"})
        for unit in (uid(), KT):  # KT exists, outside Phòng VH-XH
            r = call("vhxh", "POST", "/api/v1/inspection-plans", body={
                "plan_id": COMMUNE_PLAN, "issuing_unit_id": unit, "title": "X",
                "period_start": day(0), "period_end": day(1)})
            harness.expect_problem(self, r, 422, "invalid_reference",
                                   {"issuing_unit_id": "unknown"})
        r = call("kiemtra", "POST", "/api/v1/recommendations", body={
            "inspection_id": uid(), "text": "x", "due_on": day(1)})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"inspection_id": "unknown"})

    def test_roles(self):
        for who in ("thon1", "xem"):
            r = call(who, "POST", "/api/v1/inspection-plans", body={})
            harness.expect_problem(self, r, 403, "forbidden")
            r = call(who, "POST", "/api/v1/inspections/%s/start"
                     % self.visit["id"], headers={"If-Match": '"1"'})
            harness.expect_problem(self, r, 403, "forbidden")
        r = call("service", "POST", "/api/v1/recommendations", body={})
        harness.expect_problem(self, r, 403, "forbidden")
        r = call("kiemtra", "POST", "/api/v1/recommendations/%s/respond"
                 % uid(), body={"response": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 403, "forbidden")

    def test_other_units_see_404(self):
        path = "/api/v1/inspections/" + self.visit["id"]
        for p in (path, path + "/findings", path + "/attachments",
                  "/api/v1/inspection-plans/" + self.iplan):
            with self.subTest(p=p):
                harness.expect_problem(self, call("thon1", "GET", p), 404,
                                       "not_found")
        r = call("kinhte", "PATCH", path, body={"title": "x"},
                 headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 403, "forbidden")
        r = call("thon1", "POST", "/api/v1/recommendations/%s/respond"
                 % F.recs[1], body={"response": "x"},
                 headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        # Seen by the inspecting unit, but not addressed to it.
        cur = fresh("vhxh", "/api/v1/recommendations/" + F.recs[1])
        r = call("vhxh", "POST", "/api/v1/recommendations/%s/respond"
                 % F.recs[1], body={"response": "x"}, headers=etag(cur))
        harness.expect_problem(self, r, 409, "not_addressed")

    def test_versions_and_transitions(self):
        path = "/api/v1/inspections/" + self.visit["id"]
        r = call("vhxh", "PATCH", path, body={"title": "y"})
        harness.expect_problem(self, r, 428, "precondition_required")
        r = call("vhxh", "PATCH", path, body={"title": "y"},
                 headers={"If-Match": '"999"'})
        harness.expect_problem(self, r, 412, "precondition_failed")
        r = call("vhxh", "PATCH", path, body={}, headers=etag(fresh("vhxh",
                                                                    path)))
        harness.expect_problem(self, r, 422, "empty_patch")
        r, _ = step("vhxh", path, "complete", body={"conclusion": "x"})
        harness.expect_problem(self, r, 409, "invalid_transition")
        r, _ = step("vhxh", path, "cancel", body={})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"reason": "required"})
        r, _ = step("vhxh", path, "cancel", body={"reason": "Hoãn"})
        self.assertEqual(ok(r)["status"], "cancelled")
        r, _ = step("vhxh", path, "start")
        harness.expect_problem(self, r, 409, "invalid_transition")
        r = call("vhxh", "PATCH", path, body={"title": "z"},
                 headers=etag(fresh("vhxh", path)))
        harness.expect_problem(self, r, 409, "inspection_closed")
        r = call("kiemtra", "POST", "/api/v1/recommendations/%s/resolve"
                 % F.recs[1], headers=etag(fresh("kiemtra",
                                                 "/api/v1/recommendations/"
                                                 + F.recs[1])))
        harness.expect_problem(self, r, 409, "invalid_transition")

    def test_bad_filters(self):
        for q in ("status=done", "from=2026-13-01", "overdue=yes",
                  "target_unit_id=x"):
            with self.subTest(q=q):
                path = ("/api/v1/recommendations?" if "overdue" in q else
                        "/api/v1/inspections?") + q
                harness.expect_problem(self, call("vhxh", "GET", path), 400,
                                       "invalid_query")


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
