"""Submissions over HTTP: an agency files its six-month report from a flaky
client (client-generated id, Idempotency-Key, dropped connections, blind
retries: one row), the receiving unit returns it with a reason, the agency
edits and resubmits, the receiving unit accepts and the leader approves;
versions, obligations and the audit trail at each step. Then idempotency
under fifty concurrent creates, bad input, the state machine's refusals,
roles, scope and the review queue."""

import datetime
import json
import threading
import time
import unittest
import uuid
from zoneinfo import ZoneInfo

import harness
from harness import CHECK, COMMUNE_PLAN, U, call, db, ok, srv, tag

VN = ZoneInfo("Asia/Ho_Chi_Minh")
KT = U["phong-kinh-te"]
VHXH = U["phong-vh-xh"]
READERS = harness.ROLES
NO_WRITE = ("viewer", "inspector", "service")
P = harness.PROBLEM_TYPE_PREFIX
JSON = {"Content-Type": "application/json"}


class F:
    ms = {}            # kind -> milestone of the demo plan
    xs = {}            # kind -> milestone of a fresh plan, due in a month
    xplan = None
    kinhte_id = None   # the officer of Phòng Kinh tế: call("kt-cb", ...)


def build():
    F.kinhte_id = harness.new_user(KT, "officer", "kinhte",
                                   "Cán bộ Phòng Kinh tế", name="kt-cb").id
    F.ms = {m["kind"]: m for m in ok(call(
        "leader", "GET", "/api/v1/plans/%s/milestones" % COMMUNE_PLAN)
    ).json()["items"]}
    for role in harness.USER_ROLES:
        harness.token(role)
    build_fresh_plan()


setUpModule, tearDownModule = harness.fixtures(build)


def build_fresh_plan():
    """An issued commune plan whose three milestones every agency owes to
    Phòng VH-XH a month from now: a unit answers a milestone once, so the
    tests that need their own (milestone, unit) take them from here."""
    due = (datetime.datetime.now(VN).date() +
           datetime.timedelta(days=30)).isoformat()
    F.xplan = ok(call("leader", "POST", "/api/v1/plans", body={
        "title": "Kế hoạch thử " + tag(), "year": 2026,
        "issuing_unit_id": U["commune"]}), 201).json()
    for kind in ("unit_plan", "six_month_report", "annual_report"):
        F.xs[kind] = ok(call("leader", "POST", "/api/v1/plans/%s/milestones"
                             % F.xplan["id"], body={
                                 "kind": kind, "title": "Mốc " + kind,
                                 "due_on": due, "receiving_unit_id": VHXH,
                                 "owing": {"group": "agencies"}}), 201).json()
    ok(call("leader", "POST", "/api/v1/plans/%s/issue" % F.xplan["id"],
            headers={"If-Match": '"%d"' % F.xplan["version"]}))


def rows(where="true"):
    return int(db().psql("SELECT count(*) FROM submissions WHERE "
                         + where)[0][0])


def version(sid):
    return int(db().psql("SELECT version FROM submissions WHERE id = '%s'"
                         % sid)[0][0])


def get(sid, who="leader"):
    return ok(call(who, "GET", "/api/v1/submissions/" + sid)).json()


def create(who, body, status=201, headers=None):
    return ok(call(who, "POST", "/api/v1/submissions", body=body,
                   headers=headers), status).json()


def step(sid, action, who, body=None, if_match=None, rid=None):
    h = {"If-Match": if_match or '"%d"' % version(sid)}
    if rid:
        h["X-Request-Id"] = rid
    return call(who, "POST", "/api/v1/submissions/%s/%s" % (sid, action),
                body=body, headers=h)


def patch(sid, changes, who, if_match=None, rid=None):
    h = {"If-Match": if_match or '"%d"' % version(sid)}
    if rid:
        h["X-Request-Id"] = rid
    return call(who, "PATCH", "/api/v1/submissions/" + sid, body=changes,
                headers=h)


def listing(who, query="", limit=200):
    return harness.all_items(who, "/api/v1/submissions", query, limit, 200)


def obligation(milestone_id, unit_id, who="leader"):
    r = ok(call(who, "GET", "/api/v1/plans/%s/obligations?milestone_id=%s"
                "&unit_id=%s" % (COMMUNE_PLAN, milestone_id, unit_id)))
    items = r.json()["items"]
    CHECK.assertEqual(len(items), 1, r.describe())
    return items[0]


def summary(who="leader"):
    return ok(call(who, "GET", "/api/v1/plans/%s/obligations"
                   % COMMUNE_PLAN)).json()["summary"]


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def model(**extra):
    b = {"unit_id": U["thon-1"], "kind": "model_registration",
         "title": "Mô hình Dân vận khéo " + tag(),
         "body": "Đăng ký mô hình.",
         "data": {"name": "Tuyến đường hoa " + tag(), "field": "environment",
                  "description": "Nhân dân góp công trồng hoa.",
                  "expected_results": "2 km đường hoa"}}
    b.update(extra)
    return b


def raw_post(path, who, data, headers):
    return harness.raw_request(who, path, data, dict(headers, **JSON))


def send_with_tiny_timeout(who, body_bytes, headers):
    """A client that gives up after 2 ms: the Response when it did come in
    time, else None."""
    try:
        return call(who, "POST", "/api/v1/submissions", raw=body_bytes,
                    headers=dict(headers, **JSON), timeout=0.002)
    except OSError:
        return None


def audit(entity_id):
    r = ok(call("leader", "GET", "/api/v1/audit?limit=200&entity_type="
                "submission&entity_id=" + entity_id))
    return list(reversed(r.json()["items"]))


