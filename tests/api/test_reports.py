"""The province's reports over HTTP (/api/v1/reports/...): the demo commune
and a synthetic province of three sample communes (danvan seed --synthetic),
each report's rows and totals checked against counts this module computes
itself from the rows in the database (and, for the demo plan, against the
obligations listing), the provincial plan counting the commune plans that
cite it, every group present with zeros, scope, and each class of bad
input."""

import csv
import datetime
import io
import json
import os
import subprocess
import tempfile
import unittest
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import harness
from harness import COMMUNE_PLAN, PROVINCE_PLAN, U, call, db, ok, tag

VN = ZoneInfo("Asia/Ho_Chi_Minh")
GROUP = ["unit_id", "code", "name", "kind", "path"]
REPORTS = ("obligations", "assignments", "models", "inspections", "scores")
SYNTHETIC = 3


class F:
    units = {}     # id -> (parent_id, kind, code, name)
    seed_feed = {}  # type -> (entities without a change row, wrong paths)
    empty = None   # a village made here, with no data at all
    today = None


def danvan(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANVAN_")}
    env["DANVAN_OWNER_DATABASE_URL"] = db().owner_url
    return subprocess.run([os.environ["DANVAN_BIN"], *args], text=True,
                          capture_output=True, timeout=240, env=env)


# Every entity table of the change feed, as the feed names its type.
FEED_TABLES = (("unit", "units"), ("plan", "plans"),
               ("milestone", "milestones"), ("task", "tasks"),
               ("assignment", "assignments"),
               ("obligation", "milestone_units"),
               ("submission", "submissions"), ("model", "models"),
               ("inspection_plan", "inspection_plans"),
               ("inspection", "inspections"),
               ("recommendation", "recommendations"),
               ("rubric", "rubrics"), ("score_sheet", "score_sheets"))


def seed_feed_faults(after_seq):
    """The seed writes its change rows itself, without the feed's triggers:
    per type, the entities with no change row at all, and the rows the seed
    wrote (seq above after_seq) whose paths are not those change_paths()
    gives the entity as it is."""
    entities = " UNION ALL ".join(
        "SELECT '%s' AS t, x.id, to_jsonb(x) AS r FROM %s x" % tt
        for tt in FEED_TABLES)
    return {t: (int(missing), int(wrong)) for t, missing, wrong in db().psql(
        "WITH e AS (%s) SELECT e.t,"
        " count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM changes c"
        "  WHERE c.entity_id = e.id AND c.entity_type = e.t)),"
        " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM changes c"
        "  WHERE c.entity_id = e.id AND c.entity_type = e.t"
        "  AND c.seq > %d AND NOT (c.paths @> change_paths(e.t, e.r)"
        "  AND change_paths(e.t, e.r) @> c.paths)))"
        " FROM e GROUP BY e.t" % (entities, after_seq))}


def build():
    after_seq = int(db().psql(
        "SELECT coalesce(max(seq), 0) FROM changes")[0][0])
    with tempfile.TemporaryDirectory() as d:
        p = danvan("seed", "--synthetic", str(SYNTHETIC), d + "/c.json")
    if p.returncode != 0:
        raise AssertionError("seed --synthetic failed: %s" % p.stderr)
    F.seed_feed = seed_feed_faults(after_seq)
    F.empty = ok(call("admin", "POST", "/api/v1/units", body={
        "parent_id": U["commune"], "kind": "village",
        "code": "thon-rong-" + tag(), "name": "Thôn không số liệu"}),
        201).json()["id"]
    load_units()
    F.today = datetime.datetime.now(VN).date()


def load_units():
    for uid, parent, kind, code, name in db().psql(
            "SELECT id, coalesce(parent_id::text, ''), kind, code, name"
            " FROM units"):
        F.units[uid] = (parent or None, kind, code, name)


setUpModule, tearDownModule = harness.fixtures(build)


def chain(uid):
    """uid and the units above it, the top last."""
    out = []
    while uid is not None:
        out.append(uid)
        uid = F.units[uid][0]
    return out


def group_of(uid, root, group_by):
    """The key of the row uid counts in, or None outside root's subtree."""
    up = chain(uid)
    if root not in up:
        return None
    below = up[:up.index(root)]          # uid .. the root's child
    if group_by == "kind":
        return F.units[uid][1]
    if group_by == "unit":
        return below[-1] if below else root
    communes = [u for u in below if F.units[u][1] == "commune"]
    return communes[0] if communes else root


def code_path(uid):
    return "/".join(F.units[u][2] for u in reversed(chain(uid)))


def rate(n, d):
    if d == 0:
        return None
    return float((Decimal(n) / Decimal(d)).quantize(Decimal("0.0001"),
                                                   ROUND_HALF_UP))


def report(name, who="service", **q):
    query = "&".join("%s=%s" % kv for kv in q.items())
    return ok(call(who, "GET", "/api/v1/reports/%s%s" % (
        name, "?" + query if query else ""))).json()


def by_key(doc):
    return {r["unit_id"] or r["code"]: r for r in doc["rows"]}


def date(s):
    return datetime.date.fromisoformat(s) if s else None


def plan_rows():
    """plan id -> (status, year, parent)."""
    return {pid: (status, int(year), parent or None)
            for pid, status, year, parent in db().psql(
                "SELECT id, status, year, coalesce(parent_plan_id::text, '')"
                " FROM plans")}


def plan_ok(plans, pid, year=None, plan_id=None):
    status, y, parent = plans[pid]
    return (status != "draft" and (year is None or y == year) and
            (plan_id is None or plan_id in (pid, parent)))


def obligation_facts(year=None, plan_id=None, kind=None):
    """(unit, state) of every expected submission, judged here."""
    plans = plan_rows()
    out = []
    for unit, pid, mkind, due, first in db().psql(
            "SELECT mu.unit_id, m.plan_id, m.kind,"
            " coalesce(e.due_on, m.due_on),"
            " coalesce(((SELECT s.submitted_at FROM submissions s"
            "  WHERE s.milestone_id = m.id AND s.unit_id = mu.unit_id"
            "  AND s.status <> 'draft') AT TIME ZONE 'Asia/Ho_Chi_Minh')"
            "  ::date::text, '')"
            " FROM milestone_units mu JOIN milestones m"
            " ON m.id = mu.milestone_id LEFT JOIN extensions e"
            " ON e.milestone_id = m.id AND e.unit_id = mu.unit_id"):
        if not plan_ok(plans, pid, year, plan_id) or \
                (kind is not None and mkind != kind):
            continue
        due, first = date(due), date(first)
        if first is not None:
            state = "on_time" if first <= due else "late"
        else:
            state = "missing" if due < F.today else "pending"
        out.append((unit, state))
    return out


def obligation_counts(states):
    c = Counter(states)
    expected = sum(c.values())
    received = c["on_time"] + c["late"]
    return {"expected": expected, "received": received,
            "on_time": c["on_time"], "late": c["late"],
            "missing": c["missing"], "pending": c["pending"],
            "reporting_rate": rate(received, expected),
            "reporting_rate_on_time": rate(c["on_time"], expected)}


def assignment_facts():
    plans = plan_rows()
    out = []
    for unit, pid, status, due in db().psql(
            "SELECT a.unit_id, t.plan_id, a.status, coalesce(coalesce("
            " a.due_on, t.due_on, CASE WHEN t.schedule = 'within_year'"
            " THEN make_date(p.year, 12, 31) END)::text, '')"
            " FROM assignments a JOIN tasks t ON t.id = a.task_id"
            " JOIN plans p ON p.id = t.plan_id"):
        if plan_ok(plans, pid):
            due = date(due)
            out.append((unit, (status, status != "done" and due is not None
                               and due < F.today)))
    return out


def assignment_counts(facts):
    c = Counter(s for s, _ in facts)
    n = len(facts)
    return {"assigned": n, "not_started": c["not_started"],
            "in_progress": c["in_progress"], "done": c["done"],
            "overdue": sum(1 for _, o in facts if o),
            "completion_rate": rate(c["done"], n)}


def model_facts():
    return [(u, (s, f)) for u, s, f in db().psql(
        "SELECT unit_id, status, field FROM models")]


def model_counts(facts, fields):
    c = Counter(s for s, _ in facts)
    out = {"models": len(facts)}
    for s in ("registered", "implementing", "recognised", "replicated"):
        out[s] = c[s]
    fc = Counter(f for _, f in facts)
    for f in fields:
        out["field_" + f] = fc[f]
    return out


def inspection_facts():
    plans = plan_rows()
    out = []
    for unit, pid, status in db().psql(
            "SELECT i.target_unit_id, ip.plan_id, i.status FROM inspections i"
            " JOIN inspection_plans ip ON ip.id = i.inspection_plan_id"):
        if plan_ok(plans, pid):
            out.append((unit, ("visit", status, False)))
    for unit, pid, status, due in db().psql(
            "SELECT r.responsible_unit_id, ip.plan_id, r.status, r.due_on"
            " FROM recommendations r JOIN inspections i"
            " ON i.id = r.inspection_id JOIN inspection_plans ip"
            " ON ip.id = i.inspection_plan_id"):
        if plan_ok(plans, pid):
            out.append((unit, ("rec", status, status != "resolved" and
                               date(due) < F.today)))
    return out


def inspection_counts(facts):
    v = Counter(s for w, s, _ in facts if w == "visit")
    r = Counter(s for w, s, _ in facts if w == "rec")
    out = {"visits": sum(v.values()),
           "recommendations": sum(r.values()),
           "recommendations_overdue": sum(1 for w, _, o in facts if o)}
    for s in ("planned", "in_progress", "completed", "cancelled"):
        out["visits_" + s] = v[s]
    for s in ("open", "responded", "resolved"):
        out["recommendations_" + s] = r[s]
    return out


def rolled_up(facts, root, group_by):
    """key -> the facts of that row."""
    out = defaultdict(list)
    for unit, fact in facts:
        key = group_of(unit, root, group_by)
        if key is not None:
            out[key].append(fact)
    return out


class ReportShape(unittest.TestCase):
    def test_every_report_answers_the_documented_shape(self):
        for name in REPORTS:
            with self.subTest(report=name):
                doc = report(name)
                self.assertEqual(doc["root"]["unit_id"], U["province"])
                self.assertEqual(doc["root"]["path"], "quang-ngai")
                self.assertEqual(doc["group_by"], "commune")
                self.assertEqual(doc["columns"][:5], GROUP)
                for row in doc["rows"]:
                    self.assertEqual(sorted(row), sorted(doc["columns"]))
                self.assertEqual(sorted(doc["totals"]),
                                 sorted(doc["columns"][5:]))
                datetime.datetime.fromisoformat(doc["as_of"])

    def test_commune_rows_are_the_root_and_every_commune(self):
        doc = report("obligations")
        communes = sorted(u for u, v in F.units.items()
                          if v[1] == "commune")
        self.assertEqual(len(communes), SYNTHETIC + 1)
        self.assertEqual(doc["rows"][0]["unit_id"], U["province"])
        self.assertEqual(sorted(r["unit_id"] for r in doc["rows"][1:]),
                         communes)
        for r in doc["rows"]:
            self.assertEqual(r["path"], code_path(r["unit_id"]))
            self.assertEqual(r["code"], F.units[r["unit_id"]][2])

    def test_model_columns_are_one_per_field(self):
        fields = enum("model_field")
        doc = report("models")
        self.assertEqual(doc["columns"][10:], ["field_" + f for f in fields])


def enum(name):
    out = subprocess.run([os.environ["DANVAN_BIN"], "enums"], text=True,
                         capture_output=True, timeout=30).stdout
    for line in out.splitlines():
        parts = line.split("\t")
        if parts[0] == name:
            return parts[1].split(",") if len(parts) == 2 else parts[1:]
    raise AssertionError("no list %s in danvan enums" % name)


class Counting:
    """Every row and the totals of a report, recomputed here from the
    database."""

    def check(self, name, facts, counts, root=U["province"], **q):
        load_units()
        for group_by in ("commune", "unit", "kind"):
            with self.subTest(report=name, group_by=group_by, **q):
                doc = report(name, unit_id=root, group_by=group_by, **q)
                want = rolled_up(facts, root, group_by)
                rows = by_key(doc)
                self.assertEqual(set(want) - set(rows), set(),
                                 "groups with data but no row")
                for key, row in rows.items():
                    got = {k: row[k] for k in doc["columns"][5:]}
                    self.assertEqual(got, counts(want.get(key, [])), key)
                self.assertEqual(doc["totals"], counts(
                    [f for fs in want.values() for f in fs]))
        return doc


class Numbers(Counting, unittest.TestCase):
    """Every row and the totals, recomputed here from the database."""

    def test_obligations(self):
        facts = obligation_facts()
        doc = self.check("obligations", facts, lambda s: obligation_counts(s))
        t = doc["totals"]
        # The synthetic spread has every state in it.
        for k in ("on_time", "late", "missing", "pending"):
            self.assertGreater(t[k], 0, k)

    def test_obligations_filtered(self):
        self.check("obligations", obligation_facts(kind="six_month_report"),
                   obligation_counts, milestone_kind="six_month_report")
        self.check("obligations", obligation_facts(year=2025),
                   obligation_counts, year=2025)

    def test_provincial_plan_counts_the_commune_plans_citing_it(self):
        facts = obligation_facts(plan_id=PROVINCE_PLAN)
        # 14/KH-UBND has no milestones of its own: all of it comes from
        # the commune plans under it, the demo one and the synthetic ones.
        per_plan = [len(obligation_facts(plan_id=p)) for p, in db().psql(
            "SELECT id FROM plans WHERE parent_plan_id = '%s'"
            " AND status <> 'draft'" % PROVINCE_PLAN)]
        self.assertEqual(len(per_plan), SYNTHETIC + 1)
        self.assertEqual(len(facts), sum(per_plan))
        doc = self.check("obligations", facts, obligation_counts,
                         plan_id=PROVINCE_PLAN)
        self.assertGreater(doc["totals"]["expected"], 0)
        self.assertEqual(doc["filters"]["plan_id"], PROVINCE_PLAN)

    def test_demo_commune_agrees_with_the_obligations_listing(self):
        summary = ok(call("service", "GET", "/api/v1/plans/%s/obligations"
                          % COMMUNE_PLAN)).json()["summary"]
        doc = report("obligations", plan_id=COMMUNE_PLAN)
        row = by_key(doc)[U["commune"]]
        for k, v in summary.items():
            self.assertEqual(row[k], v, k)
        self.assertEqual(doc["totals"]["expected"], summary["expected"])

    def test_assignments(self):
        self.check("assignments", assignment_facts(), assignment_counts)

    def test_models(self):
        fields = enum("model_field")
        self.check("models", model_facts(),
                   lambda f: model_counts(f, fields))

    def test_inspections(self):
        self.check("inspections", inspection_facts(), inspection_counts)

    def test_commune_root_counts_its_units(self):
        self.check("obligations", obligation_facts(), obligation_counts,
                   root=U["commune"])
        self.check("assignments", assignment_facts(), assignment_counts,
                   root=U["commune"])

    def test_scores_agree_with_the_rankings(self):
        """Per unit: the band of its sheet in each rubric's ranking."""
        facts = score_facts()
        self.assertGreater(len(facts), 3 * 20)
        self.check("scores", facts, score_counts)


def score_facts():
    """(unit, (status, eligible, final total, band)) of every sheet in the
    rankings, the band its place among the rubric's bands."""
    facts = []
    for rubric, doc in db().psql("SELECT id, doc::text FROM rubrics"):
        bands = sorted((b["min_total"], b["name"]) for b in
                       json.loads(doc)["bands"])[::-1]
        place = {name: i + 1 for i, (_, name) in enumerate(bands)}
        for item in ok(call("service", "GET", "/api/v1/rubrics/%s/"
                            "ranking" % rubric)).json()["items"]:
            facts.append((item["unit_id"], (
                item["status"], item["eligible"],
                Decimal(str(item["adjusted_total"])),
                min(5, place[item["band"]]) if item["band"] else None)))
    return facts


def score_counts(fs):
    el = [t for _, e, t, _ in fs if e]
    mean = (float((sum(el) / len(el)).quantize(
        Decimal("0.01"), ROUND_HALF_UP)) if el else None)
    out = {"sheets": len(fs),
           "finalized": sum(1 for s, *_ in fs if s == "finalized"),
           "not_eligible": sum(1 for _, e, *_ in fs if not e),
           "mean_final_score": mean}
    for i in range(1, 6):
        out["band_%d" % i] = sum(1 for *_, b in fs if b == i)
    return out


class SeedFeed(unittest.TestCase):
    def test_every_seeded_entity_is_in_the_feed_with_its_paths(self):
        self.assertEqual(sorted(F.seed_feed),
                         sorted(t for t, _ in FEED_TABLES))
        self.assertEqual({t: v for t, v in F.seed_feed.items()
                          if v != (0, 0)}, {})


class Drafts(unittest.TestCase):
    def test_a_draft_plan_counts_once_issued(self):
        unit = ok(call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "office",
            "code": "phong-moi-" + tag(), "name": "Phòng mới"}), 201).json()
        plan = ok(call("leader", "POST", "/api/v1/plans", body={
            "title": "Kế hoạch nháp " + tag(), "year": 2026,
            "issuing_unit_id": U["commune"]}), 201).json()
        ok(call("leader", "POST", "/api/v1/plans/%s/milestones" % plan["id"],
                body={"kind": "custom", "title": "Mốc " + tag(),
                      "due_on": (F.today + datetime.timedelta(30)).isoformat(),
                      "receiving_unit_id": U["phong-vh-xh"],
                      "owing": {"unit_ids": [unit["id"]]}}), 201)
        path = "/api/v1/reports/obligations?unit_id=" + unit["id"]
        self.assertEqual(ok(call("admin", "GET", path)).json()["totals"]
                         ["expected"], 0)
        v = ok(call("leader", "GET", "/api/v1/plans/" + plan["id"])).json()
        ok(call("leader", "POST", "/api/v1/plans/%s/issue" % plan["id"],
                headers={"If-Match": '"%d"' % v["version"]}))
        t = ok(call("admin", "GET", path)).json()["totals"]
        self.assertEqual((t["expected"], t["pending"], t["reporting_rate"]),
                         (1, 1, 0))


