"""The seeded demo plan, read through the API, checked against the facts of
the original document and against its text: the 2026 plan of UBND xã Bình
Chương, its parent plan of the province, legal bases, recipients, eleven
tasks with their schedules and who leads, coordinates and carries out each,
and the three reporting milestones.

The original's text (extracted from the PDF) is read from
DANVAN_PLAN_ORIGINAL, by default db/seed/source/ (the plan's text as extracted from its PDF,
kept beside the transcription)."""

import json
import os
import re
import unittest

import harness
from harness import (AGENCIES, CHECK, COMMUNE_PLAN, PROVINCE_PLAN, U, VILLAGES,
                     call, db, ok)

ORIGINAL = os.environ.get(
    "DANVAN_PLAN_ORIGINAL",
    str(harness.ROOT / "db" / "seed" / "source" /
        "ke-hoach-dan-van-2026-binh-chuong.txt"))
SEED_DOC = os.path.join(harness.ROOT, "db", "seed",
                        "0003_plan_binh_chuong_2026.json")

LEADS = {1: [], 2: [U["phong-vh-xh"], U["phong-kinh-te"]],
         3: [U["vp-hdnd-ubnd"]], 4: [U["phong-kinh-te"]],
         5: [U["phong-vh-xh"]], 6: [], 7: [U["phong-vh-xh"]], 8: [],
         9: [U["phong-vh-xh"]], 10: [U["phong-vh-xh"]], 11: []}
SCHEDULES = {n: ("ongoing", None) for n in range(1, 12)}
SCHEDULES[7] = ("within_year", None)
SCHEDULES[8] = ("deadline", "2026-05-30")

# Read once for the module: the plan, its tasks with their assignments, its
# milestones, and the original text with PDF line breaks undone.
plan = parent = None
tasks = {}          # number -> task
assignments = {}    # number -> [assignment]
milestones = []
text = None


def flat(s):
    """Whitespace collapsed: the PDF broke lines anywhere."""
    return " ".join(s.split())


def build():
    global plan, parent, milestones, text
    plan = get("/api/v1/plans/" + COMMUNE_PLAN)
    parent = get("/api/v1/plans/" + PROVINCE_PLAN)
    for t in get("/api/v1/plans/%s/tasks" % COMMUNE_PLAN)["items"]:
        tasks[t["number"]] = t
        assignments[t["number"]] = get(
            "/api/v1/tasks/%s/assignments?limit=200" % t["id"])["items"]
    milestones = get("/api/v1/plans/%s/milestones" % COMMUNE_PLAN)["items"]
    if os.path.exists(ORIGINAL):
        with open(ORIGINAL, encoding="utf-8") as f:
            text = flat(f.read())


setUpModule, tearDownModule = harness.fixtures(build)


def get(path, role="viewer"):
    r = ok(call(role, "GET", path))
    doc = r.json()
    CHECK.assertIsNone(doc.get("next_cursor") if isinstance(doc, dict)
                       else None, path)
    return doc


def against_text(test):
    """Marks a test that compares with the original's text."""
    def run(self):
        if text is None:
            self.fail("the original text %s is not there" % ORIGINAL)
        return test(self)
    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


def units(number, role):
    return sorted(a["unit_id"] for a in assignments[number]
                  if a["role"] == role)


def dmy(iso):
    """2026-05-30 -> the ways the document writes it: 30/5/2026, 30/05/2026."""
    y, m, d = iso.split("-")
    return {"%d/%d/%s" % (int(d), int(m), y), "%s/%s/%s" % (d, m, y)}


def section(number):
    """The text of item `number` of Section II: from "N. <title>" to the
    end of its "Thời gian thực hiện" line."""
    start = text.find("%d. %s" % (number, flat(tasks[number]["title"])))
    CHECK.assertGreaterEqual(start, 0, "task %d not found" % number)
    m = re.compile(r"Thời gian thực hiện: ([^.;]*)").search(text, start)
    CHECK.assertIsNotNone(m, "no time line after task %d" % number)
    return text[start:m.end()], m.group(1).strip()


