"""Attachments over HTTP: thôn 1's officer files a difficulty report with a
photo and a PDF from a flaky phone (the same upload sent again, a
connection dropped before the answer, a body cut short: one stored copy,
or none), downloads the PDF in two ranges and puts the exact bytes back
together, and the Vietnamese file name comes back through
Content-Disposition. Then the types decided by the bytes, names, the size
cap (a server of its own with a small cap), a submission that is no longer
open, ranges, caching, listing, roles and scope."""

import hashlib
import re
import secrets
import socket
import struct
import threading
import time
import unittest
import urllib.parse
import zlib

import harness
from harness import CHECK, U, call, db, ok, srv, tag

THON1 = U["thon-1"]
THON2 = U["thon-2"]
NO_UPLOAD = ("viewer", "inspector", "service")
READERS_IN_SCOPE = ("officer", "leader", "admin", "viewer", "inspector",
                    "service")
MiB = 1024 * 1024
PDF = "application/pdf"
DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml."
        "document")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CD_RE = re.compile(r'^attachment; filename="([\x20-\x7e]*)"; '
                   r"filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$")


def build():
    # An officer of thôn 2: call("thon2", ...).
    harness.new_user(THON2, "officer", "thon2", "Cán bộ thôn 2",
                     name="thon2")
    for role in harness.USER_ROLES:
        harness.token(role)


setUpModule, tearDownModule = harness.fixtures(build)


# --- files -------------------------------------------------------------------


