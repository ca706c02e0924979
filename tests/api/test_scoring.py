"""Scoring over HTTP: Phòng VH-XH makes a rubric (data: groups, caps,
bands, the eligibility rule), four units score themselves with evidence and
submit (which freezes the rubric), the coordinator adjusts with reasons —
Phòng Kinh tế drops from Tốt to Khá — and rules one unit not eligible, the
leader finalises under four eyes, and the ranking comes out as JSON and as
CSV bytes. Then bad input, roles, scope, and a new revision of the rubric.
The seeded demo ranking last."""

import unittest
import uuid

import harness
from harness import CHECK, COMMUNE_PLAN, U, call

VP, KT, HCC, DVC = (U["vp-hdnd-ubnd"], U["phong-kinh-te"],
                    U["tt-phuc-vu-hcc"], U["tt-cung-ung-dvc"])
VHXH = U["phong-vh-xh"]
SUBS = {VP: "5eed0000-0000-4000-8000-0000000005a1",
        KT: "5eed0000-0000-4000-8000-0000000005a2",
        HCC: "5eed0000-0000-4000-8000-0000000005a4"}
REASON_DVC = "Chưa gửi kế hoạch năm, báo cáo 6 tháng: không xếp loại"

RUBRIC = {
    "unit_id": VHXH, "title": "Bộ tiêu chí thử", "sample": True,
    "groups": [
        {"code": "i", "title": "Lãnh đạo, chỉ đạo", "criteria": [
            {"code": "c1", "title": "Ban hành kế hoạch", "max_points": 40,
             "evidence_required": True},
            {"code": "c2", "title": "Phân công", "max_points": 20}]},
        {"code": "ii", "title": "Thực hiện", "criteria": [
            {"code": "c3", "title": "Kết quả", "max_points": 40,
             "guidance": "Theo báo cáo năm"}]}],
    "bonus": {"cap": 5, "criteria": [
        {"code": "b1", "title": "Mô hình được công nhận", "max_points": 5},
        {"code": "b2", "title": "Sáng kiến", "max_points": 5}]},
    "deductions": {"cap": 10, "criteria": [
        {"code": "d1", "title": "Vi phạm", "max_points": 10}]},
    "bands": [{"name": "Tốt", "min_total": 80}, {"name": "Khá", "min_total": 65},
              {"name": "Trung bình", "min_total": 50},
              {"name": "Yếu", "min_total": 0}],
    "eligibility_rule": "Không xếp loại đơn vị không gửi kế hoạch năm.",
}


class F:
    rubric = None
    sheets = {}


def build():
    # An officer of each of the four units: call(unit_id, ...).
    for unit in (VP, KT, HCC, DVC):
        harness.new_user(unit, "officer", "cham", name=unit)
    for role in ("admin", "leader", "coordinator", "officer"):
        harness.token(role)
    # The public service centre has no submission yet: it files one.
    r = call(DVC, "POST", "/api/v1/submissions",
             body={"unit_id": DVC, "kind": "progress_report",
                   "title": "Báo cáo tiến độ"})
    SUBS[DVC] = ok(r, 201)["id"]


setUpModule, tearDownModule = harness.fixtures(build)


def ok(resp, status=200):
    CHECK.assertEqual(resp.status, status, resp.describe())
    return resp.json() if resp.body else None


def sheet_path(unit):
    return "/api/v1/score-sheets/" + F.sheets[unit]


def step(who, unit, action, body=None):
    cur = call("leader", "GET", sheet_path(unit))
    return call(who, "POST", sheet_path(unit) + "/" + action, body=body,
                headers={"If-Match": cur.headers["ETag"]})


def scores(unit, c1, c2, c3, **extra):
    out = [{"code": "c1", "points": c1, "note": "Có kế hoạch",
            "evidence": {"submission_ids": [SUBS[unit]]}},
           {"code": "c2", "points": c2}, {"code": "c3", "points": c3}]
    out += [{"code": k, "points": v} for k, v in extra.items()]
    return out


