"""Tabular exports over HTTP, on the seeded ranking: the CSV and the XLSX
(read back with openpyxl) hold the cells of the JSON answer, Vietnamese
text intact, numbers as numbers and rates as percentages; format= and
Accept choose the form; each form has its strong ETag and answers 304; an
unknown format is 400; the ranking's access rules hold for every form."""

import csv
import io
import os
import subprocess
import tempfile
import time
import unittest

import openpyxl

import harness
from harness import U, call

RUBRIC = "5eed0000-0000-4000-8000-000000000741"
PATH = "/api/v1/rubrics/%s/ranking" % RUBRIC
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = ["rank", "unit_code", "unit_name", "status", "self_total",
           "adjusted_total", "delta", "band", "eligible",
           "not_eligible_reason", "score_rate"]
NUMBERS = {"rank", "self_total", "adjusted_total", "delta", "score_rate"}
EXPORT_DIR = tempfile.mkdtemp(prefix="danvan-exports-")


def build():
    harness.new_user(U["thon-1"], "officer", "xuat", name="village-1")
    harness.token("leader")


setUpModule, tearDownModule = harness.fixtures(
    build, env={"DANVAN_EXPORT_DIR": EXPORT_DIR})


def get(who, query="", headers=None, status=200):
    r = call(who, "GET", PATH + query, headers=headers)
    harness.CHECK.assertEqual(r.status, status, r.describe())
    return r


def rows_json(who="leader"):
    return get(who).json()["items"]


def as_csv(v):
    """A JSON value as the CSV writes it."""
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_csv(resp):
    text = resp.body.decode("utf-8")
    harness.CHECK.assertTrue(text.startswith("\ufeff"))
    lines = text[1:].split("\r\n")
    harness.CHECK.assertEqual(lines[-1], "")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_xlsx(resp):
    return openpyxl.load_workbook(io.BytesIO(resp.body)).active


class Csv(unittest.TestCase):

    def test_cells_match_the_json(self):
        want = rows_json()
        self.assertEqual(len(want), 4)
        r = get("leader", "?format=csv")
        self.assertEqual(r.headers["Content-Type"], "text/csv; charset=utf-8")
        name = "ranking-%s.csv" % RUBRIC
        self.assertEqual(r.headers["Content-Disposition"],
                         "attachment; filename=\"%s\"; filename*=UTF-8''%s"
                         % (name, name))
        self.assertIn("\r\n", r.body.decode("utf-8"))
        table = read_csv(r)
        self.assertEqual(table[0], COLUMNS)
        self.assertEqual(table[1:], [[as_csv(x[c]) for c in COLUMNS]
                                     for x in want])
        self.assertEqual(table[1][2], "Văn phòng HĐND và UBND xã")
        # The rate is a decimal fraction: 90 of the 100 criteria points.
        self.assertEqual((table[1][5], table[1][10]), ("90", "0.9"))
        # Not eligible: no rank, no band, a reason.
        self.assertEqual((table[4][0], table[4][7], table[4][8]),
                         ("", "", "false"))
        self.assertTrue(table[4][9])

    def test_accept_chooses_the_form(self):
        body = get("leader", "?format=csv").body
        self.assertEqual(get("leader", headers={"Accept": "text/csv"}).body,
                         body)
        r = get("leader", headers={"Accept": "text/csv;q=0.5, */*;q=0.1"})
        self.assertEqual(r.body, body)
        for accept in ("text/csv;q=0.5, application/json", "*/*",
                       "application/xml", "text/html, application/json"):
            r = get("leader", headers={"Accept": accept})
            self.assertEqual(r.content_type, "application/json", accept)
            self.assertIsNone(r.headers.get("Content-Disposition"))
        r = get("leader", headers={"Accept": XLSX})
        self.assertEqual(r.content_type, XLSX)
        self.assertEqual(r.headers["Vary"], "Accept")

    def test_format_wins_over_accept(self):
        r = get("leader", "?format=json", headers={"Accept": "text/csv"})
        self.assertEqual(r.content_type, "application/json")
        r = get("leader", "?format=csv", headers={"Accept": XLSX})
        self.assertEqual(r.content_type, "text/csv")
        r = get("leader", "?format=xlsx",
                headers={"Accept": "application/json"})
        self.assertEqual(r.content_type, XLSX)


