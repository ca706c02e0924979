"""Query parameters are checked on every route against the operation's
parameters in the contract: an unknown or misspelt one answers 400
invalid_query naming it, instead of being ignored."""

import unicodedata
import unittest
import urllib.parse

import harness
from harness import SEED_UNITS, call, ok

setUpModule, tearDownModule = harness.fixtures()
PREFIX = "urn:danvan:problem:"


def refused(test, r, *names):
    test.assertEqual(r.status, 400, r.describe())
    doc = r.json()
    test.assertEqual(doc["type"], PREFIX + "invalid_query")
    test.assertEqual([e["field"] for e in doc["errors"]], list(names))
    test.assertEqual({e["code"] for e in doc["errors"]}, {"unknown"})
    test.assertIn(names[0], doc["detail"])
    return doc


class TestUnknownParameters(unittest.TestCase):
    def test_misspelt_filter_on_a_list(self):
        # "stauts" would have listed every submission.
        refused(self, call("admin", "GET", "/api/v1/submissions?stauts=draft"),
                "stauts")
        refused(self, call("admin", "GET", "/api/v1/units?Kind=village&limit=2"),
                "Kind")

    def test_every_unknown_one_is_named(self):
        refused(self, call("admin", "GET", "/api/v1/plans?yeer=2026&x&limit=1&zz=1"),
                "yeer", "x", "zz")

    def test_on_every_kind_of_route(self):
        for who, method, path in (
                (None, "GET", "/healthz?verbose=1"),
                (None, "GET", "/docs?theme=dark"),
                (None, "POST", "/api/v1/auth/token?remember=1"),
                ("admin", "GET", "/api/v1/units/%s?expand=parent"
                 % SEED_UNITS["commune"]),
                ("admin", "PATCH", "/api/v1/units/%s?force=1"
                 % SEED_UNITS["commune"]),
                ("admin", "GET", "/api/v1/me?limit=1")):
            with self.subTest(path=path):
                name = path.split("?")[1].split("=")[0]
                refused(self, call(who, method, path, body={} if method != "GET"
                                   else None), name)

    def test_before_credentials_are_needed(self):
        # Checked at routing, from the request line alone.
        refused(self, call(None, "GET", "/api/v1/units?nme=x"), "nme")

    def test_declared_ones_still_work(self):
        ok(call("admin", "GET", "/api/v1/units?kind=village&limit=2&fields=id"))
        ok(call("admin", "GET", "/api/v1/units/%s?fields=id,name"
                % SEED_UNITS["commune"]))
        ok(call(None, "GET", "/healthz"))


def fold(text):
    """Lower case without Vietnamese diacritics, as the server's fold()."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c)).lower()


class TestTextSearch(unittest.TestCase):
    """q= on the lists whose items carry a title or name: case and
    diacritics ignored."""

    def search(self, who, path, key):
        sep = "&" if "?" in path else "?"
        items = ok(call(who, "GET", path + sep + "limit=200")).json()["items"]
        self.assertTrue(items, path)
        target = max(items, key=lambda i: len(i[key]))
        words = fold(target[key]).split()
        # Two words of it, upper-cased and without diacritics.
        text = " ".join(words[-2:]).upper() if len(words) > 1 else words[0]
        got = ok(call(who, "GET", path + sep + "limit=200&q="
                      + urllib.parse.quote(text))).json()["items"]
        self.assertIn(target["id"], [i["id"] for i in got], path)
        for i in got:
            self.assertIn(text.lower(), fold(i[key]), path)
        none = ok(call(who, "GET", path + sep + "q=zzqqxxnothing")).json()
        self.assertEqual(none["items"], [], path)
        r = call(who, "GET", path + sep + "q=")
        self.assertEqual(r.status, 400, r.describe())

    def test_lists(self):
        plan = next(p["id"] for p in ok(call("admin", "GET", "/api/v1/plans"))
                    .json()["items"]
                    if ok(call("admin", "GET", "/api/v1/plans/%s/tasks"
                               % p["id"])).json()["items"])
        rubric_plan = next(p["id"] for p in ok(call("admin", "GET",
                                                    "/api/v1/plans"))
                           .json()["items"]
                           if ok(call("admin", "GET", "/api/v1/plans/%s/rubrics"
                                      % p["id"])).json()["items"])
        for who, path, key in (
                ("admin", "/api/v1/plans/%s/tasks" % plan, "title"),
                ("admin", "/api/v1/plans/%s/milestones" % plan, "title"),
                ("admin", "/api/v1/plans/%s/rubrics" % rubric_plan, "title"),
                ("admin", "/api/v1/submissions", "title"),
                ("admin", "/api/v1/inspection-plans", "title"),
                ("admin", "/api/v1/inspections", "title"),
                ("admin", "/api/v1/service-accounts", "name"),
                ("officer", "/api/v1/assignments", "task_title")):
            with self.subTest(path=path):
                self.search(who, path, key)


    def test_files_by_name(self):
        sid = ok(call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": SEED_UNITS["thon-1"], "kind": "difficulty_report",
            "title": "Khó khăn " + harness.tag(), "body": "Ghi chú."}),
            201).json()["id"]
        pdf = b"%PDF-1.4\n" + b"0" * 600 + b"\n%%EOF\n"
        for name in ("Biên bản họp thôn.pdf", "Ảnh hiện trường.pdf"):
            ok(call("officer", "POST", "/api/v1/submissions/%s/attachments"
                    "?filename=%s" % (sid, urllib.parse.quote(name, safe="")),
                    raw=pdf + name.encode(),
                    headers={"Content-Type": "application/pdf"}), 201)
        self.search("officer", "/api/v1/submissions/%s/attachments" % sid,
                    "filename")


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