class EmptyGroups(unittest.TestCase):
    def test_a_unit_without_data_has_a_row_of_zeros(self):
        for name in REPORTS:
            with self.subTest(report=name):
                doc = report(name, unit_id=U["commune"], group_by="unit")
                row = by_key(doc)[F.empty]
                self.assertEqual(row["name"], "Thôn không số liệu")
                for c in doc["columns"][5:]:
                    self.assertIn(row[c], (0, None), c)

    def test_every_kind_has_a_row(self):
        doc = report("models", group_by="kind")
        self.assertEqual([r["code"] for r in doc["rows"]], enum("unit_kind"))
        province = doc["rows"][0]
        self.assertEqual((province["unit_id"], province["path"],
                          province["models"]), (None, None, 0))

    def test_a_unit_below_every_commune_is_its_own_row(self):
        doc = report("obligations", unit_id=U["thon-1"])
        self.assertEqual([r["unit_id"] for r in doc["rows"]], [U["thon-1"]])
        self.assertEqual(doc["rows"][0]["expected"],
                         doc["totals"]["expected"])

    def test_rate_is_null_when_nothing_is_expected(self):
        doc = report("obligations", unit_id=F.empty)
        self.assertIsNone(doc["totals"]["reporting_rate"])
        self.assertEqual(doc["totals"]["expected"], 0)