def png(width=12, height=8):
    """A valid RGB PNG with random pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    rows = b"".join(b"\x00" + secrets.token_bytes(width * 3)
                    for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                       0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg(size=600):
    """A JFIF header, random scan bytes and the end marker."""
    head = (b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" +
            b"\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    return head + secrets.token_bytes(size - len(head) - 2) + b"\xff\xd9"


def pdf(size=5000):
    """A PDF of exactly `size` bytes (random, so never stored before)."""
    head = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"
            b"endobj\n% " + secrets.token_hex(16).encode() + b"\n")
    tail = b"\n%%EOF\n"
    pad = size - len(head) - len(tail)
    assert pad >= 0
    return head + (b"% Bien ban hop dan thon 1. " * (pad // 27 + 1))[:pad] \
        + tail


def webp(size=200):
    body = b"VP8 " + secrets.token_bytes(size - 16)
    return b"RIFF" + struct.pack("<I", size - 8) + b"WEBP" + body


def zipped(size=300):
    return b"PK\x03\x04" + secrets.token_bytes(size - 4)


def ole(size=512):
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + secrets.token_bytes(size - 8)


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- requests ----------------------------------------------------------------


def upload_path(sid, filename):
    if filename is None:
        return "/api/v1/submissions/%s/attachments" % sid
    return "/api/v1/submissions/%s/attachments?filename=%s" % (
        sid, urllib.parse.quote(filename, safe=""))


def upload(who, sid, data, ctype, filename="tep.pdf", headers=None,
           server=None):
    h = dict(headers or {})
    if ctype is not None:
        h["Content-Type"] = ctype
    return call(who, "POST", upload_path(sid, filename), srv=server,
                raw=data, headers=h)


def stored(resp, status=201):
    """The attachment of a successful upload."""
    ok(resp, status)
    return resp.json()


def download(who, aid, headers=None):
    return call(who, "GET", "/api/v1/attachments/" + aid, headers=headers)


def attachment_rows(sid, data=None):
    where = "submission_id = '%s'" % sid
    if data is not None:
        where += " AND sha256 = '%s'" % sha(data)
    return int(db().psql("SELECT count(*) FROM attachments WHERE "
                         + where)[0][0])


def new_submission(who="officer", unit=THON1):
    return ok(call(who, "POST", "/api/v1/submissions", body={
        "unit_id": unit, "kind": "difficulty_report",
        "title": "Khó khăn khi vận động hiến đất làm đường " + tag(),
        "body": "Một số hộ chưa đồng thuận."}), 201).json()


def version(sid):
    return int(db().psql("SELECT version FROM submissions WHERE id = '%s'"
                         % sid)[0][0])


def step(sid, action, who, body=None):
    return ok(call(who, "POST", "/api/v1/submissions/%s/%s" % (sid, action),
                   body=body, headers={"If-Match": '"%d"' % version(sid)}))


def listing(who, sid, limit=200):
    return harness.all_items(who, "/api/v1/submissions/%s/attachments" % sid,
                             limit=limit, max_pages=100)


def raw_upload(sid, data, ctype, filename, who="officer", extra=None,
               length=None):
    return harness.raw_request(who, upload_path(sid, filename), data,
                               dict(extra or {}, **{"Content-Type": ctype}),
                               length)


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def uploads_logged(server=None):
    """How many requests to the upload route the server has finished with
    (answered, or abandoned by the client), from its access log."""
    return sum(1 for e in (server or srv()).access_log()
               if e.get("route") == "/api/v1/submissions/{id}/attachments"
               and e.get("method") == "POST")


def wait_logged(before, server=None):
    """Until the server has finished with one more upload than `before`."""
    CHECK.assertTrue(wait_for(lambda: uploads_logged(server) > before),
                     "the server never finished the dropped upload")


def disposition(resp):
    """(ASCII fallback, the UTF-8 name) of a Content-Disposition."""
    value = resp.headers.get("Content-Disposition")
    m = CD_RE.match(value or "")
    CHECK.assertIsNotNone(m, resp.describe())
    return m.group(1), urllib.parse.unquote(m.group(2), encoding="utf-8",
                                            errors="strict")


def check_attachment(test, doc, sid, data, ctype, filename):
    test.assertEqual(set(doc), {"id", "submission_id", "filename",
                                "content_type", "size", "sha256",
                                "created_at"})
    test.assertEqual((doc["submission_id"], doc["filename"],
                      doc["content_type"], doc["size"], doc["sha256"]),
                     (sid, filename, ctype, len(data), sha(data)))


def audit_attach(sid):
    r = ok(call("leader", "GET", "/api/v1/audit?limit=200&entity_type="
                "submission&entity_id=" + sid))
    return [e for e in r.json()["items"] if e["action"] == "attach"]


# --- the story ---------------------------------------------------------------

class Story(unittest.TestCase):
    """Thôn 1 reports a difficulty with a photo of the site and the
    minutes of the villagers' meeting, from a phone on a bad network."""

    def test_evidence_from_a_flaky_phone(self):
        s = new_submission()
        sid = s["id"]
        self.assertEqual((s["status"], s["receiving_unit_id"]),
                         ("draft", U["commune"]))

        # The photo; the phone sends it again, not knowing it arrived.
        photo = png(24, 16)
        r = upload("officer", sid, photo, "image/png", "Ảnh hiện trường.png")
        a = stored(r)
        check_attachment(self, a, sid, photo, "image/png",
                         "Ảnh hiện trường.png")
        self.assertEqual(r.headers.get("Location"),
                         "/api/v1/attachments/" + a["id"])
        for name in ("Ảnh hiện trường.png", "IMG_0001.png"):
            again = stored(upload("officer", sid, photo, "image/png", name),
                           200)
            self.assertEqual(again, a)
        self.assertEqual(attachment_rows(sid), 1)

        # A second photo, JPEG.
        shot = jpeg(900)
        b = stored(upload("officer", sid, shot, "image/jpeg",
                          "Đường vào xóm Trên.jpg"))
        check_attachment(self, b, sid, shot, "image/jpeg",
                         "Đường vào xóm Trên.jpg")

        # The minutes: the connection drops before the answer comes back,
        # so the phone sends them again.
        minutes = pdf(5000)
        name = "Biên bản họp dân thôn 1 – lần 2.pdf"
        before = uploads_logged()
        srv().send_and_close(raw_upload(sid, minutes, PDF, name))
        wait_logged(before)
        r = upload("officer", sid, minutes, PDF, name)
        self.assertIn(r.status, (200, 201), r.describe())
        c = r.json()
        check_attachment(self, c, sid, minutes, PDF, name)
        self.assertEqual(stored(upload("officer", sid, minutes, PDF, name),
                                200), c)
        self.assertEqual(attachment_rows(sid, minutes), 1)

        self.assertEqual(attachment_rows(sid), 3)

        # The list: metadata only, oldest first.
        items = listing("officer", sid)
        self.assertEqual([x["id"] for x in items],
                         [a["id"], b["id"], c["id"]])
        self.assertEqual(items, [a, b, c])
        # One audit event per stored file, none for the repeats.
        events = audit_attach(sid)
        self.assertEqual(sorted(e["after"]["id"] for e in events),
                         sorted([a["id"], b["id"], c["id"]]))
        self.assertTrue(all("data" not in e["after"] for e in events))

        # The download resumes: two ranges put back together.
        whole = ok(download("officer", c["id"]))
        self.assertEqual(whole.body, minutes)
        self.assertEqual(whole.content_type, PDF)
        self.assertEqual(whole.headers.get("ETag"), '"%s"' % sha(minutes))
        self.assertEqual(whole.headers.get("Accept-Ranges"), "bytes")
        first = ok(download("officer", c["id"],
                            {"Range": "bytes=0-2047"}), 206)
        self.assertEqual(first.headers.get("Content-Range"),
                         "bytes 0-2047/5000")
        self.assertEqual(len(first.body), 2048)
        rest = ok(download("officer", c["id"],
                           {"Range": "bytes=%d-" % len(first.body)}), 206)
        self.assertEqual(rest.headers.get("Content-Range"),
                         "bytes 2048-4999/5000")
        self.assertEqual(first.content_type, PDF)
        joined = first.body + rest.body
        self.assertEqual(joined, minutes)
        self.assertEqual(hashlib.sha256(joined).hexdigest(), c["sha256"])

        # The Vietnamese name comes back whole; the fallback is ASCII.
        fallback, utf8 = disposition(whole)
        self.assertEqual(utf8, name)
        self.assertTrue(fallback.endswith(".pdf"), fallback)
        self.assertTrue(fallback.startswith("Bi"), fallback)
        fallback, utf8 = disposition(ok(download("officer", a["id"])))
        self.assertEqual(utf8, "Ảnh hiện trường.png")
        # Diacritics folded, one letter for each, not one "_" per byte.
        self.assertEqual(fallback, "Anh hien truong.png")

        # The photos come back byte for byte.
        self.assertEqual(ok(download("officer", a["id"])).body, photo)
        self.assertEqual(ok(download("officer", b["id"])).body, shot)

        # The commune reads them: leader, inspector, viewer, the province's
        # service account and the admin.
        for who in READERS_IN_SCOPE:
            with self.subTest(reader=who):
                got = ok(download(who, c["id"]))
                self.assertEqual(got.body, minutes)
                self.assertEqual(listing(who, sid), [a, b, c])

        # Once submitted, the report takes no more files; returned, it does.
        step(sid, "submit", "officer")
        late = jpeg(700)
        harness.expect_problem(self, upload("officer", sid, late,
                                            "image/jpeg", "muộn.jpg"),
                               409, "submission_locked")
        # Not even the same bytes again.
        harness.expect_problem(self, upload("officer", sid, photo,
                                            "image/png", "x.png"),
                               409, "submission_locked")
        step(sid, "return", "leader",
             body={"reason": "Cần thêm ảnh đoạn đường bị sạt."})
        d = stored(upload("officer", sid, late, "image/jpeg", "Sạt lở.jpg"))
        step(sid, "submit", "officer")
        step(sid, "accept", "leader")
        harness.expect_problem(self, upload("officer", sid, pdf(900), PDF,
                                            "thêm.pdf"),
                               409, "submission_locked")
        self.assertEqual(attachment_rows(sid), 4)
        # Accepted, they are still read.
        self.assertEqual(ok(download("viewer", d["id"])).body, late)