class AStory(unittest.TestCase):

    def test_1_rubric(self):
        r = call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                 % COMMUNE_PLAN, body=RUBRIC)
        F.rubric = ok(r, 201)
        self.assertEqual((F.rubric["max_total"], F.rubric["revision"],
                          F.rubric["frozen"], F.rubric["bands"]),
                         (100, 1, False, RUBRIC["bands"]))
        self.assertEqual(r.headers["Location"],
                         "/api/v1/rubrics/" + F.rubric["id"])
        items = ok(call("officer", "GET", "/api/v1/plans/%s/rubrics"
                        % COMMUNE_PLAN))["items"]
        self.assertIn(F.rubric["id"], [x["id"] for x in items])

    def test_2_units_self_score(self):
        base = "/api/v1/rubrics/%s/score-sheets" % F.rubric["id"]
        for unit, pts in ((VP, (38, 18, 36)), (KT, (35, 17, 35)),
                          (HCC, (30, 15, 25)), (DVC, (25, 10, 25))):
            doc = ok(call(unit, "POST", base, body={
                "unit_id": unit, "scores": scores(unit, *pts)}), 201)
            F.sheets[unit] = doc["id"]
            self.assertEqual((doc["status"], doc["self_total"],
                              doc["adjusted_total"], doc["delta"]),
                             ("draft", sum(pts), sum(pts), 0))
        # Oldest first; all four for the commune's coordinator, one unit's
        # own sheet for its officer.
        listed = ok(call("coordinator", "GET", base))["items"]
        self.assertEqual([(x["id"], x["unit_id"], x["status"])
                          for x in listed],
                         [(F.sheets[u], u, "draft")
                          for u in (VP, KT, HCC, DVC)])
        self.assertEqual([x["id"] for x in ok(call(KT, "GET", base))
                          ["items"]], [F.sheets[KT]])
        # Bonus over its cap: 4 + 3 > 5.
        cur = call(HCC, "GET", sheet_path(HCC))
        r = call(HCC, "PATCH", sheet_path(HCC), body={"scores": [
            {"code": "b1", "points": 4}, {"code": "b2", "points": 3}]},
            headers={"If-Match": cur.headers["ETag"]})
        harness.expect_problem(self, r, 422, "over_cap", {"scores": "cap"})
        doc = ok(call(HCC, "PATCH", sheet_path(HCC), body={"scores": [
            {"code": "b1", "points": 4}, {"code": "b2", "points": 1}]},
            headers={"If-Match": cur.headers["ETag"]}))
        self.assertEqual((doc["self_total"], doc["band"]), (75, "Khá"))
        for unit in (VP, KT, HCC, DVC):
            doc = ok(step(unit, unit, "submit"))
            self.assertEqual(doc["status"], "submitted")
        rub = ok(call("officer", "GET", "/api/v1/rubrics/" + F.rubric["id"]))
        self.assertTrue(rub["frozen"])

    def test_3_reviewer_adjusts(self):
        r = step("coordinator", VP, "adjust", {"adjustments": [
            {"code": "c3", "points": 34}]})
        harness.expect_problem(self, r, 422, "invalid_body",
                               {"adjustments[0].reason": "required"})
        doc = ok(step("coordinator", VP, "adjust", {"adjustments": [
            {"code": "c3", "points": 34, "reason": "Thiếu số liệu"}]}))
        self.assertEqual((doc["self_total"], doc["adjusted_total"],
                          doc["delta"], doc["band"], doc["status"]),
                         (92, 90, -2, "Tốt", "reviewed"))
        before = ok(call(KT, "GET", sheet_path(KT)))
        self.assertEqual((before["self_total"], before["band"]), (87, "Tốt"))
        doc = ok(step("coordinator", KT, "adjust", {"adjustments": [
            {"code": "c1", "points": 30, "reason": "Kế hoạch gửi muộn"},
            {"code": "c3", "points": 31, "reason": "Kiến nghị quá hạn"}]}))
        self.assertEqual((doc["adjusted_total"], doc["delta"], doc["band"]),
                         (78, -9, "Khá"))
        c1 = next(e for e in doc["scores"] if e["code"] == "c1")
        self.assertEqual((c1["self_points"], c1["adjusted_points"],
                          c1["points"], c1["adjust_reason"]),
                         (35, 30, 30, "Kế hoạch gửi muộn"))
        doc = ok(step("coordinator", DVC, "not-eligible",
                      {"reason": REASON_DVC}))
        self.assertEqual((doc["eligible"], doc["band"],
                          doc["not_eligible_reason"]),
                         (False, None, REASON_DVC))

    def test_4_leader_finalises(self):
        r = step("coordinator", VP, "finalize")
        harness.expect_problem(self, r, 403, "forbidden")
        for unit in (VP, KT, HCC, DVC):
            doc = ok(step("leader", unit, "finalize"))
            self.assertEqual(doc["status"], "finalized")
        r = step("coordinator", KT, "adjust", {"adjustments": [
            {"code": "c2", "points": 1, "reason": "Muộn"}]})
        harness.expect_problem(self, r, 409, "score_sheet_locked")
        hist = ok(call(KT, "GET", sheet_path(KT) + "/history"))["items"]
        self.assertEqual([h["action"] for h in hist],
                         ["create", "submit", "adjust", "finalize"])

    def test_5_ranking(self):
        path = "/api/v1/rubrics/%s/ranking" % F.rubric["id"]
        rows = ok(call("leader", "GET", path))["items"]
        self.assertEqual([(x["rank"], x["unit_id"], x["adjusted_total"],
                           x["band"], x["eligible"]) for x in rows],
                         [(1, VP, 90, "Tốt", True), (2, KT, 78, "Khá", True),
                          (3, HCC, 75, "Khá", True), (None, DVC, 60, None,
                                                      False)])
        r = call("leader", "GET", path, headers={"Accept": "text/csv"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.content_type, "text/csv")
        name = "ranking-%s.csv" % F.rubric["id"]
        self.assertEqual(r.headers["Content-Disposition"],
                         "attachment; filename=\"%s\"; filename*=UTF-8''%s"
                         % (name, name))
        want = (
            "\ufeffrank,unit_code,unit_name,status,self_total,adjusted_total,"
            "delta,band,eligible,not_eligible_reason,score_rate\r\n"
            "1,vp-hdnd-ubnd,Văn phòng HĐND và UBND xã,finalized,92,90,-2,Tốt,"
            "true,,0.9\r\n"
            "2,phong-kinh-te,Phòng Kinh tế,finalized,87,78,-9,Khá,true,,0.78"
            "\r\n"
            "3,tt-phuc-vu-hcc,Trung tâm Phục vụ hành chính công xã,finalized,"
            "75,75,0,Khá,true,,0.75\r\n"
            ",tt-cung-ung-dvc,Trung tâm Cung ứng dịch vụ công,finalized,60,60,"
            "0,,false,\"Chưa gửi kế hoạch năm, báo cáo 6 tháng: không xếp "
            "loại\",0.6\r\n").encode("utf-8")
        self.assertEqual(r.body, want)
        # A unit sees its own row only.
        mine = ok(call(KT, "GET", path))["items"]
        self.assertEqual([x["unit_id"] for x in mine], [KT])

    def test_6_new_revision(self):
        body = dict(RUBRIC, replaces_id=F.rubric["id"], title="Bản sửa")
        new = ok(call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                      % COMMUNE_PLAN, body=body), 201)
        self.assertEqual((new["revision"], new["replaces_id"]),
                         (2, F.rubric["id"]))
        old = ok(call("leader", "GET", "/api/v1/rubrics/" + F.rubric["id"]))
        self.assertEqual(old["replaced_by"], new["id"])
        r = call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                 % COMMUNE_PLAN, body=body)
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"replaces_id": "unknown"})
        r = call("coordinator", "POST", "/api/v1/rubrics/%s/score-sheets"
                 % F.rubric["id"], body={"unit_id": VHXH})
        harness.expect_problem(self, r, 409, "rubric_replaced")