class Scope(unittest.TestCase):
    def test_default_root_is_the_callers_unit(self):
        doc = report("obligations", who="viewer")
        self.assertEqual(doc["root"]["unit_id"], U["commune"])

    def test_root_outside_the_callers_subtree_is_404(self):
        synthetic = next(u for u, v in F.units.items()
                         if v[2].startswith("syn-"))
        for who, root in (("viewer", U["province"]), ("viewer", synthetic),
                          ("officer", U["commune"]),
                          ("service", "00000000-0000-4000-8000-000000000000")):
            for name in REPORTS:
                with self.subTest(who=who, root=root, report=name):
                    r = call(who, "GET", "/api/v1/reports/%s?unit_id=%s"
                             % (name, root))
                    self.assertEqual(r.status, 404, r.describe())

    def test_every_role_reads_its_own_subtree(self):
        for who in harness.USER_ROLES:
            with self.subTest(who=who):
                unit = harness.demo_account(who)["unit_id"]
                doc = report("scores", who=who, unit_id=unit)
                self.assertEqual(doc["root"]["unit_id"], unit)

    def test_no_credentials_is_401(self):
        r = call(None, "GET", "/api/v1/reports/obligations")
        self.assertEqual(r.status, 401, r.describe())

    def test_plan_the_caller_does_not_see_is_404(self):
        r = call("service", "GET", "/api/v1/reports/obligations?plan_id="
                 "00000000-0000-4000-8000-000000000000")
        self.assertEqual(r.status, 404, r.describe())


