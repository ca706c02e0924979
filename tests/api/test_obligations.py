"""Obligations over HTTP: every (milestone, owing unit) pair of a plan is an
expected submission, on time, late, missing or pending, judged against the
end of the due day in Asia/Ho_Chi_Minh; extensions move one unit's due day.
The demo plan's seeded spread, a fresh plan whose due days straddle "today"
in Vietnam, the SQL function that draws the line, scope and roles."""

import datetime
import time
import unittest
import uuid
from zoneinfo import ZoneInfo

import harness
from harness import (AGENCIES, CHECK, COMMUNE_PLAN, PROVINCE_PLAN, U, call, db,
                     ok, tag)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
STATES = ("on_time", "late", "missing", "pending")


def vn_today():
    return datetime.datetime.now(VN).date()


def wait_clear_of_midnight(margin=120):
    """Sleep past 00:00 in Vietnam when it is less than `margin` seconds
    away, so "today" cannot change under a test."""
    now = datetime.datetime.now(VN)
    midnight = datetime.datetime.combine(now.date() + datetime.timedelta(1),
                                         datetime.time(0), tzinfo=VN)
    left = (midnight - now).total_seconds()
    if left < margin:
        time.sleep(left + 2)


def day(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


class F:
    """What setUpModule builds (as the leader, the coordinator and the
    admin) through the API."""
    demo_ms = {}       # kind -> milestone of the demo plan
    demo_before = None  # the demo plan's obligations before any change
    plan = None        # fresh issued plan of the commune
    m = {}             # name -> milestone of the fresh plan
    plan2 = None
    m2 = {}
    grants = {}        # name -> response of the grant
    subs = {}          # name -> submission created


TODAY = None


def milestone(plan_id, kind, due_on, owing, receiving=U["phong-vh-xh"]):
    return ok(call("leader", "POST", "/api/v1/plans/%s/milestones" % plan_id,
                   body={"kind": kind, "title": "Mốc %s %s" % (kind, tag()),
                         "due_on": due_on, "receiving_unit_id": receiving,
                         "owing": {"unit_ids": owing}}), 201).json()


def new_plan():
    return ok(call("leader", "POST", "/api/v1/plans", body={
        "title": "Kế hoạch báo cáo " + tag(), "year": TODAY.year,
        "issuing_unit_id": U["commune"]}), 201).json()


def issue(plan):
    v = ok(call("leader", "GET", "/api/v1/plans/" + plan["id"])).json()
    ok(call("leader", "POST", "/api/v1/plans/%s/issue" % plan["id"],
            headers={"If-Match": '"%d"' % v["version"]}))


def grant(mid, unit, due_on, reason=None, who="coordinator", status=201,
          headers=None):
    r = call(who, "POST", "/api/v1/milestones/%s/extensions" % mid,
             body={"unit_id": unit, "due_on": due_on,
                   "reason": reason or "Gia hạn vì " + tag()},
             headers=headers)
    return ok(r, status).json()


def submit_now(mid, unit, kind, who="leader"):
    return ok(call(who, "POST", "/api/v1/submissions", body={
        "unit_id": unit, "kind": kind, "milestone_id": mid,
        "title": "Báo cáo " + tag(), "body": "Nội dung báo cáo.",
        "submit": True}), 201).json()


def build():
    global TODAY
    wait_clear_of_midnight(300)
    TODAY = vn_today()
    # An officer of Phòng Kinh tế: call("kt-cb", ...).
    harness.new_user(U["phong-kinh-te"], "officer", "canbo", name="kt-cb")
    F.demo_ms = {m["kind"]: m for m in ok(call(
        "leader", "GET", "/api/v1/plans/%s/milestones" % COMMUNE_PLAN)
    ).json()["items"]}
    F.demo_before = obligations("leader", COMMUNE_PLAN)
    # Plan 1: a report due ten days ago, extended for some units to
    # yesterday, today and later; one due in a month; one due today; one
    # (custom) due yesterday that nobody sends.
    F.plan = new_plan()
    pid = F.plan["id"]
    F.m["a"] = milestone(pid, "six_month_report", day(-10),
                         [U["vp-hdnd-ubnd"], U["phong-kinh-te"],
                          U["tt-phuc-vu-hcc"], U["tt-cung-ung-dvc"]])
    F.m["b"] = milestone(pid, "annual_report", day(30), [U["vp-hdnd-ubnd"]])
    F.m["c"] = milestone(pid, "unit_plan", day(0),
                         [U["vp-hdnd-ubnd"], U["phong-kinh-te"]])
    F.m["d"] = milestone(pid, "custom", day(-1), [U["vp-hdnd-ubnd"]])
    issue(F.plan)
    a = F.m["a"]["id"]
    F.grants["yesterday"] = grant(a, U["vp-hdnd-ubnd"], day(-1),
                                  "Đến hôm qua")
    F.grants["today"] = grant(a, U["phong-kinh-te"], day(0), "Đến hôm nay")
    F.grants["later"] = grant(a, U["tt-cung-ung-dvc"], day(5), "Đến tuần sau")
    wait_clear_of_midnight(60)
    CHECK.assertEqual(vn_today(), TODAY, "the day changed while building")
    F.subs["a_vp"] = submit_now(a, U["vp-hdnd-ubnd"], "six_month_report")
    F.subs["a_kt"] = submit_now(a, U["phong-kinh-te"], "six_month_report")
    F.subs["c_vp"] = submit_now(F.m["c"]["id"], U["vp-hdnd-ubnd"],
                                "unit_plan")
    # Plan 2, for the tests that change extensions.
    F.plan2 = new_plan()
    F.m2["e"] = milestone(F.plan2["id"], "annual_report", day(-5),
                          [U["tt-phuc-vu-hcc"], U["tt-cung-ung-dvc"]])
    F.m2["f"] = milestone(F.plan2["id"], "annual_report", day(-5),
                          [U["tt-phuc-vu-hcc"]], receiving=U["vp-hdnd-ubnd"])
    issue(F.plan2)


setUpModule, tearDownModule = harness.fixtures(build)


def obligations(who, plan_id, query=""):
    r = ok(call(who, "GET", "/api/v1/plans/%s/obligations%s"
                % (plan_id, "?" + query if query else "")))
    doc = r.json()
    CHECK.assertIsNone(doc["next_cursor"], r.describe())
    return doc


def by_pair(doc):
    return {(o["milestone_id"], o["unit_id"]): o for o in doc["items"]}


def summary_of(items):
    s = {"expected": len(items), "received": 0}
    for st in STATES:
        s[st] = sum(1 for o in items if o["state"] == st)
    s["received"] = s["on_time"] + s["late"]
    return s


def sql_obligations(plan_id):
    """Each obligation of the plan judged here from the tables, not by the
    server: {(milestone, unit): (due_on, state, submission id)}."""
    rows = db().psql(
        "SELECT m.id, mu.unit_id, coalesce(e.due_on, m.due_on),"
        " s.id, extract(epoch FROM s.submitted_at)"
        " FROM milestones m JOIN milestone_units mu ON mu.milestone_id = m.id"
        " LEFT JOIN extensions e ON e.milestone_id = m.id"
        "  AND e.unit_id = mu.unit_id"
        " LEFT JOIN LATERAL (SELECT s.id, s.submitted_at FROM submissions s"
        "  WHERE s.milestone_id = m.id AND s.unit_id = mu.unit_id"
        "  AND s.status <> 'draft' ORDER BY s.submitted_at LIMIT 1) s ON true"
        " WHERE m.plan_id = '%s'" % plan_id)
    out = {}
    for mid, unit, due, sid, epoch in rows:
        due_d = datetime.date.fromisoformat(due)
        if sid:
            at = datetime.datetime.fromtimestamp(float(epoch), VN).date()
            state = "on_time" if at <= due_d else "late"
        else:
            state = "missing" if due_d < TODAY else "pending"
        out[(mid, unit)] = (due, state, sid or None)
    return out


class DemoSpread(unittest.TestCase):
    """The seeded commune plan: five agencies owe three milestones each."""

    def states(self, doc):
        kinds = {m["id"]: k for k, m in F.demo_ms.items()}
        return {(kinds[o["milestone_id"]], o["unit_id"]): o["state"]
                for o in doc["items"]}

    def test_the_spread_the_seed_made(self):
        doc = F.demo_before
        self.assertEqual(len(doc["items"]), 15)
        st = self.states(doc)
        self.assertEqual({u for _, u in st}, set(AGENCIES))
        want = {
            ("unit_plan", U["vp-hdnd-ubnd"]): "on_time",
            ("unit_plan", U["phong-kinh-te"]): "late",
            ("unit_plan", U["phong-vh-xh"]): "on_time",
            ("unit_plan", U["tt-cung-ung-dvc"]): "missing",
            ("six_month_report", U["vp-hdnd-ubnd"]): "on_time",
            ("six_month_report", U["phong-vh-xh"]): "late",
            ("six_month_report", U["phong-kinh-te"]): "missing",
            ("six_month_report", U["tt-phuc-vu-hcc"]): "missing",
            ("six_month_report", U["tt-cung-ung-dvc"]): "missing",
            ("annual_report", U["vp-hdnd-ubnd"]): "on_time",
            ("annual_report", U["phong-kinh-te"]): "on_time",
            ("annual_report", U["phong-vh-xh"]): "missing",
            ("annual_report", U["tt-phuc-vu-hcc"]): "missing",
            ("annual_report", U["tt-cung-ung-dvc"]): "missing",
        }
        for k, v in want.items():
            self.assertEqual(st[k], v, k)
        # Returned and then resubmitted: received, whichever way it came.
        self.assertIn(st[("unit_plan", U["tt-phuc-vu-hcc"])],
                      ("on_time", "late"))
        self.assertEqual(doc["summary"], summary_of(doc["items"]))
        self.assertEqual(doc["summary"]["expected"], 15)
        self.assertEqual(doc["summary"]["received"], 8)
        self.assertEqual(doc["summary"]["missing"], 7)
        self.assertEqual(doc["summary"]["pending"], 0)

    def test_the_spread_matches_the_tables(self):
        doc = obligations("leader", COMMUNE_PLAN)
        self.assertEqual(
            {k: (o["due_on"], o["state"], o["submission_id"])
             for k, o in by_pair(doc).items()},
            sql_obligations(COMMUNE_PLAN))
        self.assertEqual(doc["summary"], summary_of(doc["items"]))

    def test_received_items_point_at_their_submission(self):
        doc = F.demo_before
        for o in doc["items"]:
            with self.subTest(o=(o["milestone_kind"], o["unit_id"])):
                m = F.demo_ms[o["milestone_kind"]]
                self.assertEqual(
                    (o["milestone_id"], o["milestone_title"],
                     o["receiving_unit_id"], o["due_on"], o["extended"],
                     o["extension_reason"]),
                    (m["id"], m["title"], U["phong-vh-xh"], m["due_on"],
                     False, None))
                if o["state"] in ("missing", "pending"):
                    self.assertIsNone(o["submission_id"])
                    self.assertIsNone(o["submitted_at"])
                    continue
                s = ok(call("leader", "GET", "/api/v1/submissions/"
                            + o["submission_id"])).json()
                self.assertEqual((s["unit_id"], s["milestone_id"], s["kind"]),
                                 (o["unit_id"], m["id"], m["kind"]))
                self.assertNotEqual(s["status"], "draft")
                self.assertEqual(s["timeliness"], o["state"])
                self.assertEqual(parse_ts(s["submitted_at"]),
                                 parse_ts(o["submitted_at"]))
        names = dict(db().psql("SELECT id, name FROM units"))
        for o in doc["items"]:
            self.assertEqual(o["unit_name"], names[o["unit_id"]])

    def test_model_registrations_from_two_villages(self):
        items = ok(call("leader", "GET", "/api/v1/submissions?kind="
                        "model_registration&limit=200")).json()["items"]
        seeded = {s["unit_id"] for s in items}
        self.assertTrue({U["thon-1"], U["thon-2"]} <= seeded, seeded)
        for s in items:
            if s["unit_id"] in (U["thon-1"], U["thon-2"]):
                self.assertIsNone(s["milestone_id"])
                for k in ("name", "field", "description", "expected_results"):
                    self.assertTrue(s["data"].get(k), (k, s["data"]))


def parse_ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


class EndOfTheDay(unittest.TestCase):
    """The line between on time and late is 00:00 of the next day in
    Vietnam (17:00 UTC of the due day)."""

    def test_timeliness_sql_function(self):
        cases = [("2026-05-15 16:59:00+00", "on_time"),
                 ("2026-05-15 16:59:59.999+00", "on_time"),
                 ("2026-05-15 17:00:00+00", "late"),
                 ("2026-05-15 17:01:00+00", "late"),
                 ("2026-05-14 17:00:00+00", "on_time"),
                 ("2026-05-15 23:59:00+07", "on_time"),
                 ("2026-05-16 00:01:00+07", "late"),
                 ("2026-01-01 00:00:00+00", "on_time")]
        rows = db().psql(["SELECT timeliness('%s', '2026-05-15')" % at
                          for at, _ in cases])
        self.assertEqual([r[0] for r in rows], [w for _, w in cases])
        self.assertEqual(db().psql("SELECT today_vn()")[0][0],
                         vn_today().isoformat())

    def test_submitted_now_is_late_against_yesterday(self):
        s = F.subs["a_vp"]
        self.assertEqual((s["status"], s["timeliness"], s["due_on"],
                          s["revision"]),
                         ("submitted", "late", day(-1), 1))
        self.assertEqual(parse_ts(s["submitted_at"]).astimezone(VN).date(),
                         TODAY)

    def test_submitted_now_is_on_time_against_today(self):
        for name, due in (("a_kt", day(0)), ("c_vp", day(0))):
            with self.subTest(name=name):
                s = F.subs[name]
                self.assertEqual((s["status"], s["timeliness"], s["due_on"]),
                                 ("submitted", "on_time", due))

    def test_states_of_the_fresh_plan(self):
        doc = obligations("leader", F.plan["id"])
        got = {k: (o["due_on"], o["extended"], o["extension_reason"],
                   o["state"], o["submission_id"])
               for k, o in by_pair(doc).items()}
        a, b, c, d = (F.m[k]["id"] for k in "abcd")
        vp, kt, hcc, dvc = (U["vp-hdnd-ubnd"], U["phong-kinh-te"],
                            U["tt-phuc-vu-hcc"], U["tt-cung-ung-dvc"])
        self.assertEqual(got, {
            (a, vp): (day(-1), True, "Đến hôm qua", "late",
                      F.subs["a_vp"]["id"]),
            (a, kt): (day(0), True, "Đến hôm nay", "on_time",
                      F.subs["a_kt"]["id"]),
            (a, hcc): (day(-10), False, None, "missing", None),
            (a, dvc): (day(5), True, "Đến tuần sau", "pending", None),
            (b, vp): (day(30), False, None, "pending", None),
            (c, vp): (day(0), False, None, "on_time", F.subs["c_vp"]["id"]),
            (c, kt): (day(0), False, None, "pending", None),
            (d, vp): (day(-1), False, None, "missing", None),
        })
        self.assertEqual(doc["summary"], {
            "expected": 8, "received": 3, "on_time": 2, "late": 1,
            "missing": 2, "pending": 3})
        for o in doc["items"]:
            m = next(x for x in F.m.values() if x["id"] == o["milestone_id"])
            self.assertEqual((o["milestone_kind"], o["milestone_title"],
                              o["receiving_unit_id"]),
                             (m["kind"], m["title"], U["phong-vh-xh"]))
        self.assertEqual(parse_ts(by_pair(doc)[(a, vp)]["submitted_at"]),
                         parse_ts(F.subs["a_vp"]["submitted_at"]))
        self.assertEqual({k: (v[0], v[3], v[4]) for k, v in got.items()},
                         sql_obligations(F.plan["id"]))

    def test_order_is_due_date_then_milestone_then_unit(self):
        for doc in (obligations("leader", F.plan["id"]), F.demo_before):
            keys = [(o["due_on"], o["milestone_id"], o["unit_id"])
                    for o in doc["items"]]
            self.assertEqual(keys, sorted(keys))
        items = obligations("leader", F.plan["id"])["items"]
        self.assertEqual(items[0]["due_on"], day(-10))
        self.assertEqual(items[-1]["due_on"], day(30))
        self.assertEqual([o["due_on"] for o in F.demo_before["items"]],
                         ["2026-01-30"] * 5 + ["2026-05-15"] * 5 +
                         ["2026-10-30"] * 5)
        self.assertEqual([o["unit_id"] for o in F.demo_before["items"]][:5],
                         sorted(AGENCIES))


class Filters(unittest.TestCase):

    def test_state_unit_and_milestone(self):
        pid = F.plan["id"]
        doc = obligations("leader", pid, "state=missing")
        self.assertEqual(sorted((o["milestone_id"], o["unit_id"])
                                for o in doc["items"]),
                         sorted([(F.m["a"]["id"], U["tt-phuc-vu-hcc"]),
                                 (F.m["d"]["id"], U["vp-hdnd-ubnd"])]))
        self.assertEqual(doc["summary"]["missing"], 2)
        doc = obligations("leader", pid, "unit_id=" + U["vp-hdnd-ubnd"])
        self.assertEqual(sorted(o["milestone_id"] for o in doc["items"]),
                         sorted(F.m[k]["id"] for k in "abcd"))
        self.assertTrue(all(o["unit_id"] == U["vp-hdnd-ubnd"]
                            for o in doc["items"]))
        doc = obligations("leader", pid, "milestone_id=%s&state=pending"
                          % F.m["a"]["id"])
        self.assertEqual([o["unit_id"] for o in doc["items"]],
                         [U["tt-cung-ung-dvc"]])
        doc = obligations("leader", pid, "unit_id=" + U["thon-1"])
        self.assertEqual(doc["items"], [])
        self.assertEqual(doc["summary"], summary_of([]))
        whole = obligations("leader", COMMUNE_PLAN)
        for st in STATES:
            with self.subTest(state=st):
                doc = obligations("leader", COMMUNE_PLAN, "state=" + st)
                self.assertEqual(
                    [(o["milestone_id"], o["unit_id"]) for o in doc["items"]],
                    [(o["milestone_id"], o["unit_id"])
                     for o in whole["items"] if o["state"] == st])
                self.assertEqual(doc["summary"][st], len(doc["items"]))

    def test_bad_filters_400(self):
        for q, field in (("state=overdue", "state"), ("unit_id=thon-1",
                                                      "unit_id"),
                         ("milestone_id=42", "milestone_id")):
            with self.subTest(q=q):
                r = call("leader", "GET", "/api/v1/plans/%s/obligations?%s"
                         % (COMMUNE_PLAN, q))
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertIn(field, [e["field"] for e in doc["errors"]])

    def test_unknown_and_hidden_plans_404(self):
        so = ok(call("admin", "POST", "/api/v1/plans", body={
            "title": "Kế hoạch Sở " + tag(), "year": TODAY.year,
            "issuing_unit_id": U["so-noi-vu"]}), 201).json()
        for pid, who in ((str(uuid.uuid4()), "leader"),
                         (so["id"], "leader"), (so["id"], "officer")):
            with self.subTest(pid=pid, who=who):
                r = call(who, "GET", "/api/v1/plans/%s/obligations" % pid)
                harness.expect_problem(self, r, 404, "not_found")
        doc = obligations("admin", so["id"])
        self.assertEqual((doc["items"], doc["summary"]["expected"]), ([], 0))
        r = call("leader", "GET", "/api/v1/plans/not-a-uuid/obligations")
        self.assertEqual(r.status, 404, r.describe())


class Scope(unittest.TestCase):

    def test_who_sees_which_obligations(self):
        whole = obligations("leader", COMMUNE_PLAN)
        pairs = sorted(by_pair(whole))
        for who in ("admin", "coordinator", "inspector", "viewer",
                    "service"):
            with self.subTest(who=who):
                doc = obligations(who, COMMUNE_PLAN)
                self.assertEqual(sorted(by_pair(doc)), pairs)
                self.assertEqual(doc["summary"], whole["summary"])
        # A village owes nothing of the demo plan and receives nothing.
        doc = obligations("officer", COMMUNE_PLAN)
        self.assertEqual(doc["items"], [])
        self.assertEqual(doc["summary"], summary_of([]))
        # An agency officer sees its own unit's three.
        doc = obligations("kt-cb", COMMUNE_PLAN)
        self.assertEqual(sorted(o["milestone_kind"] for o in doc["items"]),
                         ["annual_report", "six_month_report", "unit_plan"])
        self.assertTrue(all(o["unit_id"] == U["phong-kinh-te"]
                            for o in doc["items"]))
        self.assertEqual(doc["summary"], summary_of(doc["items"]))
        doc = obligations("kt-cb", F.plan["id"])
        self.assertEqual(len(doc["items"]), 2)
        # The province plan has no milestones.
        self.assertEqual(obligations("leader", PROVINCE_PLAN)["items"], [])

    def test_no_credentials_401(self):
        r = call(None, "GET", "/api/v1/plans/%s/obligations"
                 % COMMUNE_PLAN)
        harness.expect_problem(self, r, 401, "unauthenticated")


class Extensions(unittest.TestCase):

    def path(self, key="e"):
        return "/api/v1/milestones/%s/extensions" % F.m2[key]["id"]

    def item(self, unit, key="e"):
        doc = obligations("leader", F.plan2["id"], "milestone_id=%s&unit_id=%s"
                          % (F.m2[key]["id"], unit))
        self.assertEqual(len(doc["items"]), 1)
        return doc["items"][0]

    def rows(self, unit=None):
        return int(db().psql(
            "SELECT count(*) FROM extensions WHERE milestone_id = '%s'%s"
            % (F.m2["e"]["id"], " AND unit_id = '%s'" % unit if unit
               else ""))[0][0])

    def test_grant_then_replace(self):
        dvc = U["tt-cung-ung-dvc"]
        self.assertEqual(self.item(dvc)["state"], "missing")
        rid = "ext-" + tag()
        g = grant(F.m2["e"]["id"], dvc, day(3), "Thiếu cán bộ",
                  headers={"X-Request-Id": rid})
        self.assertEqual((g["milestone_id"], g["unit_id"], g["due_on"]),
                         (F.m2["e"]["id"], dvc, day(3)))
        o = self.item(dvc)
        self.assertEqual((o["due_on"], o["extended"], o["extension_reason"],
                          o["state"]),
                         (day(3), True, "Thiếu cán bộ", "pending"))
        g = grant(F.m2["e"]["id"], dvc, day(1), "Gia hạn lại", status=200)
        self.assertEqual(g["due_on"], day(1))
        o = self.item(dvc)
        self.assertEqual((o["due_on"], o["extension_reason"], o["state"]),
                         (day(1), "Gia hạn lại", "pending"))
        self.assertEqual(self.rows(dvc), 1)
        self.assertEqual(db().psql(
            "SELECT due_on, reason, granted_by = (SELECT id FROM users WHERE"
            " username = '%s') FROM extensions WHERE milestone_id = '%s' AND"
            " unit_id = '%s'" % (harness.demo_account("coordinator")
                                 ["username"], F.m2["e"]["id"], dvc)),
                         [(day(1), "Gia hạn lại", "t")])
        # Audited, with the request id.
        ev = [e for e in ok(call("leader", "GET", "/api/v1/audit?entity_id="
                                 + F.m2["e"]["id"])).json()["items"]
              if e["action"] == "extend"]
        self.assertEqual(len(ev), 2, ev)
        self.assertEqual([e["entity_type"] for e in ev], ["milestone"] * 2)
        self.assertIn(rid, [e["request_id"] for e in ev])

    def test_late_submission_rejudged_by_an_extension(self):
        hcc = U["tt-phuc-vu-hcc"]
        s = submit_now(F.m2["e"]["id"], hcc, "annual_report")
        self.assertEqual((s["timeliness"], s["due_on"]), ("late", day(-5)))
        self.assertEqual(self.item(hcc)["state"], "late")
        grant(F.m2["e"]["id"], hcc, day(0), "Gia hạn sau khi nộp")
        self.assertEqual(self.item(hcc)["state"], "on_time")
        s = ok(call("leader", "GET", "/api/v1/submissions/" + s["id"])).json()
        self.assertEqual((s["timeliness"], s["due_on"]), ("on_time", day(0)))

    def test_due_on_must_be_after_the_milestone(self):
        for due in (day(-5), day(-6)):
            with self.subTest(due=due):
                r = call("coordinator", "POST", self.path(), body={
                    "unit_id": U["tt-cung-ung-dvc"], "due_on": due,
                    "reason": "Không hợp lệ"})
                harness.expect_problem(self, r, 422, "invalid_body",
                                       {"due_on": "range"})

    def test_unit_must_owe_the_milestone(self):
        before = self.rows()
        for unit in (U["phong-kinh-te"], U["thon-1"], str(uuid.uuid4())):
            with self.subTest(unit=unit):
                r = call("coordinator", "POST", self.path(), body={
                    "unit_id": unit, "due_on": day(10), "reason": "Thử"})
                harness.expect_problem(self, r, 422, "not_owed",
                                       {"unit_id": "not_owed"})
        self.assertEqual(self.rows(), before)

    def test_bad_bodies(self):
        cases = [({}, {"unit_id": "required", "due_on": "required",
                       "reason": "required"}),
                 ({"unit_id": "x", "due_on": "2026-02-30", "reason": ""},
                  {"unit_id": "format", "due_on": "format",
                   "reason": "length"}),
                 ({"unit_id": U["tt-cung-ung-dvc"], "due_on": day(9),
                   "reason": "r" * 1001}, {"reason": "length"}),
                 ({"unit_id": U["tt-cung-ung-dvc"], "due_on": day(9),
                   "reason": "r", "granted_by": "me"},
                  {"granted_by": "unknown"})]
        for b, errors in cases:
            with self.subTest(b=str(b)[:60]):
                r = call("coordinator", "POST", self.path(), body=b)
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        for raw, ctype, status, code in (
                (b'{"unit_id": ', "application/json", 400, "malformed_json"),
                (b'{}', "text/plain", 415, "unsupported_media_type"),
                (b'', "application/json", 400, "body_required")):
            with self.subTest(code=code):
                r = call("coordinator", "POST", self.path(), raw=raw,
                         headers={"Content-Type": ctype})
                harness.expect_problem(self, r, status, code)

    def test_who_may_grant(self):
        b = {"unit_id": U["tt-cung-ung-dvc"], "due_on": day(20),
             "reason": "Không có quyền"}
        for who in ("officer", "viewer", "inspector", "service", "kt-cb"):
            with self.subTest(who=who):
                r = call(who, "POST", self.path(), body=b)
                harness.expect_problem(self, r, 403, "forbidden")
        # The coordinator of Phòng VH-XH does not receive milestone f.
        r = call("coordinator", "POST", self.path("f"), body={
            "unit_id": U["tt-phuc-vu-hcc"], "due_on": day(20),
            "reason": "Không nhận"})
        harness.expect_problem(self, r, 404, "not_found")
        r = call("coordinator", "POST", "/api/v1/milestones/%s/extensions"
                 % uuid.uuid4(), body=b)
        harness.expect_problem(self, r, 404, "not_found")
        # Above the receiving unit: the leader and the admin.
        g = grant(F.m2["f"]["id"], U["tt-phuc-vu-hcc"], day(20),
                  "Lãnh đạo gia hạn", who="leader")
        self.assertEqual(g["due_on"], day(20))
        g = grant(F.m2["f"]["id"], U["tt-phuc-vu-hcc"], day(21),
                  "Quản trị gia hạn", who="admin", status=200)
        self.assertEqual(self.item(U["tt-phuc-vu-hcc"], "f")["due_on"],
                         day(21))


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