class BadInput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rubric = ok(call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                             % COMMUNE_PLAN, body=dict(RUBRIC, title="B")), 201)
        cls.base = "/api/v1/rubrics/%s/score-sheets" % cls.rubric["id"]
        cls.vp = ok(call(VP, "POST", cls.base, body={"unit_id": VP}), 201)

    def patch(self, body):
        path = "/api/v1/score-sheets/" + self.vp["id"]
        cur = call(VP, "GET", path)
        return call(VP, "PATCH", path, body=body,
                    headers={"If-Match": cur.headers["ETag"]})

    def test_rubric_shape(self):
        bad = dict(RUBRIC, bands=[{"name": "Khá", "min_total": 50},
                                  {"name": "Tốt", "min_total": 80}],
                   groups=[{"code": "i", "title": "x", "criteria": [
                       {"code": "c1", "title": "a", "max_points": -1},
                       {"code": "c1", "title": "b", "max_points": 5.555}]}])
        r = call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                 % COMMUNE_PLAN, body=bad)
        harness.expect_problem(self, r, 422, "invalid_body", {
            "groups[0].criteria[0].max_points": "range",
            "groups[0].criteria[1].max_points": "range",
            "groups[0].criteria[1].code": "duplicate",
            "bands[1].min_total": "order"})
        r = call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                 % COMMUNE_PLAN, body={"title": 1})
        harness.expect_problem(self, r, 422, "invalid_body")
        r = call("coordinator", "POST", "/api/v1/plans/%s/rubrics" % uuid.uuid4(),
                 body=RUBRIC)
        harness.expect_problem(self, r, 404, "not_found")
        for unit in (str(uuid.uuid4()), KT):
            r = call("coordinator", "POST", "/api/v1/plans/%s/rubrics"
                     % COMMUNE_PLAN, body=dict(RUBRIC, unit_id=unit))
            harness.expect_problem(self, r, 422, "invalid_reference",
                                   {"unit_id": "unknown"})
        r = call("officer", "POST", "/api/v1/plans/%s/rubrics" % COMMUNE_PLAN,
                 body=RUBRIC)
        harness.expect_problem(self, r, 403, "forbidden")

    def test_points(self):
        for entry, field, code in (
                ({"code": "c2", "points": 21}, "scores[0].points", "range"),
                ({"code": "c2", "points": -1}, "scores[0].points", "range"),
                ({"code": "c2", "points": "10"}, "scores[0].points", "range"),
                ({"code": "zz", "points": 1}, "scores[0].code", "unknown"),
                ({"code": "c2"}, "scores[0].points", "required"),
                ({"code": "c2", "points": 1, "note": "x" * 2001},
                 "scores[0].note", "length")):
            with self.subTest(entry=entry):
                doc = harness.expect_problem(self, self.patch(
                    {"scores": [entry]}), 422, "invalid_body")
                self.assertIn((field, code), [(e["field"], e["code"])
                                              for e in doc["errors"]])
        r = self.patch({"scores": [{"code": "c1", "points": 1}] * 201})
        harness.expect_problem(self, r, 422, "invalid_body", {"scores": "type"})

    def test_smuggled_evidence_and_units(self):
        for sid in (str(uuid.uuid4()), SUBS[KT]):
            r = self.patch({"scores": [{"code": "c1", "points": 1, "evidence": {
                "submission_ids": [sid]}}]})
            harness.expect_problem(self, r, 422, "invalid_reference", {
                "scores[0].evidence.submission_ids[0]": "unknown"})
        for unit in (str(uuid.uuid4()), KT):
            r = call(VP, "POST", self.base, body={"unit_id": unit})
            harness.expect_problem(self, r, 422, "invalid_reference",
                                   {"unit_id": "unknown"})
        r = call(VP, "POST", self.base, body={"unit_id": VP})
        harness.expect_problem(self, r, 409, "score_sheet_exists")

    def test_incomplete_submit_and_scope(self):
        ok(self.patch({"scores": [{"code": "c1", "points": 10}]}))
        path = "/api/v1/score-sheets/" + self.vp["id"]
        r = call(VP, "POST", path + "/submit", headers={
            "If-Match": call(VP, "GET", path).headers["ETag"]})
        harness.expect_problem(self, r, 422, "incomplete", {
            "c1": "evidence_required", "c2": "required", "c3": "required"})
        for who in (KT, "officer"):
            harness.expect_problem(self, call(who, "GET", path), 404,
                                   "not_found")
        r = call(KT, "PATCH", path, body={"note": "x"},
                 headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        r = call(VP, "PATCH", path, body={"note": "x"})
        harness.expect_problem(self, r, 428, "precondition_required")
        r = call(VP, "PATCH", path, body={"note": "x"},
                 headers={"If-Match": '"99"'})
        harness.expect_problem(self, r, 412, "precondition_failed")
        r = call(VP, "POST", path + "/adjust", body={"adjustments": []},
                 headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 403, "forbidden")
        r = call("coordinator", "POST", path + "/adjust", body={"adjustments": [
            {"code": "c1", "points": 1, "reason": "x"}]},
            headers={"If-Match": call("coordinator", "GET", path).headers[
                "ETag"]})
        harness.expect_problem(self, r, 409, "invalid_transition")

    def test_four_eyes(self):
        # Phòng VH-XH scores itself: its coordinator may not review it.
        mine = ok(call("coordinator", "POST", self.base, body={
            "unit_id": VHXH, "scores": [
                {"code": "c1", "points": 30, "evidence": {"submission_ids": [
                    "5eed0000-0000-4000-8000-0000000005a3"]}},
                {"code": "c2", "points": 10}, {"code": "c3", "points": 30}]}),
            201)
        path = "/api/v1/score-sheets/" + mine["id"]

        def go(who, action, body=None):
            return call(who, "POST", path + "/" + action, body=body, headers={
                "If-Match": call("leader", "GET", path).headers["ETag"]})
        ok(go("coordinator", "submit"))
        r = go("coordinator", "adjust", {"adjustments": [
            {"code": "c3", "points": 40, "reason": "Tự nâng"}]})
        harness.expect_problem(self, r, 409, "four_eyes")
        r = go("coordinator", "not-eligible", {"reason": "x"})
        harness.expect_problem(self, r, 409, "four_eyes")
        ok(go("leader", "adjust", {"adjustments": [
            {"code": "c3", "points": 25, "reason": "Thiếu minh chứng"}]}))
        r = go("leader", "finalize")
        harness.expect_problem(self, r, 409, "four_eyes")
        self.assertEqual(ok(go("admin", "finalize"))["status"], "finalized")


class Demo(unittest.TestCase):

    def test_seeded_ranking(self):
        rows = ok(call("leader", "GET", "/api/v1/rubrics/5eed0000-0000-4000-"
                       "8000-000000000741/ranking"))["items"]
        self.assertEqual([(x["unit_code"], x["self_total"],
                           x["adjusted_total"], x["band"], x["rank"])
                          for x in rows],
                         [("vp-hdnd-ubnd", 92, 90, "Tốt", 1),
                          ("phong-kinh-te", 87, 78, "Khá", 2),
                          ("thon-1", 74, 73, "Khá", 3),
                          ("tt-phuc-vu-hcc", 80, 80, None, None)])
        rub = ok(call("officer", "GET", "/api/v1/rubrics/5eed0000-0000-4000-"
                      "8000-000000000741"))
        self.assertEqual((rub["max_total"], rub["sample"], rub["bonus"]["cap"],
                          [b["name"] for b in rub["bands"]]),
                         (100, True, 10, ["Tốt", "Khá", "Trung bình", "Yếu"]))


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