class Caching(unittest.TestCase):
    def test_same_counts_same_etag_and_304(self):
        path = "/api/v1/reports/obligations?group_by=unit"
        first = ok(call("service", "GET", path))
        tag_ = first.headers["ETag"]
        self.assertRegex(tag_, r'^"[0-9a-f]{16}-json"$')
        again = call("service", "GET", path, headers={"If-None-Match": tag_})
        self.assertEqual(again.status, 304, again.describe())
        # Another query, another entity.
        other = ok(call("service", "GET", path + "&year=2026"))
        self.assertNotEqual(other.headers["ETag"], tag_)

    def test_a_change_in_the_data_changes_the_etag(self):
        unit = ok(call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "village",
            "code": "thon-moi-" + tag(), "name": "Thôn mới"}), 201).json()["id"]
        path = "/api/v1/reports/models?unit_id=%s&group_by=unit" % unit
        before = ok(call("admin", "GET", path))
        ok(call("admin", "POST", "/api/v1/models", body={
            "unit_id": unit, "name": "Mô hình " + tag(),
            "field": "environment"}), 201)
        r = call("admin", "GET", path,
                 headers={"If-None-Match": before.headers["ETag"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["totals"]["models"], 1)
        self.assertEqual(r.json()["totals"]["field_environment"], 1)


class Exports(unittest.TestCase):
    def test_csv_is_the_rows_in_column_order(self):
        doc = report("obligations")
        r = ok(call("service", "GET", "/api/v1/reports/obligations?format=csv"))
        text = r.decoded().decode("utf-8")
        self.assertTrue(text.startswith("\ufeff"))
        lines = text[1:].split("\r\n")
        self.assertEqual(lines[0], ",".join(doc["columns"]))
        self.assertEqual(lines[-1], "")
        body = list(csv.reader(lines[1:-1]))
        self.assertEqual(len(body), len(doc["rows"]))
        for line, row in zip(body, doc["rows"]):
            self.assertEqual(line[2], row["name"])
            self.assertEqual(int(line[5]), row["expected"])
        self.assertIn("obligations.csv", r.headers["Content-Disposition"])

    def test_every_report_as_csv_is_its_json(self):
        def cell(v):
            if v is None:
                return ""
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, float):
                return "%.15g" % v
            if isinstance(v, str):
                return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") \
                    else v
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"))

        for name in REPORTS:
            with self.subTest(name=name):
                q = "unit_id=%s&group_by=unit" % U["commune"]
                doc = report(name, unit_id=U["commune"], group_by="unit")
                r = ok(call("service", "GET",
                            "/api/v1/reports/%s?%s&format=csv" % (name, q)))
                self.assertTrue(r.content_type.startswith("text/csv"))
                rows = list(csv.reader(io.StringIO(r.text()[1:], newline="")))
                self.assertEqual(rows[0], doc["columns"])
                self.assertEqual(rows[1:], [[cell(row.get(c)) for c in
                                             doc["columns"]]
                                            for row in doc["rows"]])
                self.assertGreater(len(rows), 2)

    def test_xlsx_reads_back_with_its_diacritics(self):
        import openpyxl
        doc = report("scores", unit_id=U["commune"], group_by="unit")
        r = ok(call("service", "GET", "/api/v1/reports/scores?unit_id=%s"
                    "&group_by=unit&format=xlsx" % U["commune"]))
        sheet = openpyxl.load_workbook(io.BytesIO(r.decoded())).active
        cells = list(sheet.iter_rows(values_only=True))
        self.assertEqual(list(cells[0]), doc["columns"])
        self.assertEqual([c[2] for c in cells[1:]],
                         [row["name"] for row in doc["rows"]])
        self.assertIn("Ủy ban Mặt trận Tổ quốc Việt Nam xã",
                      [c[2] for c in cells[1:]])

    def test_accept_text_csv(self):
        r = ok(call("service", "GET", "/api/v1/reports/models",
                    headers={"Accept": "text/csv"}))
        self.assertTrue(r.content_type.startswith("text/csv"))


class BadInput(unittest.TestCase):
    def bad(self, name, query, field):
        r = call("service", "GET", "/api/v1/reports/%s?%s" % (name, query))
        self.assertEqual(r.status, 400, r.describe())
        p = r.json()
        self.assertEqual(p["type"], "urn:danvan:problem:invalid_query")
        self.assertIn(field, [e["field"] for e in p.get("errors", [])],
                      r.describe())

    def test_each_class(self):
        for name, query, field in (
                ("obligations", "group_by=town", "group_by"),
                ("obligations", "format=xml", "format"),
                ("obligations", "from=2026-13-01", "from"),
                ("obligations", "to=yesterday", "to"),
                ("obligations", "from=2026-06-01&to=2026-05-01", "to"),
                ("obligations", "year=abc", "year"),
                ("obligations", "year=1800", "year"),
                ("obligations", "unit_id=not-a-uuid", "unit_id"),
                ("obligations", "plan_id=1", "plan_id"),
                ("obligations", "milestone_kind=weekly", "milestone_kind"),
                ("obligations", "field=environment", "field"),
                ("assignments", "milestone_kind=unit_plan",
                 "milestone_kind"),
                ("models", "plan_id=%s" % PROVINCE_PLAN, "plan_id"),
                ("models", "field=space", "field"),
                ("scores", "from=2026-01-01", "from")):
            with self.subTest(report=name, query=query):
                self.bad(name, query, field)

    def test_a_range_of_one_day_is_fine(self):
        doc = report("obligations", **{"from": "2026-05-15",
                                       "to": "2026-05-15"})
        self.assertEqual(doc["filters"]["from"], "2026-05-15")
        facts = [s for s in obligation_facts(kind="six_month_report")]
        self.assertEqual(doc["totals"]["expected"], len(facts))



class CommuneOfAUnit(unittest.TestCase):
    """Each unit's stored commune (units.commune_path) follows a change of
    kind and a move, its subtree with it, and the very next report counts
    the unit in its new commune."""

    def patch(self, uid, changes):
        r = ok(call("admin", "GET", "/api/v1/units/" + uid))
        return ok(call("admin", "PATCH", "/api/v1/units/" + uid, body=changes,
                       headers={"If-Match": r.headers["ETag"]}))

    def expected(self):
        doc = report("obligations", group_by="commune")
        return {k: r["expected"] for k, r in by_key(doc).items()}

    def assert_stored_communes(self):
        load_units()
        for uid, path in db().psql(
                "SELECT id, coalesce(ltree2text(subpath(commune_path, -1)),"
                " '') FROM units"):
            communes = [u for u in chain(uid) if F.units[u][1] == "commune"]
            want = communes[0].replace("-", "") if communes else ""
            self.assertEqual(path, want, F.units[uid][2])

    def test_kind_change_and_move_regroup_the_subtree(self):
        office = ok(call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "office",
            "code": "phong-chuyen-" + tag(), "name": "Phòng chuyển"}),
            201).json()["id"]
        village = ok(call("admin", "POST", "/api/v1/units", body={
            "parent_id": office, "kind": "village",
            "code": "thon-chuyen-" + tag(), "name": "Thôn chuyển"}),
            201).json()["id"]
        plan = ok(call("leader", "POST", "/api/v1/plans", body={
            "title": "Kế hoạch chuyển " + tag(), "year": 2026,
            "issuing_unit_id": U["commune"]}), 201).json()
        ok(call("leader", "POST", "/api/v1/plans/%s/milestones" % plan["id"],
                body={"kind": "custom", "title": "Mốc " + tag(),
                      "due_on": (F.today + datetime.timedelta(30)).isoformat(),
                      "receiving_unit_id": U["phong-vh-xh"],
                      "owing": {"unit_ids": [village]}}), 201)
        v = ok(call("leader", "GET", "/api/v1/plans/" + plan["id"])).json()
        ok(call("leader", "POST", "/api/v1/plans/%s/issue" % plan["id"],
                headers={"If-Match": '"%d"' % v["version"]}))
        before = self.expected()
        self.assertNotIn(office, before)
        self.assert_stored_communes()

        # The office becomes a commune: the village below it moves along.
        self.patch(office, {"kind": "commune"})
        now = self.expected()
        self.assertEqual(now[office], 1)
        self.assertEqual(now[U["commune"]], before[U["commune"]] - 1)
        self.assert_stored_communes()

        # The village moves out of it, straight under the demo commune.
        self.patch(village, {"parent_id": U["commune"]})
        now = self.expected()
        self.assertEqual(now[office], 0)
        self.assertEqual(now[U["commune"]], before[U["commune"]])
        self.assert_stored_communes()

        # Back under the office, then the office (a commune still) moves
        # under a village: its subtree is re-pointed with it.
        self.patch(village, {"parent_id": office})
        self.patch(office, {"parent_id": U["thon-1"]})
        now = self.expected()
        self.assertEqual(now[office], 1)
        self.assert_stored_communes()

        self.patch(office, {"parent_id": U["commune"], "kind": "office"})
        self.assertEqual(self.expected(), before)
        self.assert_stored_communes()


