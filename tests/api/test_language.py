"""Problem documents in Vietnamese: with Accept-Language preferring vi,
title, detail and each field message are Vietnamese; English is the
default; type, status, field and code never change with the language."""

import unittest

import harness
from harness import SEED_UNITS, call, ok

setUpModule, tearDownModule = harness.fixtures()
VI = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"}


def both(who, method, path, body=None, headers=None):
    """The same request in English (no Accept-Language) and Vietnamese."""
    en = call(who, method, path, body=body, headers=dict(headers or {}))
    vi = call(who, method, path, body=body, headers=dict(headers or {}, **VI))
    return en, vi


class TestVietnamese(unittest.TestCase):
    def same_but_language(self, en, vi):
        self.assertEqual(en.status, vi.status, vi.describe())
        a, b = en.json(), vi.json()
        self.assertEqual(a["type"], b["type"])
        self.assertEqual([(e["field"], e["code"]) for e in a.get("errors", [])],
                         [(e["field"], e["code"]) for e in b.get("errors", [])])
        self.assertEqual(en.headers.get("Content-Language"), "en")
        self.assertEqual(vi.headers.get("Content-Language"), "vi")
        self.assertIn("Accept-Language", vi.headers.get_all("Vary"))
        return a, b

    def test_not_found(self):
        en, vi = both("admin", "GET", "/api/v1/plans/"
                      "00000000-0000-4000-8000-000000000000")
        a, b = self.same_but_language(en, vi)
        self.assertEqual((a["title"], a["detail"]), ("Not found", "no such plan"))
        en, vi = both("admin", "GET", "/api/v1/attachments/"
                      "00000000-0000-4000-8000-000000000000")
        self.assertEqual(self.same_but_language(en, vi)[1]["detail"],
                         "không có tệp đính kèm này")
        self.assertEqual((b["title"], b["detail"]),
                         ("Không tìm thấy", "không tìm thấy plan"))

    def test_field_errors(self):
        en, vi = both("admin", "POST", "/api/v1/units",
                      body={"kind": "village", "code": 7})
        a, b = self.same_but_language(en, vi)
        self.assertEqual(a["type"], "urn:danvan:problem:invalid_body")
        self.assertEqual(b["title"], "Trường không hợp lệ")
        self.assertEqual(b["detail"], "nội dung yêu cầu có trường không hợp lệ")
        msgs = {e["field"]: e["message"] for e in b["errors"]}
        self.assertEqual(msgs["code"], "code phải là một chuỗi")
        self.assertEqual(msgs["name"], "cần có name")
        self.assertIn("name is required", [e["message"] for e in a["errors"]])

    def test_unauthenticated_and_query(self):
        en, vi = both(None, "GET", "/api/v1/units")
        a, b = self.same_but_language(en, vi)
        self.assertEqual(a["status"], 401)
        self.assertEqual(b["title"], "Cần đăng nhập")
        self.assertEqual(b["detail"],
                         "thao tác này cần mã truy cập hoặc khóa dịch vụ")
        en, vi = both("admin", "GET", "/api/v1/units?nam=x")
        a, b = self.same_but_language(en, vi)
        self.assertEqual(b["detail"], "không có tham số truy vấn nam")
        self.assertEqual(b["errors"][0]["message"],
                         "nam không phải tham số truy vấn của thao tác này")

    def test_stale_version(self):
        unit = SEED_UNITS["thon-1"] if "thon-1" in SEED_UNITS else \
            SEED_UNITS["commune"]
        en, vi = both("admin", "PATCH", "/api/v1/units/" + unit,
                      body={"name": "x"}, headers={"If-Match": '"999999"'})
        a, b = self.same_but_language(en, vi)
        self.assertEqual(a["status"], 412)
        self.assertEqual(b["title"], "Phiên bản đã thay đổi")

    def test_english_is_the_default(self):
        path = "/api/v1/units?nam=x"
        for lang in ("en", "en-US, vi;q=0.5", "fr", "*", "vi;q=0", "vi;q=0.2, en",
                     "en, vi", "garbage;;q=="):
            with self.subTest(lang=lang):
                r = call("admin", "GET", path, headers={"Accept-Language": lang})
                self.assertEqual(r.json()["title"], "Invalid query parameter")
        for lang in ("vi", "VI", "vi-VN", "fr;q=0.9, vi", "en;q=0.3, vi;q=0.4"):
            with self.subTest(lang=lang):
                r = call("admin", "GET", path, headers={"Accept-Language": lang})
                self.assertEqual(r.json()["title"],
                                 "Tham số truy vấn không hợp lệ")

    def test_success_does_not_change(self):
        en, vi = both("admin", "GET", "/api/v1/units/" + SEED_UNITS["commune"])
        ok(en)
        self.assertEqual(ok(vi).json(), en.json())


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