# --- types, names, sizes -------------------------------------------------------

class Types(unittest.TestCase):

    def setUp(self):
        # A submission per test: together they store more files than the
        # per-submission cap allows.
        self.sid = new_submission()["id"]

    def test_every_allowed_type_when_the_bytes_agree(self):
        cases = [(PDF, pdf(800), "a.pdf"), ("image/jpeg", jpeg(), "a.jpg"),
                 ("image/png", png(), "a.png"), ("image/webp", webp(),
                                                 "a.webp"),
                 (DOCX, zipped(), "a.docx"), (XLSX, zipped(), "a.xlsx"),
                 ("application/msword", ole(), "a.doc"),
                 ("application/vnd.ms-excel", ole(), "a.xls")]
        for ctype, data, name in cases:
            with self.subTest(ctype=ctype):
                a = stored(upload("officer", self.sid, data, ctype, name))
                check_attachment(self, a, self.sid, data, ctype, name)
                got = ok(download("officer", a["id"]))
                self.assertEqual((got.content_type, got.body), (ctype, data))

    def test_declared_type_with_parameters_or_upper_case(self):
        for declared in ("application/pdf; name=bien-ban.pdf",
                         "Application/PDF"):
            with self.subTest(declared=declared):
                data = pdf(700)
                a = stored(upload("officer", self.sid, data, declared))
                self.assertEqual(a["content_type"], PDF)
                self.assertEqual(ok(download("officer", a["id"])).content_type,
                                 PDF)

    def test_forbidden_or_mismatched_types_415_and_no_row(self):
        cases = [
            ("shell script", b"#!/bin/sh\nrm -rf /\n", "text/x-sh"),
            ("shell script as a PDF", b"#!/bin/sh\nrm -rf /\n", PDF),
            ("EXE as a PDF", b"MZ\x90\x00\x03" + b"\x00" * 200, PDF),
            ("EXE", b"MZ\x90\x00\x03" + b"\x00" * 200,
             "application/x-msdownload"),
            ("PNG declared JPEG", png(), "image/jpeg"),
            ("JPEG declared PNG", jpeg(), "image/png"),
            ("PDF declared Word", pdf(600), "application/msword"),
            ("a zip", zipped(), "application/zip"),
            ("a WAV as WebP", b"RIFF" + struct.pack("<I", 100) + b"WAVE" +
             b"\x00" * 100, "image/webp"),
            ("an OLE file as docx", ole(), DOCX),
            ("HTML", b"<html><script>alert(1)</script></html>", "text/html"),
            ("SVG", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
             "image/svg+xml"),
            ("octet-stream", pdf(600), "application/octet-stream"),
            ("no Content-Type", pdf(600), None),
            ("truncated magic", b"%PD", PDF),
            ("JSON", b'{"a":1}', "application/json"),
        ]
        for what, data, ctype in cases:
            with self.subTest(what=what):
                before = attachment_rows(self.sid)
                harness.expect_problem(self, upload("officer", self.sid, data,
                                                    ctype, "x.pdf"),
                                       415, "unsupported_media_type")
                self.assertEqual(attachment_rows(self.sid), before)

    def test_empty_body_400(self):
        for ctype in (PDF, None):
            with self.subTest(ctype=ctype):
                harness.expect_problem(self, upload("officer", self.sid, b"",
                                                    ctype, "rỗng.pdf"),
                                       400, "body_required")
        self.assertEqual(attachment_rows(self.sid, b""), 0)

    def test_bad_file_names_400(self):
        data = pdf(600)
        cases = [("missing", None), ("empty", ""), ("slash", "a/b.pdf"),
                 ("backslash", "a\\b.pdf"), ("path", "../../etc/passwd.pdf"),
                 ("dot", "."), ("dotdot", ".."),
                 ("newline", "bien\nban.pdf"), ("tab", "a\tb.pdf"),
                 ("escape", "a\x1b[31m.pdf"), ("delete", "a\x7f.pdf"),
                 ("256 bytes", "a" * 252 + ".pdf"),
                 ("256 bytes of Vietnamese", "ệ" * 84 + "abcd"),
                 ("invalid UTF-8", b"bi\xean b\xe1n.pdf"),
                 ("overlong UTF-8", b"\xc0\xaf.pdf"),
                 ("UTF-16 surrogate", b"\xed\xa0\x80.pdf"),
                 ("NUL", "bien-ban.pdf\x00.sh")]
        for what, name in cases:
            with self.subTest(what=what):
                r = call("officer", "POST", upload_path(self.sid, None) + (
                    "" if name is None else "?filename=" +
                    urllib.parse.quote(name, safe="")),
                    raw=data, headers={"Content-Type": PDF})
                # A NUL is refused before the name is looked at.
                harness.expect_problem(self, r, 400, "invalid_query",
                                       None if what == "NUL" else
                                       {"filename": "format"})
        self.assertEqual(attachment_rows(self.sid, data), 0)

    def test_unicode_control_characters_in_names_400(self):
        # C1 controls (U+0080..U+009F) are control characters too: NEL,
        # and CSI, which starts an escape sequence on 8-bit terminals.
        for name in ("bien\u0085ban.pdf", "a\u009b31m.pdf"):
            with self.subTest(name=name):
                data = pdf(600)
                harness.expect_problem(self, upload("officer", self.sid, data,
                                                    PDF, name),
                                       400, "invalid_query",
                                       {"filename": "format"})
                self.assertEqual(attachment_rows(self.sid, data), 0)

    def test_invisible_formatting_characters_in_names_400(self):
        # Unicode's format characters (Cf) change how a name reads without
        # showing: U+202E makes "ảnh\u202egpj.exe" look like "ảnhexe.jpg".
        for name in ("ảnh\u202egpj.exe.pdf", "a\u202ab.pdf", "a\u2066b.pdf",
                     "a\u2069b.pdf", "a\u200eb.pdf", "a\u200fb.pdf",
                     "a\u061cb.pdf", "a\u200bb.pdf", "a\ufeffb.pdf",
                     "a\u00adb.pdf", "a\U000e0041b.pdf", "a\u2028b.pdf"):
            with self.subTest(name=ascii(name)):
                data = pdf(600)
                harness.expect_problem(self, upload("officer", self.sid, data,
                                                    PDF, name),
                                       400, "invalid_query",
                                       {"filename": "format"})
                self.assertEqual(attachment_rows(self.sid, data), 0)

    def test_the_extension_must_fit_the_type_422(self):
        cases = [(png(), "image/png", "ảnh.jpg"), (png(), "image/png",
                                                  "ảnh.png.exe"),
                 (png(), "image/png", "ảnh"), (png(), "image/png", "ảnh."),
                 (jpeg(), "image/jpeg", "ảnh.png"),
                 (pdf(600), PDF, "biên bản.docx"),
                 (zipped(), DOCX, "a.xlsx"), (ole(), "application/msword",
                                              "a.docx")]
        for data, ctype, name in cases:
            with self.subTest(ctype=ctype, name=name):
                doc = harness.expect_problem(self, upload(
                    "officer", self.sid, data, ctype, name), 422,
                    "extension_mismatch", {"filename": "extension"})
                self.assertIn(".", doc["errors"][0]["message"])
                self.assertEqual(attachment_rows(self.sid, data), 0)
        # Any case, and both names of JPEG.
        for data, ctype, name in ((png(), "image/png", "ẢNH.PNG"),
                                  (jpeg(), "image/jpeg", "a.jpeg"),
                                  (jpeg(), "image/jpeg", "a.JPG")):
            with self.subTest(ctype=ctype, name=name):
                self.assertEqual(stored(upload("officer", self.sid, data,
                                               ctype, name))["filename"],
                                 name)

    def test_names_at_the_limit_and_unusual_characters(self):
        names = ["a" * 251 + ".pdf",                 # 255 bytes
                 "ệ" * 83 + "ab.pdf",                 # 255 bytes, 89 chars
                 'Ảnh "hiện trường"; thôn 1 & 2 %20 +.pdf',
                 "báo cáo (bản cuối) [v2] 100%.pdf",
                 "ðŸ™‚ 😀 日本.pdf"]
        for name in names:
            with self.subTest(name=name):
                data = pdf(600)
                a = stored(upload("officer", self.sid, data, PDF, name))
                self.assertEqual(a["filename"], name)
                got = ok(download("officer", a["id"]))
                fallback, utf8 = disposition(got)
                self.assertEqual(utf8, name)
                self.assertNotIn('"', fallback)
                self.assertNotIn("\\", fallback)

    def test_not_gzipped_and_304(self):
        data = pdf(4000)
        a = stored(upload("officer", self.sid, data, PDF, "nén.pdf"))
        r = ok(download("officer", a["id"], {"Accept-Encoding": "gzip"}))
        self.assertIsNone(r.headers.get("Content-Encoding"), r.describe())
        self.assertEqual(r.body, data)
        etag = r.headers.get("ETag")
        self.assertEqual(etag, '"%s"' % sha(data))
        for inm in (etag, 'W/' + etag, '"other", ' + etag):
            with self.subTest(inm=inm):
                r = ok(download("officer", a["id"], {"If-None-Match": inm}),
                       304)
                self.assertEqual(r.body, b"")
                self.assertEqual(r.headers.get("ETag"), etag)
        # With a matching ETag a Range changes nothing: still 304.
        ok(download("officer", a["id"], {"If-None-Match": etag,
                                         "Range": "bytes=0-9"}), 304)
        r = ok(download("officer", a["id"], {"If-None-Match": '"%s"'
                                             % sha(b"x")}))
        self.assertEqual(r.body, data)

    def test_idempotency_key(self):
        data = jpeg(800)
        key = "att-" + tag()
        first = upload("officer", self.sid, data, "image/jpeg", "k.jpg",
                       headers={"Idempotency-Key": key})
        a = stored(first)
        again = upload("officer", self.sid, data, "image/jpeg", "k.jpg",
                       headers={"Idempotency-Key": key})
        self.assertEqual(again.status, 201, again.describe())
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.json(), a)
        self.assertEqual(again.headers.get("Location"),
                         first.headers.get("Location"))
        harness.expect_problem(self, upload(
            "officer", self.sid, jpeg(800), "image/jpeg", "k.jpg",
            headers={"Idempotency-Key": key}), 422, "idempotency_key_reused")
        # The same bytes under another name are another request: the name
        # is in the query, and the key covers the query.
        harness.expect_problem(self, upload(
            "officer", self.sid, data, "image/jpeg", "khác.jpg",
            headers={"Idempotency-Key": key}), 422, "idempotency_key_reused")
        self.assertEqual(attachment_rows(self.sid, data), 1)

    def test_concurrent_identical_uploads_store_one(self):
        data = pdf(20000)
        results = [None] * 8

        def go(i):
            try:
                results[i] = upload("officer", self.sid, data, PDF,
                                    "đồng thời.pdf")
            except BaseException as e:  # reported below
                results[i] = e
        threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            if isinstance(r, BaseException):
                raise r
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] * 7 + [201],
                         [r.describe() for r in results])
        self.assertEqual(len({r.json()["id"] for r in results}), 1)
        self.assertEqual(attachment_rows(self.sid, data), 1)

    def test_the_same_bytes_on_two_submissions_are_two_attachments(self):
        other = new_submission()["id"]
        data = png()
        a = stored(upload("officer", self.sid, data, "image/png", "a.png"))
        b = stored(upload("officer", other, data, "image/png", "a.png"))
        self.assertNotEqual(a["id"], b["id"])
        self.assertEqual((a["sha256"], b["sha256"]), (sha(data),) * 2)