# The kept facts computed afresh here: each expected submission's due day
# (an extension's, else the milestone's) and its first answer judged by the
# day it came in Vietnam; each sheet's results by the shared totals.
FRESH_OBLIGATIONS = (
    "SELECT mu.milestone_id, mu.unit_id, coalesce(e.due_on, m.due_on),"
    " CASE WHEN s.submitted_at IS NULL THEN NULL"
    "  WHEN (s.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
    "  <= coalesce(e.due_on, m.due_on) THEN 'on_time' ELSE 'late' END"
    " FROM milestone_units mu JOIN milestones m ON m.id = mu.milestone_id"
    " LEFT JOIN extensions e ON e.milestone_id = mu.milestone_id"
    "  AND e.unit_id = mu.unit_id"
    " LEFT JOIN submissions s ON s.milestone_id = mu.milestone_id"
    "  AND s.unit_id = mu.unit_id AND s.status <> 'draft'")
KEPT_OBLIGATIONS = ("SELECT milestone_id, unit_id, due_on, answered"
                    " FROM obligation_facts")
FRESH_RESULTS = ("SELECT * FROM score_sheet_results_of((SELECT array_agg(id)"
                 " FROM score_sheets))")
KEPT_RESULTS = ("SELECT score_sheet_id, adjusted_total, band"
                " FROM score_sheet_results")