class Story(unittest.TestCase):
    """Phòng Kinh tế's six-month report of the demo plan, from draft to
    approved."""

    def test_six_month_report_from_a_flaky_client_to_approval(self):
        m6 = F.ms["six_month_report"]
        self.assertEqual((m6["due_on"], m6["receiving_unit_id"]),
                         ("2026-05-15", VHXH))
        ob = obligation(m6["id"], KT)
        self.assertEqual((ob["state"], ob["submission_id"]),
                         ("missing", None))
        before = summary()
        sid = str(uuid.uuid4())
        key = "sixmonth-" + tag()
        b = {"id": sid, "unit_id": KT, "kind": "six_month_report",
             "milestone_id": m6["id"],
             "title": "Báo cáo sơ kết 6 tháng – Phòng Kinh tế",
             "body": "Kết quả 6 tháng đầu năm.",
             "data": {"meetings": 4}}
        data = json.dumps(b).encode()
        hdr = {"Idempotency-Key": key}

        # 1. Half the request, then the line drops: nothing happened.
        payload = raw_post("/api/v1/submissions", "kt-cb", data, hdr)
        srv().send_and_close(payload[:len(data) // 2 + 200])
        # 2. The whole request, then the line drops before the answer.
        srv().send_and_close(payload)
        # 3. A client that gives up after 2 ms.
        answers = []
        r = send_with_tiny_timeout("kt-cb", data, hdr)
        if r is not None:
            answers.append(r)
        # 4. Blind retries until it is sure.
        for _ in range(3):
            answers.append(call("kt-cb", "POST", "/api/v1/submissions",
                                raw=data, headers=dict(
                                    hdr, **{"Content-Type":
                                            "application/json"})))
        for r in answers:
            self.assertEqual(r.status, 201, r.describe())
            self.assertEqual(r.body, answers[-1].body)
            self.assertEqual(r.headers["Location"],
                             "/api/v1/submissions/" + sid)
        self.assertEqual(answers[-1].headers.get("Idempotent-Replayed"),
                         "true")
        first = answers[-1].json()
        # 5. The client lost its key but kept its id: the stored one, 200.
        for h in ({"Idempotency-Key": "other-" + tag()}, {}):
            r = call("kt-cb", "POST", "/api/v1/submissions", raw=data,
                     headers=dict(h, **{"Content-Type": "application/json"}))
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.json(), first)
        self.assertEqual(rows("id = '%s'" % sid), 1)
        self.assertEqual(rows("unit_id = '%s' AND milestone_id = '%s'"
                              % (KT, m6["id"])), 1)
        self.assertEqual([e["action"] for e in audit(sid)], ["create"])

        s = first
        self.assertEqual(
            (s["id"], s["unit_id"], s["kind"], s["milestone_id"], s["plan_id"],
             s["receiving_unit_id"], s["title"], s["body"], s["data"],
             s["status"], s["submitted_at"], s["timeliness"],
             s["review_reason"], s["approved_by"]),
            (sid, KT, "six_month_report", m6["id"], COMMUNE_PLAN, VHXH,
             b["title"], b["body"], {"meetings": 4}, "draft", None, None,
             None, None))
        # A draft is not received.
        self.assertEqual(obligation(m6["id"], KT)["state"], "missing")
        self.assertEqual(summary(), before)

        rids = {}
        rids["edit1"] = "edit1-" + tag()
        s = ok(patch(sid, {"body": "Kết quả 6 tháng, bản đầy đủ."}, "kt-cb",
                     rid=rids["edit1"])).json()
        self.assertEqual((s["body"], s["version"]),
                         ("Kết quả 6 tháng, bản đầy đủ.", first["version"] + 1))

        rids["submit1"] = "submit1-" + tag()
        r = ok(step(sid, "submit", "kt-cb", rid=rids["submit1"]))
        s = r.json()
        self.assertEqual(r.headers["ETag"], '"%d"' % s["version"])
        self.assertEqual((s["status"], s["revision"], s["timeliness"],
                          s["due_on"]),
                         ("submitted", 1, "late", "2026-05-15"))
        self.assertEqual(s["submitted_at"], s["last_submitted_at"])
        submitted_at = s["submitted_at"]
        ob = obligation(m6["id"], KT)
        self.assertEqual((ob["state"], ob["submission_id"]), ("late", sid))
        self.assertEqual(ts(ob["submitted_at"]), ts(submitted_at))
        after = summary()
        self.assertEqual(
            (after["received"], after["late"], after["missing"],
             after["on_time"], after["expected"]),
            (before["received"] + 1, before["late"] + 1,
             before["missing"] - 1, before["on_time"], before["expected"]))
        harness.expect_problem(self, patch(sid, {"title": "Sửa"}, "kt-cb"),
                               409, "submission_locked")

        reason = "Thiếu số liệu về mô hình kinh tế tập thể."
        rids["return"] = "return-" + tag()
        s = ok(step(sid, "return", "coordinator", body={"reason": reason},
                    rid=rids["return"])).json()
        self.assertEqual((s["status"], s["review_reason"], s["reviewed_by"],
                          s["revision"]),
                         ("returned", reason,
                          harness.demo_user_id("coordinator"), 1))
        # Returned is still received, and stays late.
        ob = obligation(m6["id"], KT)
        self.assertEqual((ob["state"], ob["submission_id"]), ("late", sid))

        rids["edit2"] = "edit2-" + tag()
        s = ok(patch(sid, {"body": "Bổ sung số liệu hợp tác xã.",
                           "data": {"meetings": 4, "cooperatives": 2}},
                     "kt-cb", rid=rids["edit2"])).json()
        self.assertEqual(s["status"], "returned")
        time.sleep(0.01)
        rids["submit2"] = "submit2-" + tag()
        s = ok(step(sid, "submit", "kt-cb", rid=rids["submit2"])).json()
        self.assertEqual((s["status"], s["revision"], s["timeliness"],
                          s["submitted_at"]),
                         ("submitted", 2, "late", submitted_at))
        self.assertGreater(ts(s["last_submitted_at"]), ts(submitted_at))

        v = ok(call("kt-cb", "GET", "/api/v1/submissions/%s/versions"
                    % sid)).json()
        self.assertIsNone(v["next_cursor"])
        self.assertEqual(
            [(x["revision"], x["title"], x["body"], x["data"],
              x["timeliness"], x["returned_reason"]) for x in v["items"]],
            [(1, b["title"], "Kết quả 6 tháng, bản đầy đủ.", {"meetings": 4},
              "late", None),
             (2, b["title"], "Bổ sung số liệu hợp tác xã.",
              {"meetings": 4, "cooperatives": 2}, "late", reason)])
        self.assertEqual(ts(v["items"][0]["submitted_at"]), ts(submitted_at))
        self.assertEqual(ts(v["items"][1]["submitted_at"]),
                         ts(s["last_submitted_at"]))

        # The coordinator may not approve; the leader may not skip accept.
        harness.expect_problem(self, step(sid, "approve", "coordinator"), 403,
                               "forbidden")
        harness.expect_problem(self, step(sid, "approve", "leader"), 409,
                               "invalid_transition")
        rids["accept"] = "accept-" + tag()
        s = ok(step(sid, "accept", "coordinator", rid=rids["accept"])).json()
        self.assertEqual((s["status"], s["reviewed_by"], s["review_reason"]),
                         ("accepted", harness.demo_user_id("coordinator"),
                          None))
        harness.expect_problem(self, patch(sid, {"title": "Sửa"}, "kt-cb"),
                               409, "submission_locked")
        for action, who, b2 in (("submit", "kt-cb", None),
                                ("accept", "coordinator", None),
                                ("return", "coordinator", {"reason": "Muộn"})):
            with self.subTest(accepted=action):
                harness.expect_problem(self, step(sid, action, who, body=b2),
                                       409, "submission_locked")
        rids["approve"] = "approve-" + tag()
        s = ok(step(sid, "approve", "leader", rid=rids["approve"])).json()
        self.assertEqual((s["status"], s["approved_by"], s["revision"],
                          s["timeliness"], s["submitted_at"]),
                         ("approved", harness.demo_user_id("leader"), 2,
                          "late", submitted_at))
        self.assertIsNotNone(s["approved_at"])
        self.assertEqual(get(sid, "kt-cb"), s)

        # Locked for good.
        v0 = version(sid)
        harness.expect_problem(self, patch(sid, {"title": "Sửa"}, "kt-cb"),
                               409, "submission_locked")
        for action, who, b2 in (("submit", "kt-cb", None),
                                ("accept", "coordinator", None),
                                ("return", "coordinator", {"reason": "Muộn"}),
                                ("approve", "leader", None)):
            with self.subTest(action=action):
                harness.expect_problem(self, step(sid, action, who, body=b2),
                                       409, "submission_locked")
        self.assertEqual(version(sid), v0)
        ob = obligation(m6["id"], KT)
        self.assertEqual((ob["state"], ob["submission_id"]), ("late", sid))
        self.assertEqual(summary(), after)

        # One audit event per change, each with its request's id.
        ev = audit(sid)
        self.assertEqual(
            [(e["action"], e["request_id"]) for e in ev][1:],
            [("update", rids["edit1"]), ("submit", rids["submit1"]),
             ("return", rids["return"]), ("update", rids["edit2"]),
             ("submit", rids["submit2"]), ("accept", rids["accept"]),
             ("approve", rids["approve"])])
        self.assertEqual(ev[0]["action"], "create")
        coordinator = harness.demo_user_id("coordinator")
        self.assertEqual([e["actor_id"] for e in ev],
                         [F.kinhte_id] * 3 + [coordinator,
                                              F.kinhte_id, F.kinhte_id,
                                              coordinator,
                                              harness.demo_user_id("leader")])
        self.assertEqual((ev[-1]["before"]["status"],
                          ev[-1]["after"]["status"]),
                         ("accepted", "approved"))

    def test_a_village_does_not_owe_the_demo_milestones(self):
        for kind in ("unit_plan", "six_month_report", "annual_report"):
            with self.subTest(kind=kind):
                n = rows()
                r = call("officer", "POST", "/api/v1/submissions", body={
                    "unit_id": U["thon-1"], "kind": kind,
                    "milestone_id": F.ms[kind]["id"], "title": "Báo cáo"})
                harness.expect_problem(self, r, 422, "not_owed")
                self.assertEqual(rows(), n)


class Idempotency(unittest.TestCase):

    def test_fifty_concurrent_creates_with_one_key(self):
        b = model()
        data = json.dumps(b).encode()
        key = "model-" + tag()
        out = [None] * 50
        barrier = threading.Barrier(50)

        def go(i):
            try:
                barrier.wait(10)
                out[i] = call("officer", "POST", "/api/v1/submissions",
                              raw=data, headers={
                                  "Idempotency-Key": key,
                                  "Content-Type": "application/json"})
            except BaseException as e:  # reported below
                out[i] = e
        threads = [threading.Thread(target=go, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for r in out:
            self.assertIsInstance(r, harness.Response, repr(r))
            self.assertEqual(r.status, 201, r.describe())
            self.assertEqual(r.body, out[0].body)
        self.assertEqual(sum(1 for r in out if r.headers.get(
            "Idempotent-Replayed") != "true"), 1)
        sid = out[0].json()["id"]
        self.assertEqual(rows("title = '%s'" % b["title"]), 1)
        self.assertEqual(rows("id = '%s'" % sid), 1)
        self.assertEqual([e["action"] for e in audit(sid)], ["create"])

    def test_twenty_concurrent_creates_with_one_client_id(self):
        sid = str(uuid.uuid4())
        data = json.dumps(model(id=sid)).encode()
        out = [None] * 20
        barrier = threading.Barrier(20)

        def go(i):
            try:
                barrier.wait(10)
                out[i] = call("officer", "POST", "/api/v1/submissions",
                              raw=data,
                              headers={"Content-Type": "application/json"})
            except BaseException as e:
                out[i] = e
        threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status if isinstance(r, harness.Response)
                          else repr(r) for r in out)
        self.assertEqual(statuses, [200] * 19 + [201], [
            r.describe() for r in out if isinstance(r, harness.Response)
            and r.status not in (200, 201)][:2])
        self.assertEqual({r.json()["id"] for r in out}, {sid})
        self.assertEqual(len({json.dumps(r.json(), sort_keys=True)
                              for r in out}), 1)
        self.assertEqual(rows("id = '%s'" % sid), 1)

    def test_same_key_other_body_422(self):
        key = "model-" + tag()
        first = create("officer", model(), headers={"Idempotency-Key": key})
        other = model()
        r = call("officer", "POST", "/api/v1/submissions", body=other,
                 headers={"Idempotency-Key": key})
        harness.expect_problem(self, r, 422, "idempotency_key_reused")
        self.assertEqual(rows("title = '%s'" % other["title"]), 0)
        self.assertEqual(rows("id = '%s'" % first["id"]), 1)

    def test_same_client_id_other_body_409(self):
        sid = str(uuid.uuid4())
        b = model(id=sid)
        create("officer", b)
        other = dict(b, title="Tên khác " + tag())
        for h in ({}, {"Idempotency-Key": "k-" + tag()}):
            with self.subTest(h=h):
                r = call("officer", "POST", "/api/v1/submissions", body=other,
                         headers=h)
                harness.expect_problem(self, r, 409, "conflict")
        self.assertEqual(get(sid, "officer")["title"], b["title"])
        self.assertEqual(rows("id = '%s'" % sid), 1)
        # Another unit's caller cannot take the id either.
        r = call("kt-cb", "POST", "/api/v1/submissions", body=dict(
            other, unit_id=KT))
        harness.expect_problem(self, r, 409, "conflict")
        self.assertEqual(get(sid, "officer")["unit_id"], U["thon-1"])

    def test_bad_idempotency_key_400(self):
        r = call("officer", "POST", "/api/v1/submissions", body=model(),
                 headers={"Idempotency-Key": "k" * 129})
        harness.expect_problem(self, r, 400, "invalid_idempotency_key")


class Create(unittest.TestCase):

    def test_model_registration(self):
        b = model()
        r = ok(call("officer", "POST", "/api/v1/submissions", body=b), 201)
        s = r.json()
        self.assertEqual(r.headers["Location"], "/api/v1/submissions/"
                         + s["id"])
        self.assertEqual(r.headers["ETag"], '"%d"' % s["version"])
        self.assertEqual(
            (s["unit_id"], s["kind"], s["milestone_id"], s["plan_id"],
             s["receiving_unit_id"], s["data"], s["status"], s["timeliness"],
             s["due_on"], s["submitted_at"]),
            (U["thon-1"], "model_registration", None, None, U["commune"],
             b["data"], "draft", None, None, None))
        self.assertEqual(get(s["id"], "officer"), s)

    def test_create_and_submit_at_once(self):
        b = model(submit=True)
        s = create("officer", b)
        self.assertEqual((s["status"], s["revision"], s["timeliness"]),
                         ("submitted", 1, None))
        self.assertIsNotNone(s["submitted_at"])
        self.assertEqual([e["action"] for e in audit(s["id"])],
                         ["create", "submit"])
        v = ok(call("officer", "GET", "/api/v1/submissions/%s/versions"
                    % s["id"])).json()["items"]
        self.assertEqual([(x["revision"], x["returned_reason"]) for x in v],
                         [(1, None)])

    def test_agency_report_on_time_judgement(self):
        # The annual report was due 2026-10-30: whatever comes now is late.
        s = create("leader", {"unit_id": U["tt-phuc-vu-hcc"],
                              "kind": "annual_report",
                              "milestone_id": F.ms["annual_report"]["id"],
                              "title": "Báo cáo năm", "submit": True})
        self.assertEqual((s["timeliness"], s["due_on"], s["plan_id"],
                          s["receiving_unit_id"]),
                         ("late", "2026-10-30", COMMUNE_PLAN, VHXH))

    def test_a_draft_answers_to_its_milestones_due_day(self):
        # "due_on: the milestone's due_on, or the extension granted to the
        # unit; null without a milestone" (Submission in openapi.yaml).
        m = F.xs["annual_report"]
        s = create("kt-cb", {"unit_id": KT, "kind": "annual_report",
                              "milestone_id": m["id"],
                              "title": "Báo cáo năm (bản nháp)"})
        self.assertEqual((s["status"], s["due_on"], s["plan_id"]),
                         ("draft", m["due_on"], F.xplan["id"]))

    def test_a_unit_answers_a_milestone_once(self):
        m = F.xs["annual_report"]["id"]
        b = {"unit_id": U["tt-cung-ung-dvc"], "kind": "annual_report",
             "milestone_id": m, "title": "Báo cáo năm"}
        first = create("leader", b)
        for again in (b, dict(b, title="Báo cáo năm, lần hai", submit=True)):
            with self.subTest(again=again["title"]):
                r = call("leader", "POST", "/api/v1/submissions", body=again)
                doc = harness.expect_problem(self, r, 409,
                                             "milestone_answered")
                self.assertEqual(r.headers.get("Location"),
                                 "/api/v1/submissions/" + first["id"])
                self.assertIn(first["id"], doc["detail"])
                self.assertNotIn("submissions_once", r.body.decode())
        self.assertEqual(rows("milestone_id = '%s' AND unit_id = '%s'"
                              % (m, U["tt-cung-ung-dvc"])), 1)
        self.assertEqual(get(first["id"])["status"], "draft")

    def test_body_length(self):
        # Submission.body: up to 20000 characters (not bytes); any JSON
        # string over 65536 bytes is refused before that.
        text = "Nội dung. " * 2000
        self.assertEqual(len(text), 20000)
        s = create("officer", model(body=text))
        self.assertEqual(get(s["id"], "officer")["body"], text)
        n = rows()
        r = call("officer", "POST", "/api/v1/submissions",
                 body=model(body=text + "x"))
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"body": "length"})
        r = call("officer", "POST", "/api/v1/submissions",
                 body=model(body="a" * 65537))
        harness.expect_problem(self, r, 400, "json_string_too_long")
        self.assertEqual(rows(), n)

    def test_not_owed_422(self):
        # Phòng Kinh tế owes the demo milestones; thôn 1 does not, and a
        # leader may not file for it either.
        for who in ("officer", "leader"):
            with self.subTest(who=who):
                r = call(who, "POST", "/api/v1/submissions", body={
                    "unit_id": U["thon-1"], "kind": "unit_plan",
                    "milestone_id": F.ms["unit_plan"]["id"], "title": "KH"})
                harness.expect_problem(self, r, 422, "not_owed")

    def test_kind_must_match_the_milestone(self):
        n = rows()
        r = call("kt-cb", "POST", "/api/v1/submissions", body={
            "unit_id": KT, "kind": "unit_plan",
            "milestone_id": F.ms["six_month_report"]["id"], "title": "KH"})
        self.assertEqual(r.status, 422, r.describe())
        self.assertEqual([e["field"] for e in r.json()["errors"]], ["kind"])
        self.assertEqual(rows(), n)

    def test_milestone_required_for_milestone_kinds(self):
        for kind in ("unit_plan", "six_month_report", "annual_report"):
            with self.subTest(kind=kind):
                r = call("kt-cb", "POST", "/api/v1/submissions", body={
                    "unit_id": KT, "kind": kind, "title": "Báo cáo"})
                harness.expect_problem(self, r, 422, "invalid_body",
                                       {"milestone_id": "required"})

    def test_model_registration_data_checked(self):
        b = model()
        cases = [
            (None, {"data.name": "required", "data.field": "required",
                    "data.description": "required",
                    "data.expected_results": "required"}),
            ({}, {"data.name": "required", "data.field": "required",
                  "data.description": "required",
                  "data.expected_results": "required"}),
            (dict(b["data"], name="", field="sports"),
             {"data.name": "required", "data.field": "enum"}),
            (dict(b["data"], description=7, expected_results=None),
             {"data.description": "required",
              "data.expected_results": "required"}),
            ([1, 2], {"data": "type"}),
        ]
        n = rows()
        for data, errors in cases:
            with self.subTest(data=data):
                body = dict(b)
                if data is None:
                    body.pop("data")
                else:
                    body["data"] = data
                r = call("officer", "POST", "/api/v1/submissions", body=body)
                doc = harness.expect_problem(self, r, 422, "invalid_body")
                got = {e["field"]: e["code"] for e in doc["errors"]}
                for k, v in errors.items():
                    self.assertEqual(got.get(k), v, (k, doc["errors"]))
                self.assertEqual(set(got), set(errors))
        self.assertEqual(rows(), n)

    def test_model_registration_data_checked_on_patch(self):
        s = create("officer", model())
        r = patch(s["id"], {"data": {"name": "Chỉ có tên"}}, "officer")
        doc = harness.expect_problem(self, r, 422, "invalid_body")
        self.assertEqual(sorted(e["field"] for e in doc["errors"]),
                         ["data.description", "data.expected_results",
                          "data.field"])
        self.assertEqual(get(s["id"], "officer")["data"], s["data"])

    def test_bad_fields_422(self):
        base = model()
        cases = [({"kind": "weekly_report"}, {"kind": "enum"}),
                 ({"unit_id": "thon-1"}, {"unit_id": "format"}),
                 ({"id": "abc"}, {"id": "format"}),
                 ({"title": ""}, {"title": "length"}),
                 ({"title": "t" * 301}, {"title": "length"}),
                 ({"submit": "yes"}, {"submit": "type"}),
                 ({"status": "approved"}, {"status": "unknown"}),
                 ({"revision": 3}, {"revision": "unknown"})]
        n = rows()
        for extra, errors in cases:
            with self.subTest(extra=str(extra)[:60]):
                b = dict(base)
                b.update(extra)
                r = call("officer", "POST", "/api/v1/submissions", body=b)
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        r = call("officer", "POST", "/api/v1/submissions",
                 body={"kind": "difficulty_report"})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"unit_id": "required", "title": "required"})
        self.assertEqual(rows(), n)

    def test_unknown_references_422(self):
        cases = [({"unit_id": str(uuid.uuid4())}, "unit_id"),
                 ({"unit_id": U["thon-2"]}, "unit_id"),
                 ({"unit_id": U["commune"]}, "unit_id"),
                 ({"kind": "six_month_report",
                   "milestone_id": str(uuid.uuid4())}, "milestone_id"),
                 ({"kind": "progress_report", "task_id": str(uuid.uuid4())},
                  "task_id"),
                 ({"kind": "progress_report",
                   "assignment_id": str(uuid.uuid4())}, "assignment_id")]
        n = rows()
        for extra, field in cases:
            with self.subTest(field=field, extra=extra):
                b = {"unit_id": U["thon-1"], "kind": "difficulty_report",
                     "title": "Khó khăn"}
                b.update(extra)
                r = call("officer", "POST", "/api/v1/submissions", body=b)
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {field: "unknown"})
        self.assertEqual(rows(), n)

    def test_malformed_wrong_type_oversize(self):
        n = rows()
        for raw, ctype, status, code in (
                (b'{"unit_id": "x",', "application/json", 400,
                 "malformed_json"),
                (b'[]', "application/json", 400, "body_not_object"),
                (b'', "application/json", 400, "body_required"),
                (json.dumps(model()).encode(), "text/plain", 415,
                 "unsupported_media_type")):
            with self.subTest(code=code):
                r = call("officer", "POST", "/api/v1/submissions", raw=raw,
                         headers={"Content-Type": ctype})
                harness.expect_problem(self, r, status, code)
        big = json.dumps(model(body="x" * (300 * 1024))).encode()
        resp = harness.send_unread("officer", "/api/v1/submissions", big, JSON)
        harness.expect_problem(self, resp, 413, "payload_too_large")
        self.assertEqual(rows(), n)