class Sizes(unittest.TestCase):

    def test_ten_mib_is_taken_and_more_is_refused_at_once(self):
        sid = new_submission()["id"]
        data = pdf(10 * MiB)
        a = stored(upload("officer", sid, data, PDF, "lớn.pdf"))
        self.assertEqual(a["size"], 10 * MiB)
        self.assertEqual(ok(download("officer", a["id"],
                                     {"Range": "bytes=-100"}), 206).body,
                         data[-100:])
        # Only the headers are sent: the answer comes without the body.
        t0 = time.monotonic()
        r = srv().raw_response(raw_upload(sid, b"", PDF, "x.pdf",
                                          length=10 * MiB + 1))
        self.assertLess(time.monotonic() - t0, 3)
        harness.check_contract(r)
        harness.expect_problem(self, r, 413, "payload_too_large")
        # A phone that asks first (Expect: 100-continue) is told at once.
        r = srv().raw_response(raw_upload(
            sid, b"", PDF, "x.pdf", length=10 * MiB + 1,
            extra={"Expect": "100-continue"}))
        harness.expect_problem(self, r, 413, "payload_too_large")
        self.assertEqual(attachment_rows(sid), 1)

    def test_expect_100_continue(self):
        sid = new_submission()["id"]
        data = pdf(4000)
        payload = raw_upload(sid, data, PDF, "hỏi trước.pdf",
                             extra={"Expect": "100-continue"})
        head = payload[:len(payload) - len(data)]
        s = socket.create_connection(("127.0.0.1", srv().port),
                                     timeout=5)
        try:
            s.sendall(head)
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100 "))
            s.sendall(data)
            out = b""
            while b"\r\n\r\n" not in out or not out.rstrip().endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        finally:
            s.close()
        r = harness.parse_raw_response(out, "POST", upload_path(sid, "x"))
        harness.check_contract(r)
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(r.json()["sha256"], sha(data))
        self.assertEqual(attachment_rows(sid, data), 1)

    def test_lower_cap_from_the_environment(self):
        sid = new_submission()["id"]
        small = harness.Server(db(),
                               {"DANVAN_MAX_UPLOAD_BYTES": "2048"}).start()
        try:
            big = pdf(3000)
            r = upload("officer", sid, big, PDF, "3000.pdf", server=small)
            harness.expect_problem(self, r, 413, "payload_too_large")
            self.assertEqual(attachment_rows(sid, big), 0)
            # Announced, refused before a byte of the body.
            r = small.raw_response(raw_upload(sid, b"", PDF, "x.pdf",
                                              length=3000))
            harness.check_contract(r)
            harness.expect_problem(self, r, 413, "payload_too_large")
            # Chunked, no length announced: refused when it grows too big.
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big)
            head = raw_upload(sid, b"", PDF, "chunked.pdf").replace(
                b"Content-Length: 0\r\n", b"Transfer-Encoding: chunked\r\n")
            r = small.raw_response(head + body)
            harness.check_contract(r)
            harness.expect_problem(self, r, 413, "payload_too_large")
            self.assertEqual(attachment_rows(sid), 0)
            # At the cap it is taken.
            edge = pdf(2048)
            stored(upload("officer", sid, edge, PDF, "2048.pdf", server=small))
            self.assertEqual(attachment_rows(sid), 1)
            # JSON bodies keep their own cap.
            ok(call("officer", "POST", "/api/v1/submissions", srv=small,
                    body={"unit_id": THON1, "kind": "difficulty_report",
                          "title": "t", "body": "x" * 3000}), 201)
        finally:
            small.stop()