class Plan(unittest.TestCase):

    def test_the_commune_plan(self):
        self.assertEqual(plan["title"], "Kế hoạch thực hiện công tác dân vận "
                         "chính quyền và dân chủ ở cơ sở năm 2026")
        self.assertEqual((plan["year"], plan["issuing_unit_id"],
                          plan["status"], plan["parent_plan_id"]),
                         (2026, U["commune"], "issued", PROVINCE_PLAN))
        # The number and date are not in the text: unknown.
        self.assertIsNone(plan["code"])
        self.assertIsNone(plan["issued_on"])
        self.assertEqual(plan["signer_name"], "Võ Văn Tâm")
        self.assertIn("Chủ tịch", plan["signer_title"])

    def test_the_parent_plan_is_the_provinces(self):
        self.assertEqual((parent["code"], parent["issued_on"],
                          parent["issuing_unit_id"], parent["status"],
                          parent["year"], parent["parent_plan_id"]),
                         ("14/KH-UBND", "2026-01-19", U["province"],
                          "issued", 2026, None))

    def test_legal_bases(self):
        bases = plan["legal_bases"]
        self.assertEqual(len(bases), 13)
        by_code = {}
        for b in bases:
            if b.get("code"):
                by_code.setdefault(b["code"], []).append(b)
        self.assertEqual(by_code["33/CT-TTg"][0]["date"], "2021-11-26")
        self.assertEqual(by_code["33/CT-TTg"][0]["issuer"],
                         "Thủ tướng Chính phủ")
        self.assertTrue(all(b["date"] == "2026-01-19"
                            for b in by_code["14/KH-UBND"]))
        self.assertEqual(by_code["14/KH-UBND"][0]["issuer"],
                         "UBND tỉnh Quảng Ngãi")
        # The "Căn cứ" pair leads the list.
        self.assertEqual([b.get("code") for b in bases[:2]],
                         ["33/CT-TTg", "14/KH-UBND"])
        # Footnotes 1 and 3.
        for code, date in (("59/2023/NĐ-CP", "2023-08-14"),
                           ("61/2023/NĐ-CP", "2023-08-16"),
                           ("120-KL/TW", "2016-01-07"),
                           ("114-KL/TW", "2015-07-14"),
                           ("08-CT/TU", "2021-05-25"),
                           ("396-QĐ/TU", "2021-10-19"),
                           ("02-CT/TU", "2025-10-06"),
                           ("07-HD/BTGDVTU", "2025-11-04")):
            with self.subTest(code=code):
                self.assertEqual([b["date"] for b in by_code[code]], [date])

    @against_text
    def test_each_basis_is_in_the_text(self):
        for b in plan["legal_bases"]:
            with self.subTest(basis=b.get("code") or b.get("title")[:40]):
                if b.get("title"):
                    self.assertIn(flat(b["title"]), text)
                if b.get("code") and b.get("date"):
                    # "số <code> ngày <d/m/yyyy>" (the text once writes
                    # "114 -KL/TW").
                    rx = r"\s?".join(re.escape(c) for c in b["code"])
                    found = {m.group(1) for m in re.finditer(
                        rx + r" ngày (\d{1,2}/\d{1,2}/\d{4})", text)}
                    self.assertTrue(found & dmy(b["date"]),
                                    (b["code"], b["date"], found))

    def test_recipients(self):
        names = [r["name"] for r in plan["recipients"]]
        self.assertEqual(len(names), 9)
        so = [r for r in plan["recipients"] if r["name"] == "Sở Nội vụ"]
        self.assertEqual(len(so), 1)
        self.assertEqual((so[0]["unit_id"], so[0]["note"]),
                         (U["so-noi-vu"], "báo cáo"))
        self.assertIn("Thường trực Đảng ủy", names)
        self.assertIn("Các thôn trên địa bàn xã", names)

    @against_text
    def test_purposes_requirements_funding_are_the_texts(self):
        for field, items in (("purposes", 2), ("requirements", 3),
                             ("funding", 1)):
            with self.subTest(field=field):
                lines = [x for x in plan[field].split("\n") if x.strip()]
                self.assertEqual(len(lines), items)
                for line in lines:
                    self.assertIn(flat(line), text)

    @against_text
    def test_plan_facts_are_in_the_text(self):
        self.assertTrue(text.endswith(plan["signer_name"]), text[-80:])
        self.assertIn("UBND xã Bình Chương ban hành " + flat(plan["title"]),
                      text)
        self.assertIn("Kế hoạch số %s ngày 19/01/2026 của UBND tỉnh Quảng "
                      "Ngãi" % parent["code"], text)
        tail = text[text.index("Nơi nhận:"):]
        for r in plan["recipients"]:
            with self.subTest(recipient=r["name"]):
                self.assertIn("- %s" % r["name"], tail)

    def test_every_role_sees_the_same_plan(self):
        for role in harness.ROLES:
            with self.subTest(role=role):
                self.assertEqual(get("/api/v1/plans/" + COMMUNE_PLAN, role),
                                 plan)