class Workflow(unittest.TestCase):
    """The state machine's refusals, preconditions and who reviews."""

    def fresh(self, submit=False):
        return create("officer", model(submit=submit))

    def test_draft_cannot_be_reviewed(self):
        s = self.fresh()
        for action, b in (("accept", None), ("return", {"reason": "x"}),
                          ("approve", None)):
            with self.subTest(action=action):
                harness.expect_problem(self, step(s["id"], action, "leader",
                                                  body=b),
                                       409, "invalid_transition")
        self.assertEqual(get(s["id"])["status"], "draft")

    def test_submitted_cannot_be_submitted_or_edited(self):
        s = self.fresh(submit=True)
        harness.expect_problem(self, step(s["id"], "submit", "officer"), 409,
                               "invalid_transition")
        harness.expect_problem(self, patch(s["id"], {"title": "Sửa"},
                                           "officer"),
                               409, "submission_locked")
        self.assertEqual(get(s["id"])["version"], s["version"])

    def test_returned_cannot_be_accepted_or_returned_again(self):
        s = self.fresh(submit=True)
        ok(step(s["id"], "return", "leader", body={"reason": "Bổ sung ảnh"}))
        for action, b in (("accept", None), ("return", {"reason": "x"})):
            with self.subTest(action=action):
                harness.expect_problem(self, step(s["id"], action, "leader",
                                                  body=b),
                                       409, "invalid_transition")

    def test_steps_take_no_fields(self):
        s = self.fresh()
        harness.expect_problem(self, step(s["id"], "submit", "officer",
                                          body={"title": "x"}),
                               422, "invalid_body", {"title": "unknown"})
        self.assertEqual(get(s["id"])["status"], "draft")
        s = ok(step(s["id"], "submit", "officer", body={})).json()
        self.assertEqual(s["status"], "submitted")

    def test_return_needs_a_reason(self):
        s = self.fresh(submit=True)
        for b, errors in (({}, {"reason": "required"}),
                          ({"reason": ""}, {"reason": "length"}),
                          ({"reason": "r" * 2001}, {"reason": "length"})):
            with self.subTest(b=str(b)[:40]):
                harness.expect_problem(self, step(s["id"], "return", "leader",
                                                  body=b),
                                       422, "invalid_body", errors)
        self.assertEqual(get(s["id"])["status"], "submitted")

    def test_own_submission_409(self):
        # Phòng VH-XH receives the demo milestones and owes them too.
        s = create("coordinator", {
            "unit_id": VHXH, "kind": "annual_report",
            "milestone_id": F.ms["annual_report"]["id"],
            "title": "Báo cáo năm của Phòng VH-XH", "submit": True})
        self.assertEqual(s["receiving_unit_id"], VHXH)
        for action, b in (("accept", None), ("return", {"reason": "Tự trả"})):
            with self.subTest(action=action):
                harness.expect_problem(self, step(s["id"], action,
                                                  "coordinator", body=b),
                                       409, "own_submission")
        self.assertEqual(get(s["id"])["status"], "submitted")
        s = ok(step(s["id"], "accept", "leader")).json()
        self.assertEqual((s["status"], s["reviewed_by"]),
                         ("accepted", harness.demo_user_id("leader")))

    def test_concurrent_edits_of_one_version_one_wins(self):
        # The version is compared under the submission's lock: of eight
        # edits made from the same version, one is applied.
        s = self.fresh()
        path, tag_ = "/api/v1/submissions/" + s["id"], '"%d"' % s["version"]
        got = harness.locked_race(
            "submissions", s["id"], 8, lambda i: call(
                "officer", "PATCH", path, body={"title": "Cùng lúc %d" % i},
                headers={"If-Match": tag_}))
        harness.expect_one_winner(self, got)
        won = next(r.json() for r in got if r.status == 200)
        self.assertEqual(won["version"], s["version"] + 1)
        self.assertEqual(get(s["id"]), won)

    def test_if_match(self):
        s = self.fresh()
        path = "/api/v1/submissions/" + s["id"]
        r = call("officer", "PATCH", path, body={"title": "Không có"})
        harness.expect_problem(self, r, 428, "precondition_required")
        r = call("officer", "POST", path + "/submit")
        harness.expect_problem(self, r, 428, "precondition_required")
        stale = '"%d"' % (s["version"] + 5)
        harness.expect_problem(self, patch(s["id"], {"title": "Cũ"}, "officer",
                                           if_match=stale),
                               412, "precondition_failed")
        harness.expect_problem(self, step(s["id"], "submit", "officer",
                                          if_match=stale),
                               412, "precondition_failed")
        ok(patch(s["id"], {"title": "Mới"}, "officer"))
        harness.expect_problem(self, patch(s["id"], {"title": "Cũ"}, "officer",
                                           if_match='"%d"' % s["version"]),
                               412, "precondition_failed")
        got = get(s["id"])
        self.assertEqual((got["title"], got["status"]), ("Mới", "draft"))

    def test_patch_checks(self):
        s = self.fresh()
        for b, problem, errors in (
                ({}, "empty_patch", None),
                ({"status": "submitted"}, "invalid_body",
                 {"status": "unknown"}),
                ({"unit_id": U["thon-2"]}, "invalid_body",
                 {"unit_id": "unknown"}),
                ({"title": ""}, "invalid_body", {"title": "length"})):
            with self.subTest(b=b):
                harness.expect_problem(self, patch(s["id"], b, "officer"),
                                       422, problem, errors)
        self.assertEqual(get(s["id"])["version"], s["version"])

    def test_etag_and_304(self):
        s = self.fresh()
        r = ok(call("officer", "GET", "/api/v1/submissions/" + s["id"]))
        self.assertEqual(r.headers["ETag"], '"%d"' % s["version"])
        r = call("officer", "GET", "/api/v1/submissions/" + s["id"],
                 headers={"If-None-Match": r.headers["ETag"]})
        self.assertEqual(r.status, 304, r.describe())

    def test_unknown_ids_404(self):
        for path in ("/api/v1/submissions/%s" % uuid.uuid4(),
                     "/api/v1/submissions/%s/versions" % uuid.uuid4()):
            with self.subTest(path=path):
                harness.expect_problem(self, call("leader", "GET", path), 404,
                                       "not_found")
        harness.expect_problem(self, call(
            "leader", "POST", "/api/v1/submissions/%s/accept" % uuid.uuid4(),
            headers={"If-Match": '"1"'}), 404, "not_found")
        harness.expect_problem(self, call(
            "leader", "PATCH", "/api/v1/submissions/%s" % uuid.uuid4(),
            body={"title": "x"}, headers={"If-Match": '"1"'}), 404,
            "not_found")
        r = call("leader", "GET", "/api/v1/submissions/not-a-uuid")
        self.assertEqual(r.status, 404, r.describe())