class Xlsx(unittest.TestCase):

    def test_cells_match_the_json(self):
        want = rows_json()
        r = get("leader", "?format=xlsx")
        self.assertEqual(r.headers["Content-Type"], XLSX)
        name = "ranking-%s.xlsx" % RUBRIC
        self.assertEqual(r.headers["Content-Disposition"],
                         "attachment; filename=\"%s\"; filename*=UTF-8''%s"
                         % (name, name))
        ws = read_xlsx(r)
        self.assertEqual(ws.max_row, len(want) + 1)
        self.assertEqual(ws.max_column, len(COLUMNS))
        self.assertEqual([c.value for c in ws[1]], COLUMNS)
        self.assertTrue(all(c.font.b for c in ws[1]))
        self.assertEqual(ws.freeze_panes, "A2")
        for i, x in enumerate(want, start=2):
            for j, col in enumerate(COLUMNS, start=1):
                cell = ws.cell(row=i, column=j)
                v = x[col]
                if v is None:
                    self.assertIsNone(cell.value, (i, col))
                elif col in NUMBERS:
                    self.assertIsInstance(cell.value, (int, float), (i, col))
                    self.assertEqual(cell.data_type, "n")
                    self.assertAlmostEqual(cell.value, v, places=9)
                else:
                    self.assertEqual(cell.value, as_csv(v), (i, col))
                if col == "score_rate":
                    self.assertIn("%", cell.number_format)
                if col == "rank" and v is not None:
                    self.assertEqual(cell.number_format, "0")
        names = [ws.cell(row=i, column=3).value for i in range(2, 6)]
        self.assertIn("Văn phòng HĐND và UBND xã", names)
        self.assertIn("Thôn 1 (mẫu)", names)

    def test_widths_fit_the_text(self):
        ws = read_xlsx(get("leader", "?format=xlsx"))
        longest = max(len(x["unit_name"]) for x in rows_json())
        width = ws.column_dimensions["C"].width
        self.assertGreaterEqual(width, longest)
        self.assertLessEqual(width, 62)
        # Short columns stay narrow, headers fit.
        self.assertGreaterEqual(ws.column_dimensions["A"].width, len("rank"))
        self.assertLess(ws.column_dimensions["A"].width, 12)

    def test_same_data_same_bytes(self):
        # A strong tag names the bytes: the workbook carries no clock.
        a = get("leader", "?format=xlsx")
        time.sleep(1.1)
        b = get("leader", "?format=xlsx")
        self.assertEqual(a.headers["ETag"], b.headers["ETag"])
        self.assertEqual(a.body, b.body)

    def test_no_file_left_behind(self):
        get("leader", "?format=xlsx")
        self.assertEqual(os.listdir(EXPORT_DIR), [])


class SizeCap(unittest.TestCase):

    def test_an_xlsx_over_the_cap_is_refused(self):
        srv = harness.Server(harness.db(), env={
            "DANVAN_EXPORT_DIR": EXPORT_DIR, "DANVAN_MAX_EXPORT_BYTES": "1024"})
        srv.start()
        try:
            r = call("leader", "GET", PATH + "?format=xlsx", srv=srv)
            harness.expect_problem(self, r, 500, "internal")
            r = call("leader", "GET", PATH + "?format=csv", srv=srv)
            self.assertEqual(r.status, 200, r.describe())
        finally:
            srv.stop()
        self.assertEqual(os.listdir(EXPORT_DIR), [])


class ExportDir(unittest.TestCase):

    def test_the_server_will_not_start_without_it(self):
        # Found at start, not by the first spreadsheet a province asks for.
        missing = os.path.join(EXPORT_DIR, "missing")
        srv = harness.Server(harness.db())
        srv.port = harness.free_port()
        env = srv._env()
        env["DANVAN_EXPORT_DIR"] = missing
        p = subprocess.run([os.environ["DANVAN_BIN"], "serve"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("DANVAN_EXPORT_DIR", p.stderr)
        self.assertIn(missing, p.stderr)


class Caching(unittest.TestCase):

    def test_each_form_has_its_strong_tag(self):
        tags = {}
        for fmt in ("json", "csv", "xlsx"):
            r = get("leader", "?format=" + fmt)
            tag = r.headers["ETag"]
            self.assertRegex(tag, r'^"[0-9a-f]{16}-%s"$' % fmt)
            self.assertEqual(get("leader", "?format=" + fmt)
                             .headers["ETag"], tag)
            tags[fmt] = tag
            r = get("leader", "?format=" + fmt,
                    headers={"If-None-Match": tag}, status=304)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.headers["ETag"], tag)
        self.assertEqual(len(set(tags.values())), 3)
        # The JSON without format= is the same answer, the same tag.
        self.assertEqual(get("leader").headers["ETag"], tags["json"])
        # A tag of another form or other data is not a match.
        get("leader", "?format=csv", headers={"If-None-Match": tags["xlsx"]})
        mine = get("village-1", "?format=csv")
        self.assertNotEqual(mine.headers["ETag"], tags["csv"])
        get("village-1", "?format=csv", headers={"If-None-Match": tags["csv"]})


class BadInput(unittest.TestCase):

    def test_unknown_format(self):
        for value in ("pdf", "", "CSV", "csv,xlsx", "x" * 300):
            r = call("leader", "GET", PATH + "?format=" + value)
            d = harness.expect_problem(self, r, 400, "invalid_query")
            self.assertEqual([e["field"] for e in d["errors"]], ["format"])

    def test_unknown_rubric(self):
        path = "/api/v1/rubrics/%s/ranking?format=xlsx" % (
            "5eed0000-0000-4000-8000-00000000ffff")
        harness.expect_problem(self, call("leader", "GET", path), 404,
                               "not_found")


class Access(unittest.TestCase):

    def test_without_credentials(self):
        for fmt in ("csv", "xlsx"):
            r = call(None, "GET", PATH + "?format=" + fmt)
            harness.expect_problem(self, r, 401, "unauthenticated")

    def test_a_village_sees_its_own_row(self):
        mine = rows_json("village-1")
        self.assertEqual([x["unit_id"] for x in mine], [U["thon-1"]])
        table = read_csv(get("village-1", "?format=csv"))
        self.assertEqual([t[1] for t in table[1:]], ["thon-1"])
        ws = read_xlsx(get("village-1", "?format=xlsx"))
        self.assertEqual(ws.max_row, 2)
        self.assertEqual(ws.cell(row=2, column=3).value, "Thôn 1 (mẫu)")

    def test_the_service_account_pulls_it(self):
        table = read_csv(get("service", "?format=csv"))
        self.assertEqual(len(table), 5)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