class Tasks(unittest.TestCase):

    def test_eleven_tasks(self):
        self.assertEqual(sorted(tasks), list(range(1, 12)))
        self.assertTrue(all(t["plan_id"] == COMMUNE_PLAN
                            for t in tasks.values()))

    def test_titles_open_the_contents(self):
        for n, t in sorted(tasks.items()):
            with self.subTest(task=n):
                self.assertGreater(len(t["title"]), 20)
                self.assertLessEqual(len(t["title"]), 300)
                self.assertTrue(flat(t["content"]).startswith(
                    flat(t["title"])))

    @against_text
    def test_titles_are_verbatim(self):
        for n, t in sorted(tasks.items()):
            with self.subTest(task=n):
                self.assertIn("%d. %s" % (n, flat(t["title"])), text)

    def test_schedules(self):
        for n, t in sorted(tasks.items()):
            with self.subTest(task=n):
                self.assertEqual((t["schedule"], t["due_on"]), SCHEDULES[n])

    @against_text
    def test_schedules_match_the_text(self):
        for n, t in sorted(tasks.items()):
            with self.subTest(task=n):
                _, when = section(n)
                if t["schedule"] == "ongoing":
                    self.assertEqual(when, "Thường xuyên")
                elif t["schedule"] == "within_year":
                    self.assertEqual(when, "Trong năm 2026")
                else:
                    m = re.search(r"trước ngày (\d{1,2}/\d{1,2}/\d{4})", when)
                    self.assertIsNotNone(m, when)
                    self.assertIn(m.group(1), dmy(t["due_on"]))

    def test_leads(self):
        for n in range(1, 12):
            with self.subTest(task=n):
                self.assertEqual(units(n, "lead"), sorted(LEADS[n]))
        notes = {a["unit_id"]: a["scope_note"] for a in assignments[2]
                 if a["role"] == "lead"}
        self.assertIn("Cải cách hành chính", notes[U["phong-vh-xh"]])
        self.assertIn("năng lực cạnh tranh", notes[U["phong-kinh-te"]])
        # The single leads carry no note.
        for n in (3, 4, 5, 7, 9, 10):
            self.assertEqual([a["scope_note"] for a in assignments[n]
                              if a["role"] == "lead"], [None])

    @against_text
    def test_lead_scope_notes_are_in_the_text(self):
        for a in assignments[2]:
            if a["role"] == "lead":
                self.assertIn(flat(a["scope_note"]), text)

    @against_text
    def test_leads_match_the_text(self):
        names = {uid: get("/api/v1/units/" + uid)["name"]
                 for uid in (U["phong-vh-xh"], U["phong-kinh-te"],
                             U["vp-hdnd-ubnd"])}
        for n in range(1, 12):
            with self.subTest(task=n):
                body, _ = section(n)
                has = "Cơ quan chủ trì:" in body
                self.assertEqual(has, bool(LEADS[n]))
                if has:
                    lead_text = body[body.index("Cơ quan chủ trì:"):]
                    lead_text = lead_text[:lead_text.index(" - Cơ quan")]
                    for uid in LEADS[n]:
                        # The text writes both "–" and "-" in the name.
                        self.assertIn(names[uid].replace("–", "-"),
                                      lead_text.replace("–", "-"))

    def test_coordinate_and_implement(self):
        both = sorted(AGENCIES + VILLAGES)
        for n in (1, 6, 11):
            with self.subTest(task=n):
                self.assertEqual(units(n, "implement"), both)
                self.assertEqual(len(units(n, "implement")), 9)
                self.assertEqual(units(n, "coordinate"), [])
        with self.subTest(task=8):
            self.assertEqual(units(8, "implement"), AGENCIES)
            self.assertEqual(units(8, "coordinate"), [])
        with self.subTest(task=9):
            self.assertEqual(units(9, "coordinate"), AGENCIES)
            self.assertEqual(units(9, "implement"), [])
        for n in (2, 3, 4, 5, 7, 10):
            with self.subTest(task=n):
                self.assertEqual(units(n, "coordinate"), both)
                self.assertEqual(units(n, "implement"), [])

    @against_text
    def test_villages_exactly_where_the_text_names_them(self):
        for n in range(1, 12):
            with self.subTest(task=n):
                body, _ = section(n)
                line = re.search(r"- Cơ quan (?:phối hợp, thực hiện|phối hợp|"
                                 r"thực hiện): ([^-]*)", body)
                self.assertIsNotNone(line, body[-300:])
                named = "các thôn" in line.group(1)
                got = {a["unit_id"] for a in assignments[n]
                       if a["role"] != "lead"}
                self.assertTrue(set(AGENCIES) <= got)
                self.assertEqual(bool(got & set(VILLAGES)), named)

    def test_assignments_are_the_seed_document_expanded(self):
        with open(SEED_DOC, encoding="utf-8") as f:
            doc = json.load(f)
        groups = {"agencies": AGENCIES, "villages": VILLAGES,
                  "agencies_and_villages": AGENCIES + VILLAGES}
        want = []
        for t in doc["tasks"]:
            for a in t["assignments"]:
                for uid in ([a["unit_id"]] if "unit_id" in a
                            else groups[a["group"]]):
                    want.append((t["number"], a["role"], uid,
                                 a.get("scope_note")))
        got = [(n, a["role"], a["unit_id"], a["scope_note"])
               for n in tasks for a in assignments[n]]
        self.assertEqual(sorted(got, key=str), sorted(want, key=str))
        self.assertEqual(len(got), 99)
        rows = db().psql(
            "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = "
            "a.task_id WHERE t.plan_id = '%s'" % COMMUNE_PLAN)
        self.assertEqual(rows, [("99",)])
        for n, items in assignments.items():
            for a in items:
                self.assertEqual((a["task_number"], a["task_title"],
                                  a["plan_id"], a["status"]),
                                 (n, tasks[n]["title"], COMMUNE_PLAN,
                                  "not_started"))