class Roles(unittest.TestCase):

    def test_readers_and_writers(self):
        s = create("officer", model(submit=True))
        sid = s["id"]
        for who in NO_WRITE:
            with self.subTest(write=who):
                r = call(who, "POST", "/api/v1/submissions", body=model())
                harness.expect_problem(self, r, 403, "forbidden")
                for action, b in (("submit", None), ("accept", None),
                                  ("return", {"reason": "x"}),
                                  ("approve", None)):
                    harness.expect_problem(self, step(sid, action, who,
                                                      body=b),
                                           403, "forbidden")
                harness.expect_problem(self, patch(sid, {"title": "x"}, who),
                                       403, "forbidden")
        for who in ("officer", "kt-cb"):
            with self.subTest(review=who):
                for action, b in (("accept", None),
                                  ("return", {"reason": "x"}),
                                  ("approve", None)):
                    harness.expect_problem(self, step(sid, action, who,
                                                      body=b),
                                           403, "forbidden")
        # Phòng VH-XH's coordinator sees what is sent to it, not thôn 1's.
        kt = create("kt-cb", {"unit_id": KT, "kind": "six_month_report",
                               "milestone_id": F.xs["six_month_report"]["id"],
                               "title": "Báo cáo 6 tháng", "submit": True})
        for who in READERS:
            with self.subTest(read=who):
                x = kt["id"] if who == "coordinator" else sid
                self.assertEqual(get(x, who)["id"], x)
                ok(call(who, "GET", "/api/v1/submissions/%s/versions" % x))
                self.assertIn(x, [y["id"] for y in listing(who)])
        self.assertEqual(get(sid)["version"], s["version"])
        r = call(None, "GET", "/api/v1/submissions")
        harness.expect_problem(self, r, 401, "unauthenticated")