class KeptFacts(Counting, unittest.TestCase):
    """The facts the reports read (obligation_facts, score_sheet_results)
    follow every change of what they derive from, through the API and
    through SQL, in the same transaction: after each, they equal a
    computation from scratch and the reports equal the counts made here."""

    def assert_kept(self, expected_ms=None):
        for kept, fresh in ((KEPT_OBLIGATIONS, FRESH_OBLIGATIONS),
                            (KEPT_RESULTS, FRESH_RESULTS)):
            extra = db().psql("(%s) EXCEPT (%s)" % (kept, fresh))
            missing = db().psql("(%s) EXCEPT (%s)" % (fresh, kept))
            self.assertEqual((extra, missing), ([], []), kept)
        self.check("obligations", obligation_facts(), obligation_counts)
        self.check("scores", score_facts(), score_counts)

    def fact(self, mid, unit):
        rows = db().psql("SELECT due_on, coalesce(answered, '') FROM"
                         " obligation_facts WHERE milestone_id = '%s'"
                         " AND unit_id = '%s'" % (mid, unit))
        return tuple(rows[0]) if rows else None

    def unit(self, parent, kind="village"):
        return ok(call("admin", "POST", "/api/v1/units", body={
            "parent_id": parent, "kind": kind, "code": "thon-giu-" + tag(),
            "name": "Thôn giữ " + tag()}), 201).json()["id"]

    def test_obligations_follow_submissions_extensions_due_days_and_moves(self):
        day = lambda n: (F.today + datetime.timedelta(n)).isoformat()
        u1, u2, u3 = (self.unit(U["commune"]) for _ in range(3))
        plan = ok(call("leader", "POST", "/api/v1/plans", body={
            "title": "Kế hoạch giữ số liệu " + tag(), "year": F.today.year,
            "issuing_unit_id": U["commune"]}), 201).json()
        m = ok(call("leader", "POST", "/api/v1/plans/%s/milestones"
                    % plan["id"], body={
                        "kind": "six_month_report",
                        "title": "Mốc " + tag(), "due_on": day(10),
                        "receiving_unit_id": U["phong-vh-xh"],
                        "owing": {"unit_ids": [u1, u2]}}), 201).json()
        mid = m["id"]
        self.assertEqual(self.fact(mid, u1), (day(10), ""))

        # Owing units replaced and the due day moved, through the API.
        ok(call("leader", "PATCH", "/api/v1/milestones/" + mid, body={
            "due_on": day(20), "owing": {"unit_ids": [u1, u2, u3]}},
            headers={"If-Match": '"%d"' % m["version"]}))
        self.assertEqual(self.fact(mid, u3), (day(20), ""))
        self.assertEqual(self.fact(mid, u1), (day(20), ""))
        v = ok(call("leader", "GET", "/api/v1/plans/" + plan["id"])).json()
        ok(call("leader", "POST", "/api/v1/plans/%s/issue" % plan["id"],
                headers={"If-Match": '"%d"' % v["version"]}))
        self.assert_kept()

        # A draft answers nothing; its submission does, and a return
        # keeps the first answer.
        s = ok(call("leader", "POST", "/api/v1/submissions", body={
            "unit_id": u1, "kind": "six_month_report", "milestone_id": mid,
            "title": "Báo cáo " + tag(), "body": "Nội dung."}), 201).json()
        self.assertEqual(self.fact(mid, u1), (day(20), ""))
        ok(call("leader", "POST", "/api/v1/submissions/%s/submit" % s["id"],
                headers={"If-Match": '"%d"' % s["version"]}))
        self.assertEqual(self.fact(mid, u1), (day(20), "on_time"))
        s = ok(call("leader", "GET", "/api/v1/submissions/" + s["id"])).json()
        ok(call("coordinator", "POST", "/api/v1/submissions/%s/return"
                % s["id"], body={"reason": "Bổ sung số liệu"},
                headers={"If-Match": '"%d"' % s["version"]}))
        self.assertEqual(self.fact(mid, u1), (day(20), "on_time"))
        self.assert_kept()

        # The due day moved into the past (SQL): the answer turns late, the
        # others missing; an extension (API) makes u1 on time and u2
        # pending again, its withdrawal (SQL) undoes u1's.
        db().psql("UPDATE milestones SET due_on = '%s' WHERE id = '%s'"
                  % (day(-30), mid))
        self.assertEqual(self.fact(mid, u1), (day(-30), "late"))
        self.assertEqual(self.fact(mid, u2), (day(-30), ""))
        for u in (u1, u2):
            ok(call("coordinator", "POST", "/api/v1/milestones/%s/extensions"
                    % mid, body={"unit_id": u, "due_on": day(5),
                                 "reason": "Gia hạn " + tag()}), 201)
        self.assertEqual(self.fact(mid, u1), (day(5), "on_time"))
        self.assertEqual(self.fact(mid, u2), (day(5), ""))
        self.assert_kept()
        db().psql("DELETE FROM extensions WHERE milestone_id = '%s'"
                  " AND unit_id = '%s'" % (mid, u1))
        self.assertEqual(self.fact(mid, u1), (day(-30), "late"))
        self.assert_kept()

        # A unit moved to another commune counts there at once; a unit no
        # longer owing and an answer taken back (SQL) leave no trace.
        other = next(u for u, v in F.units.items() if v[1] == "commune"
                     and u != U["commune"])
        r = ok(call("admin", "GET", "/api/v1/units/" + u2))
        ok(call("admin", "PATCH", "/api/v1/units/" + u2,
                body={"parent_id": other},
                headers={"If-Match": r.headers["ETag"]}))
        db().psql("DELETE FROM milestone_units WHERE milestone_id = '%s'"
                  " AND unit_id = '%s'" % (mid, u3))
        self.assertIsNone(self.fact(mid, u3))
        db().psql("UPDATE submissions SET status = 'draft',"
                  " submitted_at = NULL WHERE id = '%s'" % s["id"])
        self.assertEqual(self.fact(mid, u1), (day(-30), ""))
        self.assert_kept()

    def test_results_follow_entries_reviews_and_rulings(self):
        sheet, code = db().psql(
            "SELECT ss.id, e.code FROM score_sheets ss JOIN score_entries e"
            " ON e.score_sheet_id = ss.id WHERE ss.status = 'submitted'"
            " AND ss.eligible ORDER BY ss.id, e.code LIMIT 1")[0]
        before = db().psql("SELECT adjusted_total FROM score_sheet_results"
                           " WHERE score_sheet_id = '%s'" % sheet)[0][0]
        # Reviewed: one entry adjusted down to nothing, the sheet moved on.
        db().psql("UPDATE score_entries SET adjusted_points = 0,"
                  " adjust_reason = 'Không có minh chứng'"
                  " WHERE score_sheet_id = '%s' AND code = '%s';"
                  " UPDATE score_sheets SET status = 'reviewed'"
                  " WHERE id = '%s'" % (sheet, code, sheet))
        after = db().psql("SELECT adjusted_total FROM score_sheet_results"
                          " WHERE score_sheet_id = '%s'" % sheet)[0][0]
        self.assertLessEqual(Decimal(after), Decimal(before))
        self.assert_kept()
        # An entry removed and scored again, then the sheet ruled out.
        points = db().psql("SELECT self_points FROM score_entries WHERE"
                           " score_sheet_id = '%s' AND code = '%s'"
                           % (sheet, code))[0][0]
        db().psql("DELETE FROM score_entries WHERE score_sheet_id = '%s'"
                  " AND code = '%s'" % (sheet, code))
        self.assert_kept()
        db().psql("INSERT INTO score_entries (score_sheet_id, code,"
                  " self_points) VALUES ('%s', '%s', %s);"
                  " UPDATE score_sheets SET eligible = false,"
                  " not_eligible_reason = 'Vi phạm' WHERE id = '%s'"
                  % (sheet, code, points, sheet))
        self.assert_kept()


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