class Milestones(unittest.TestCase):

    def test_three_milestones(self):
        self.assertEqual([(m["kind"], m["due_on"]) for m in milestones],
                         [("unit_plan", "2026-01-30"),
                          ("six_month_report", "2026-05-15"),
                          ("annual_report", "2026-10-30")])
        for m in milestones:
            with self.subTest(kind=m["kind"]):
                self.assertEqual(m["receiving_unit_id"], U["phong-vh-xh"])
                self.assertEqual(sorted(m["owing_unit_ids"]), AGENCIES)
                self.assertEqual(m["plan_id"], COMMUNE_PLAN)

    @against_text
    def test_an_officer_owes_the_reports(self):
        """The demo's reporting officer (`cungung`, Trung tâm Cung ứng dịch
        vụ công) owes all three milestones and has sent none, so the
        six-month and annual report story can be walked from the seed."""
        me = get("/api/v1/me", role="cungung")
        self.assertEqual((me["role"], me["unit_id"]),
                         ("officer", U["tt-cung-ung-dvc"]))
        owed = get("/api/v1/plans/%s/obligations?unit_id=%s"
                   % (COMMUNE_PLAN, U["tt-cung-ung-dvc"]), role="cungung")
        self.assertEqual(sorted(o["milestone_kind"] for o in owed["items"]),
                         ["annual_report", "six_month_report", "unit_plan"])
        self.assertEqual({o["submission_id"] for o in owed["items"]}, {None})
        # The village officer stays the first officer of the seed.
        self.assertEqual(harness.demo_account("officer")["username"], "thon1")

    def test_dates_are_in_section_iv(self):
        part = text[text.index("IV. TỔ CHỨC THỰC HIỆN"):]
        for m in milestones:
            with self.subTest(kind=m["kind"]):
                self.assertTrue(any("trước ngày " + d in part
                                    for d in dmy(m["due_on"])), m["due_on"])
        # Submissions go to the receiving unit by each date (a footnote
        # splits the first sentence in the text).
        name = get("/api/v1/units/" + U["phong-vh-xh"])["name"]
        self.assertIn(name + " trước ngày 30/01/2026", part)
        self.assertIn("(trước ngày 30/10/2026) về " + name, part)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