class Scope(unittest.TestCase):

    def test_a_thon_2_submission_is_404_for_thon_1(self):
        s2 = create("leader", model(unit_id=U["thon-2"], submit=True))
        sid = s2["id"]
        harness.expect_problem(self, call("officer", "GET",
                                          "/api/v1/submissions/" + sid),
                               404, "not_found")
        harness.expect_problem(self, call(
            "officer", "GET", "/api/v1/submissions/%s/versions" % sid), 404,
            "not_found")
        harness.expect_problem(self, patch(sid, {"title": "x"}, "officer",
                                           if_match='"%d"' % s2["version"]),
                               404, "not_found")
        harness.expect_problem(self, step(sid, "submit", "officer"), 404,
                               "not_found")
        mine = listing("officer")
        self.assertNotIn(sid, [x["id"] for x in mine])
        self.assertEqual(listing("officer", "unit_id=" + U["thon-2"]), [])
        # Seeded registrations of thôn 2 are hidden too.
        self.assertTrue(all(x["unit_id"] in (U["thon-1"],
                                             U["mat-tran-thon-1"])
                            for x in mine), [x["unit_id"] for x in mine])

    def test_lists_hold_what_each_caller_may_see(self):
        for who in ("officer", "kt-cb", "coordinator", "leader", "admin",
                    "service"):
            with self.subTest(who=who):
                unit = {"kt-cb": KT}.get(who) or \
                    harness.demo_account(who)["unit_id"]
                want = [r[0] for r in db().psql(
                    "SELECT s.id FROM submissions s, units me WHERE"
                    " me.id = '%s' AND EXISTS (SELECT 1 FROM units su WHERE"
                    " su.id IN (s.unit_id, s.receiving_unit_id) AND"
                    " su.path <@ me.path)" % unit)]
                got = [x["id"] for x in listing(who)]
                self.assertEqual(len(got), len(set(got)))
                self.assertEqual(sorted(got), sorted(want))

    def test_receiving_side_reads_but_does_not_edit(self):
        s = create("kt-cb", {"unit_id": KT, "kind": "unit_plan",
                              "milestone_id": F.xs["unit_plan"]["id"],
                              "title": "Kế hoạch (nháp)"})
        self.assertEqual(get(s["id"], "coordinator")["id"], s["id"])
        harness.expect_problem(self, patch(s["id"], {"title": "x"},
                                           "coordinator"), 404, "not_found")
        # Thôn 1's officer and the agency do not see each other's.
        harness.expect_problem(self, call("officer", "GET",
                                          "/api/v1/submissions/" + s["id"]),
                               404, "not_found")