class Caps(unittest.TestCase):
    """At most DANVAN_MAX_ATTACHMENTS files and
    DANVAN_MAX_ATTACHMENT_BYTES_TOTAL bytes per submission, on a server of
    its own with small caps, also when the uploads come at the same time."""

    @classmethod
    def setUpClass(cls):
        cls.small = harness.Server(db(), {
            "DANVAN_MAX_ATTACHMENTS": "3",
            "DANVAN_MAX_ATTACHMENT_BYTES_TOTAL": "12000",
            "DANVAN_THREADS": "4"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.small.stop()

    def up(self, sid, data, name="tệp.pdf"):
        return upload("officer", sid, data, PDF, name, server=self.small)

    def test_up_to_the_count_and_no_further(self):
        sid = new_submission()["id"]
        files = [pdf(1000) for _ in range(3)]
        got = [stored(self.up(sid, f, "%d.pdf" % i))
               for i, f in enumerate(files)]
        r = self.up(sid, pdf(1000), "4.pdf")
        doc = harness.expect_problem(self, r, 409, "too_many_attachments")
        self.assertIn("at most 3 attachments", doc["detail"])
        self.assertEqual(attachment_rows(sid), 3)
        self.assertEqual(len(audit_attach(sid)), 3)
        # A phone that sends the last one again gets it back, full or not.
        again = stored(self.up(sid, files[2], "2.pdf"), 200)
        self.assertEqual(again, got[2])
        self.assertEqual({a["id"] for a in listing("officer", sid)},
                         {a["id"] for a in got})

    def test_up_to_the_bytes_in_all_and_no_further(self):
        sid = new_submission()["id"]
        stored(self.up(sid, pdf(7000)))
        r = self.up(sid, pdf(6000))
        doc = harness.expect_problem(self, r, 409, "attachments_too_large")
        self.assertIn("at most 12000 bytes", doc["detail"])
        self.assertIn("holds 7000", doc["detail"])
        self.assertEqual(attachment_rows(sid), 1)
        # Exactly at the cap is taken; a byte more is not.
        stored(self.up(sid, pdf(5000)))
        harness.expect_problem(self, self.up(sid, pdf(200)), 409,
                               "attachments_too_large")
        self.assertEqual(int(db().psql(
            "SELECT sum(size) FROM attachments WHERE submission_id = '%s'"
            % sid)[0][0]), 12000)
        self.assertEqual(attachment_rows(sid), 2)

    def race(self, sizes):
        """Uploads of `sizes` bytes to a new submission, all at once (they
        meet at the submission's lock): (statuses, rows stored, bytes)."""
        sid = new_submission()["id"]
        files = [pdf(n) for n in sizes]
        got = harness.locked_race("submissions", sid, len(files), lambda i:
                                  self.up(sid, files[i], "%d.pdf" % i))
        row = db().psql("SELECT count(*), coalesce(sum(size), 0) FROM"
                        " attachments WHERE submission_id = '%s'" % sid)[0]
        outcomes = sorted((r.status, r.json()["type"] if r.status != 201
                           else "") for r in got)
        return outcomes, int(row[0]), int(row[1])

    def test_concurrent_uploads_do_not_pass_the_caps(self):
        too_many = harness.PROBLEM_TYPE_PREFIX + "too_many_attachments"
        too_large = harness.PROBLEM_TYPE_PREFIX + "attachments_too_large"
        statuses, rows, _ = self.race([1500] * 6)
        self.assertEqual(statuses, [(201, "")] * 3 + [(409, too_many)] * 3)
        self.assertEqual(rows, 3)
        statuses, rows, size = self.race([5000] * 5)
        self.assertEqual(statuses, [(201, "")] * 2 + [(409, too_large)] * 3)
        self.assertEqual((rows, size), (2, 10000))


class Dropped(unittest.TestCase):
    """Bodies cut short by the network: nothing is stored, and the server
    lets go of the connection at once (a phone on a bad network leaves many
    of them behind)."""

    def test_bodies_cut_short_store_nothing_and_are_let_go(self):
        # A server of its own: one that held on to a dropped connection
        # would not stop in time and take the module's server down with it.
        server = harness.Server(db()).start()
        sid = new_submission()["id"]
        stuck = []
        try:
            for i, (size, sent) in enumerate(
                    [(8000, 3000), (8000, 1), (5000, 4999), (20000, 700),
                     (70000, 30000), (70000, 65536)] * 4):
                data = pdf(size)
                payload = raw_upload(sid, data, PDF, "đứt.pdf")
                before = uploads_logged(server)
                server.send_and_close(payload[:len(payload) - size + sent])
                if not wait_for(lambda: uploads_logged(server) > before, 3):
                    stuck.append("#%d: %d of %d bytes" % (i, sent, size))
                self.assertEqual(attachment_rows(sid, data), 0)
            self.assertEqual(attachment_rows(sid), 0)
            # libmicrohttpd 0.9.75 does not always notice at once that a
            # client hung up in the middle of a body; such a connection is
            # closed by the inactivity timeout, and a graceful stop does not
            # wait for it (below). nginx in front buffers whole bodies, so
            # production never sees these. Recorded, not asserted:
            if stuck:
                print("not noticed within 3 s: %s" % ", ".join(stuck))
            # The same file, whole, is stored once.
            data = pdf(8000)
            stored(upload("officer", sid, data, PDF, "đủ.pdf", server=server))
            self.assertEqual(attachment_rows(sid), 1)
        finally:
            if stuck:
                server.stop(timeout=60)
            else:
                server.stop()


# --- ranges --------------------------------------------------------------------

class Ranges(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        sid = new_submission()["id"]
        cls.data = pdf(1000)
        cls.aid = stored(upload("officer", sid, cls.data, PDF,
                                "phạm vi.pdf"))["id"]

    def get(self, rng, status=206):
        return ok(download("officer", self.aid, {"Range": rng}), status)

    def test_satisfiable_ranges(self):
        d, n = self.data, len(self.data)
        cases = [("bytes=0-0", 0, 0), ("bytes=0-99", 0, 99),
                 ("bytes=100-199", 100, 199), ("bytes=999-999", 999, 999),
                 ("bytes=500-", 500, 999), ("bytes=0-", 0, 999),
                 ("bytes=-1", 999, 999), ("bytes=-300", 700, 999),
                 ("bytes=-1000", 0, 999), ("bytes=-5000", 0, 999),
                 ("bytes=900-5000", 900, 999)]
        for rng, a, b in cases:
            with self.subTest(range=rng):
                r = self.get(rng)
                self.assertEqual(r.headers.get("Content-Range"),
                                 "bytes %d-%d/%d" % (a, b, n))
                self.assertEqual(r.body, d[a:b + 1])
                self.assertEqual(r.headers.get("Content-Length"),
                                 str(b - a + 1))
                self.assertEqual(r.content_type, PDF)
                self.assertEqual(r.headers.get("Accept-Ranges"), "bytes")

    def test_resume_in_many_pieces(self):
        got, pos = b"", 0
        while pos < len(self.data):
            r = self.get("bytes=%d-%d" % (pos, pos + 136))
            got += r.body
            pos += len(r.body)
        self.assertEqual(got, self.data)
        self.assertEqual(sha(got), sha(self.data))

    def test_unsatisfiable_416(self):
        for rng in ("bytes=1000-", "bytes=1000-1001", "bytes=5000-6000"):
            with self.subTest(range=rng):
                r = self.get(rng, 416)
                self.assertEqual(r.headers.get("Content-Range"),
                                 "bytes */1000")
                harness.expect_problem(self, r, 416, "range_not_satisfiable")

    def test_malformed_ranges_are_not_served_as_slices(self):
        # Not "a-b", "a-" or "-n" of digits: ignored (200, the whole file)
        # or refused (416), never read as some other range.
        for rng in ("bytes=--5", "bytes=0--1", "bytes=1-2-", "bytes=+5-9",
                    "bytes=5-x", "bytes=-5x"):
            with self.subTest(range=rng):
                r = download("officer", self.aid, {"Range": rng})
                self.assertIn(r.status, (200, 416), r.describe())
                if r.status == 200:
                    self.assertEqual(r.body, self.data)

    def test_invalid_ranges_are_ignored(self):
        # RFC 9110 14.1.1: a last byte before the first makes the range
        # invalid, and an invalid range is ignored: the whole file.
        for rng in ("bytes=5-2", "bytes=999-0", "bytes=5000-10"):
            with self.subTest(range=rng):
                r = self.get(rng, 200)
                self.assertEqual(r.body, self.data)
                self.assertIsNone(r.headers.get("Content-Range"))

    def test_the_unit_is_case_insensitive(self):
        for rng, first in (("BYTES=0-9", 0), ("Bytes=-10", 990)):
            with self.subTest(range=rng):
                r = self.get(rng)
                self.assertEqual(r.body, self.data[first:first + 10])

    def test_if_range(self):
        etag = '"%s"' % sha(self.data)
        # The ETag the phone kept still holds: the rest of the file.
        r = ok(download("officer", self.aid, {"Range": "bytes=600-",
                                              "If-Range": etag}), 206)
        self.assertEqual(r.body, self.data[600:])
        self.assertEqual(r.headers.get("Content-Range"), "bytes 600-999/1000")
        # Another version, a weak tag or a date (no Last-Modified is sent):
        # the whole file, never a slice of something else.
        near = etag[:-2] + ("1" if etag[-2] == "0" else "0") + '"'
        for cond in ('"%s"' % sha(b"before"), "W/" + etag, near,
                     "Tue, 01 Dec 2026 10:00:00 GMT"):
            with self.subTest(if_range=cond):
                r = ok(download("officer", self.aid, {
                    "Range": "bytes=600-", "If-Range": cond}), 200)
                self.assertEqual(r.body, self.data)
                self.assertIsNone(r.headers.get("Content-Range"))
        # Not even a 416: the condition fails first.
        r = ok(download("officer", self.aid, {"Range": "bytes=5000-",
                                              "If-Range": '"stale"'}), 200)
        self.assertEqual(r.body, self.data)
        # Without Range, If-Range changes nothing.
        r = ok(download("officer", self.aid, {"If-Range": '"stale"'}), 200)
        self.assertEqual(r.body, self.data)

    def test_head(self):
        r = ok(call("officer", "HEAD", "/api/v1/attachments/" + self.aid))
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("Content-Length"), "1000")
        self.assertEqual(r.headers.get("ETag"), '"%s"' % sha(self.data))
        self.assertEqual(disposition(r)[1], "phạm vi.pdf")
        r = ok(call("officer", "HEAD", "/api/v1/attachments/" + self.aid,
                    headers={"Range": "bytes=10-19"}), 206)
        self.assertEqual(r.headers.get("Content-Range"), "bytes 10-19/1000")

    def test_other_range_headers_get_the_whole_file(self):
        for rng in ("items=0-10", "bytes=0-1,5-6", "bytes=abc",
                    "bytes=-0", "bytes=-"):
            with self.subTest(range=rng):
                r = self.get(rng, 200)
                self.assertEqual(r.body, self.data)
                self.assertIsNone(r.headers.get("Content-Range"))


# --- roles and scope -------------------------------------------------------------

class Access(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sid = new_submission()["id"]
        cls.data = png()
        cls.att = stored(upload("officer", cls.sid, cls.data, "image/png",
                                "ảnh.png"))

    def test_readers_may_not_upload(self):
        for who in NO_UPLOAD:
            with self.subTest(who=who):
                data = jpeg()
                harness.expect_problem(self, upload(who, self.sid, data,
                                                    "image/jpeg", "x.jpg"),
                                       403, "forbidden")
                self.assertEqual(attachment_rows(self.sid, data), 0)
                self.assertEqual(ok(download(who, self.att["id"])).body,
                                 self.data)
                self.assertIn(self.att, listing(who, self.sid))

    def test_above_the_village_may_upload(self):
        for who in ("leader", "admin"):
            with self.subTest(who=who):
                data = pdf(700)
                a = stored(upload(who, self.sid, data, PDF, "trên.pdf"))
                self.assertEqual(a["submission_id"], self.sid)

    def test_another_village_sees_nothing(self):
        data = jpeg()
        for who in ("thon2", "coordinator"):
            with self.subTest(who=who):
                harness.expect_problem(self, upload(who, self.sid, data,
                                                    "image/jpeg", "x.jpg"),
                                       404, "not_found")
                harness.expect_problem(self, download(who, self.att["id"]),
                                       404, "not_found")
                harness.expect_problem(self, call(
                    who, "GET", "/api/v1/submissions/%s/attachments"
                    % self.sid), 404, "not_found")
        self.assertEqual(attachment_rows(self.sid, data), 0)
        # And thôn 1 does not see thôn 2's.
        s2 = new_submission("thon2", THON2)["id"]
        a2 = stored(upload("thon2", s2, data, "image/jpeg", "thôn 2.jpg"))
        harness.expect_problem(self, download("officer", a2["id"]), 404,
                               "not_found")
        harness.expect_problem(self, upload("officer", s2, jpeg(),
                                            "image/jpeg", "x.jpg"),
                               404, "not_found")
        self.assertEqual(ok(download("leader", a2["id"])).body, data)

    def test_unknown_ids_and_no_credentials(self):
        nobody = "5eed0000-0000-4000-8000-00000000dead"
        harness.expect_problem(self, upload("officer", nobody, pdf(600), PDF),
                               404, "not_found")
        harness.expect_problem(self, download("officer", nobody), 404,
                               "not_found")
        harness.expect_problem(self, call("officer", "GET",
                                          "/api/v1/submissions/%s/attachments"
                                          % nobody), 404, "not_found")
        harness.expect_problem(self, upload(None, self.sid, pdf(600), PDF),
                               401, "unauthenticated")
        harness.expect_problem(self, download(None, self.att["id"]), 401,
                               "unauthenticated")
        # A malformed id does not match the route.
        harness.expect_problem(self, download("officer", "not-a-uuid"), 404,
                               "not_found")
        r = call("officer", "DELETE", "/api/v1/attachments/" + self.att["id"])
        harness.expect_problem(self, r, 405, "method_not_allowed")
        self.assertEqual(attachment_rows(self.sid, self.data), 1)


class Listing(unittest.TestCase):

    def test_pages(self):
        sid = new_submission()["id"]
        want = [stored(upload("officer", sid, pdf(600 + i), PDF,
                              "tệp %d.pdf" % i)) for i in range(5)]
        self.assertEqual(listing("officer", sid, limit=2), want)
        self.assertEqual(listing("officer", sid, limit=1), want)
        r = ok(call("officer", "GET", "/api/v1/submissions/%s/attachments"
                    "?limit=2" % sid))
        self.assertEqual(len(r.json()["items"]), 2)
        self.assertIsNotNone(r.json()["next_cursor"])
        self.assertNotIn("data", r.text())
        empty = new_submission()["id"]
        r = ok(call("officer", "GET", "/api/v1/submissions/%s/attachments"
                    % empty))
        self.assertEqual(r.json(), {"items": [], "next_cursor": None})

    def test_bad_paging_400(self):
        sid = new_submission()["id"]
        for q, field in (("limit=0", "limit"), ("limit=201", "limit"),
                         ("cursor=zz", "cursor")):
            with self.subTest(q=q):
                harness.expect_problem(self, call(
                    "officer", "GET", "/api/v1/submissions/%s/attachments?%s"
                    % (sid, q)), 400, "invalid_query")

    def test_fields_and_304(self):
        sid = new_submission()["id"]
        a = stored(upload("officer", sid, png(), "image/png", "a.png"))
        r = ok(call("officer", "GET", "/api/v1/submissions/%s/attachments"
                    "?fields=id,filename" % sid))
        self.assertEqual(r.json()["items"],
                         [{"id": a["id"], "filename": "a.png"}])
        r = ok(call("officer", "GET", "/api/v1/submissions/%s/attachments"
                    % sid))
        ok(call("officer", "GET", "/api/v1/submissions/%s/attachments" % sid,
                headers={"If-None-Match": r.headers["ETag"]}), 304)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