class Queue(unittest.TestCase):

    def test_review_queue_oldest_first(self):
        first = create("leader", {"unit_id": U["tt-cung-ung-dvc"],
                                  "kind": "annual_report",
                                  "milestone_id":
                                  F.ms["annual_report"]["id"],
                                  "title": "Báo cáo năm TT CƯDVC",
                                  "submit": True})
        time.sleep(0.01)
        second = create("leader", {"unit_id": U["tt-cung-ung-dvc"],
                                   "kind": "unit_plan",
                                   "milestone_id": F.ms["unit_plan"]["id"],
                                   "title": "Kế hoạch TT CƯDVC",
                                   "submit": True})
        q = "status=submitted&receiving_unit_id=" + VHXH
        items = listing("coordinator", q)
        self.assertTrue(all((x["status"], x["receiving_unit_id"]) ==
                            ("submitted", VHXH) for x in items))
        keys = [(ts(x["last_submitted_at"] or x["created_at"]), x["id"])
                for x in items]
        self.assertEqual(keys, sorted(keys))
        ids = [x["id"] for x in items]
        self.assertLess(ids.index(first["id"]), ids.index(second["id"]))
        self.assertEqual(ids[-1], second["id"])
        self.assertEqual(sorted(ids), sorted(r[0] for r in db().psql(
            "SELECT id FROM submissions WHERE status = 'submitted' AND"
            " receiving_unit_id = '%s'" % VHXH)))
        for limit in (1, 2):
            with self.subTest(limit=limit):
                self.assertEqual([x["id"] for x in listing(
                    "coordinator", q, limit=limit)], ids)
        # Accepting takes it out of the queue.
        ok(step(first["id"], "accept", "coordinator"))
        self.assertNotIn(first["id"], [x["id"] for x in listing(
            "coordinator", q)])

    def test_filters(self):
        hcc, m = U["tt-phuc-vu-hcc"], F.xs["unit_plan"]["id"]
        s = create("leader", {"unit_id": hcc, "kind": "unit_plan",
                              "milestone_id": m, "title": "Kế hoạch TT"})
        got = listing("leader", "unit_id=%s&milestone_id=%s&status=draft"
                      % (hcc, m))
        self.assertEqual([x["id"] for x in got], [s["id"]])
        self.assertEqual(listing("leader", "unit_id=%s&milestone_id=%s"
                                 "&status=submitted" % (hcc, m)), [])
        got = listing("coordinator", "plan_id=" + F.xplan["id"])
        self.assertIn(s["id"], [x["id"] for x in got])
        self.assertTrue(all(x["plan_id"] == F.xplan["id"] for x in got))
        got = listing("leader", "kind=model_registration")
        self.assertTrue(got)
        self.assertTrue(all(x["kind"] == "model_registration" for x in got))
        got = listing("leader", "plan_id=" + COMMUNE_PLAN)
        self.assertTrue(all(x["plan_id"] == COMMUNE_PLAN for x in got))
        self.assertEqual(len(got), rows("plan_id = '%s'" % COMMUNE_PLAN))

    def test_bad_filters_400(self):
        for q, field in (("status=pending", "status"), ("kind=report", "kind"),
                         ("unit_id=x", "unit_id"),
                         ("receiving_unit_id=1", "receiving_unit_id"),
                         ("milestone_id=m", "milestone_id"),
                         ("plan_id=p", "plan_id"), ("limit=0", "limit"),
                         ("cursor=zz", "cursor")):
            with self.subTest(q=q):
                r = call("leader", "GET", "/api/v1/submissions?" + q)
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertIn(field, [e["field"] for e in doc["errors"]])


class Seeded(unittest.TestCase):
    """The demo plan's submissions the seed made."""

    def seeded(self, kind, unit):
        items = listing("leader", "milestone_id=%s&unit_id=%s"
                        % (F.ms[kind]["id"], unit))
        items = [x for x in items if x["status"] != "draft"]
        self.assertEqual(len(items), 1, items)
        return items[0]

    def test_statuses(self):
        s = self.seeded("unit_plan", VHXH)
        self.assertEqual((s["status"], s["timeliness"]),
                         ("accepted", "on_time"))
        s = self.seeded("unit_plan", U["tt-phuc-vu-hcc"])
        self.assertEqual((s["status"], s["revision"]), ("submitted", 2))
        v = ok(call("leader", "GET", "/api/v1/submissions/%s/versions"
                    % s["id"])).json()["items"]
        self.assertEqual([x["revision"] for x in v], [1, 2])
        self.assertIsNone(v[0]["returned_reason"])
        self.assertTrue(v[1]["returned_reason"])
        for kind, unit, when in (("unit_plan", U["vp-hdnd-ubnd"], "on_time"),
                                 ("unit_plan", KT, "late"),
                                 ("six_month_report", U["vp-hdnd-ubnd"],
                                  "on_time"),
                                 ("six_month_report", VHXH, "late"),
                                 ("annual_report", U["vp-hdnd-ubnd"],
                                  "on_time")):
            with self.subTest(kind=kind, unit=unit):
                s = self.seeded(kind, unit)
                self.assertEqual(s["timeliness"], when)
                self.assertEqual(datetime.datetime.fromisoformat(
                    s["submitted_at"].replace("Z", "+00:00")).astimezone(
                        VN).date() <= datetime.date.fromisoformat(
                            s["due_on"]), when == "on_time")


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
