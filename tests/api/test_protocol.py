"""The HTTP layer itself, mostly through a raw socket: what a request target
and header values may hold (a NUL, a broken percent-encoding), transfer
codings the server does not implement, the comparisons of If-Match and
If-None-Match, Accept-Encoding lists, what the Idempotency-Key fingerprint
covers, and sign-in under pressure (a bounded queue of password hashes)."""

import json
import re
import secrets
import socket
import threading
import time
import unittest

import harness
from harness import db, srv

U = harness.SEED_UNITS
PREFIX = harness.PROBLEM_TYPE_PREFIX


setUpModule, tearDownModule = harness.fixtures()


def tag():
    return secrets.token_hex(4)


def raw(data, timeout=5, server=None):
    """A raw request's answer, parsed, with the seconds it took in
    r.elapsed."""
    t0 = time.monotonic()
    r = (server or srv()).raw_response(data, timeout=timeout)
    r.elapsed = time.monotonic() - t0
    return r


def problem(test, r, status, code):
    test.assertEqual(r.status, status, r.describe())
    doc = harness.check_problem(r)
    test.assertEqual(doc["type"], PREFIX + code, r.describe())
    return doc


def alive(test):
    r = srv().request("GET", "/healthz")
    test.assertEqual(r.status, 200, r.describe())


def head(target, *lines, method="GET", version="HTTP/1.1"):
    """A request head as bytes; str lines are encoded, bytes kept."""
    out = [("%s %s %s" % (method, target, version)).encode()
           if isinstance(target, str) else
           method.encode() + b" " + target + b" " + version.encode()]
    for line in ("Host: t",) + lines:
        out.append(line.encode() if isinstance(line, str) else line)
    return b"\r\n".join(out) + b"\r\n\r\n"


# --- the request target --------------------------------------------------------

class RequestTarget(unittest.TestCase):

    def test_nul_in_the_path_400(self):
        # Decoded, "%00" would cut the path: /healthz%00x answered as
        # /healthz.
        for target in ("/healthz%00x", "/healthz%00", "/%00/healthz",
                       "/api/v1/units%00/x", "/healthz%00?x=1"):
            with self.subTest(target=target):
                r = raw(head(target))
                problem(self, r, 400, "invalid_path")
        alive(self)

    def test_broken_percent_encoding_400(self):
        for target in ("/healthz%zz", "/healthz%2", "/healthz%", "/%g0x",
                       "/healthz%%30", "/health%7"):
            with self.subTest(target=target):
                problem(self, raw(head(target)), 400, "invalid_path")
        alive(self)

    def test_raw_control_bytes_in_the_target_400(self):
        for target in (b"/healthz\x00x", b"/healthz\x01", b"/heal\x7fthz",
                       b"/healthz?a=\x00"):
            with self.subTest(target=target):
                problem(self, raw(head(target)), 400, "invalid_path")
        alive(self)

    def test_well_formed_encodings_still_served(self):
        for target in ("/healthz", "/%68ealthz", "/health%7A"):
            with self.subTest(target=target):
                r = raw(head(target))
                self.assertEqual(r.status, 200, r.describe())
        # A query is parsed, not refused as a malformed target: /healthz
        # takes no parameter, so x is named as unknown.
        for target in ("/healthz?x=%41", "/healthz?x=%zz"):
            with self.subTest(target=target):
                r = raw(head(target))
                problem(self, r, 400, "invalid_query")
                self.assertEqual(r.json()["errors"][0]["field"], "x")
        # Not /healthz once decoded: 404, not 400.
        problem(self, raw(head("/healthz%2Fx")), 404, "not_found")
        # A query value hiding a NUL keeps its own answer.
        problem(self, raw(head("/healthz?x=%00")), 400, "invalid_query")


# --- header values ---------------------------------------------------------------

class HeaderValues(unittest.TestCase):

    def test_nul_in_a_header_value_400_and_close(self):
        cases = [b"X-Note: a\x00b", b"X-Note: a\x00", b"X-Note: \x00",
                 b"X-Request-Id: abc\x00def",
                 b"Authorization: Bearer x\x00y",
                 b"Transfer-Encoding: chunked\x00, gzip"]
        for line in cases:
            for more in ((), ("X-After: 1",)):
                with self.subTest(line=line, more=more):
                    r = raw(head("/healthz", line, *more))
                    problem(self, r, 400, "invalid_header")
                    self.assertEqual(r.headers.get("Connection"), "close",
                                     r.describe())
        alive(self)

    def test_nul_in_a_body_header_of_an_upload_400(self):
        body = b'{"username":"x","password":"y"}'
        r = raw(head("/api/v1/auth/token", b"Content-Type: application/"
                     b"json\x00junk", "Content-Length: %d" % len(body),
                     method="POST") + body)
        problem(self, r, 400, "invalid_header")

    def test_folded_header_lines_400(self):
        # obs-fold (RFC 9112 5.2): refused rather than joined.
        r = raw(head("/healthz", "X-Note: a", " b"))
        problem(self, r, 400, "invalid_header")
        alive(self)

    def test_a_method_that_is_not_utf8_405(self):
        # Found by tests/fuzz/fuzz_problem: the method as sent is named in
        # the detail, cut at 16 bytes, and text that was not UTF-8 made the
        # problem renderer abort the whole server.
        for method in (b"GET\x80", "ĐĐĐĐĐĐĐố".encode()):
            with self.subTest(method=method):
                r = raw(method + b" /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                doc = problem(self, r, 405, "method_not_allowed")
                self.assertRegex(doc["detail"], r"^method .*\? is not")
                alive(self)

    def test_ordinary_heads_are_served(self):
        cases = [
            head("/healthz"),
            head("/healthz", "X-Empty:", "X-Spaced:    a  b  ", "X-Tab:\tv"),
            head("/healthz", "Cookie: a=1; b=\"2\"", "Accept: */*",
                 "X-Unicode: \xe1\xba\xa2nh".encode("latin-1")),
            b"GET /healthz HTTP/1.1\nHost: t\nX-A: 1\n\n",
            b"GET /healthz HTTP/1.1\r\nHost: t\nX-A: 1\r\n\n",
            b"GET /healthz HTTP/1.0\r\n\r\n",
            head("/healthz", *["X-H%d: %s" % (i, "v" * i) for i in range(40)]),
        ]
        for req in cases:
            with self.subTest(req=req[:60]):
                r = raw(req)
                self.assertEqual(r.status, 200, r.describe())
        # Headers that carry meaning are still read.
        r = raw(head("/healthz", "X-Request-Id: kept.id-1"))
        self.assertEqual(r.headers.get("X-Request-Id"), "kept.id-1")

    def test_pipelined_requests_on_one_connection(self):
        # Each request's head is checked where it lies in the connection's
        # buffer, the second one included.
        body = b'{"username":"nobody","password":"not-a-password"}'
        reqs = (head("/healthz", "X-A: 1") +
                head("/api/v1/auth/token", "Content-Type: application/json",
                     "Content-Length: %d" % len(body), method="POST") + body +
                b"GET /healthz HTTP/1.1\nHost: t\nX-B: 2\n\n" +
                head("/healthz", "X-C: 3", "Connection: close"))
        s = socket.create_connection(("127.0.0.1", srv().port), timeout=10)
        out = b""
        try:
            s.sendall(reqs)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        finally:
            s.close()
        statuses = [int(x) for x in
                    re.findall(rb"HTTP/1\.1 (\d{3}) ", out)]
        self.assertEqual(statuses, [200, 401, 200, 200], out[:2000])


# --- transfer codings ------------------------------------------------------------

def sign_in_head(*lines, version="HTTP/1.1"):
    return head("/api/v1/auth/token", "Content-Type: application/json",
                *lines, method="POST", version=version)


class TransferCoding(unittest.TestCase):
    """A body whose length the server cannot know is refused at once, not
    waited for until the inactivity timeout."""

    def check_refused(self, req, status, code):
        r = raw(req, timeout=3)
        self.assertLess(r.elapsed, 2.0, "answered only after %.1f s"
                        % r.elapsed)
        problem(self, r, status, code)
        self.assertEqual(r.headers.get("Connection"), "close", r.describe())

    def test_unknown_codings_501(self):
        for te in ("gzip", "chunked, gzip", "gzip, chunked", "identity",
                   "deflate", "GZIP", "chunked;ext=1", "x-custom"):
            with self.subTest(te=te):
                self.check_refused(sign_in_head("Transfer-Encoding: " + te)
                                   + b"0\r\n\r\n", 501,
                                   "unsupported_transfer_encoding")
        alive(self)

    def test_malformed_framing_400(self):
        body = b'{"username":"x","password":"y"}'
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        cases = [
            ("empty", sign_in_head("Transfer-Encoding:") + chunked),
            ("not a token", sign_in_head("Transfer-Encoding: chun ked")
             + chunked),
            ("quoted", sign_in_head('Transfer-Encoding: "chunked"') + chunked),
            ("trailing comma", sign_in_head("Transfer-Encoding: chunked,")
             + chunked),
            ("with Content-Length",
             sign_in_head("Transfer-Encoding: chunked",
                          "Content-Length: %d" % len(body)) + chunked),
            ("twice", sign_in_head("Transfer-Encoding: chunked",
                                   "Transfer-Encoding: chunked") + chunked),
            ("HTTP/1.0", sign_in_head("Transfer-Encoding: chunked",
                                      version="HTTP/1.0") + chunked),
        ]
        for what, req in cases:
            with self.subTest(what=what):
                self.check_refused(req, 400, "invalid_header")
        alive(self)

    def test_chunked_is_still_read(self):
        acct = harness.demo_account("viewer")
        for te in ("chunked", "Chunked"):
            with self.subTest(te=te):
                body = json.dumps({"username": acct["username"],
                                   "password": "wrong-" + tag()}).encode()
                r = raw(sign_in_head("Transfer-Encoding: " + te) +
                        b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
                        timeout=10)
                problem(self, r, 401, "invalid_grant")


# --- preconditions -----------------------------------------------------------------

class Preconditions(unittest.TestCase):

    def test_if_match_compares_strongly(self):
        r = harness.call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-3"], "kind": "office", "code": "to-" + tag(),
            "name": "Tổ tự quản"})
        self.assertEqual(r.status, 201, r.describe())
        path = "/api/v1/units/" + r.json()["id"]
        self.assertEqual(r.headers.get("ETag"), '"1"')
        # RFC 9110 13.1.1: If-Match uses the strong comparison, and a weak
        # tag never matches.
        for weak in ('W/"1"', 'w/"1"'):
            with self.subTest(if_match=weak):
                x = harness.call("admin", "PATCH", path, body={"name": "Yếu"},
                                 headers={"If-Match": weak})
                harness.expect_problem(self, x, 412, "precondition_failed")
        x = harness.call("admin", "PATCH", path, body={"name": "Mạnh"},
                         headers={"If-Match": '"1"'})
        self.assertEqual(x.status, 200, x.describe())
        self.assertEqual(x.json()["name"], "Mạnh")

    def test_if_none_match_is_a_list_of_tags(self):
        etag = srv().request("GET", "/openapi.json").headers["ETag"]
        opaque = etag[2:] if etag.startswith("W/") else etag
        for inm, status in [(etag, 304), ("W/" + opaque, 304),
                            ('"a", ' + etag, 304), ('"a",' + etag + ' , "b"',
                                                    304),
                            ("*", 304),
                            ("foo" + opaque + "bar", 200),
                            (opaque[1:-1], 200),
                            ('"a" ' + etag, 200),
                            ('"x' + opaque[1:], 200)]:
            with self.subTest(inm=inm):
                r = srv().request("GET", "/openapi.json",
                                  headers={"If-None-Match": inm})
                self.assertEqual(r.status, status, r.describe())


class AcceptEncoding(unittest.TestCase):

    def test_codings_are_tokens_with_weights(self):
        for ae, gz in [("gzip", True), ("GZip;Q=0.5", True),
                       ("br;q=1, gzip;level=9;q=0.1", True),
                       ("x-gzip", True),
                       ("x-gzipfoo", False), ("notgzip", False),
                       ("gzipx, deflate", False), ("gzip;foo=1;q=0", False),
                       ("gzip;q=0.000", False), ("identity, *;q=0", False)]:
            with self.subTest(ae=ae):
                r = srv().request("GET", "/openapi.json",
                                  headers={"Accept-Encoding": ae})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers.get("Content-Encoding") == "gzip",
                                 gz, r.describe())


# --- what an Idempotency-Key covers --------------------------------------------

def plan_body():
    return {"title": "Kế hoạch khóa " + tag(), "year": 2026,
            "issuing_unit_id": U["commune"], "purposes": "Mục đích"}


def post_raw(path, data, key, role="leader"):
    return harness.call(role, "POST", path, raw=data, headers={
        "Content-Type": "application/json", "Idempotency-Key": key})


class IdempotencyFingerprint(unittest.TestCase):

    def test_same_json_in_another_form_replays(self):
        body, key = plan_body(), "fp-" + tag()
        first = post_raw("/api/v1/plans", json.dumps(body).encode(), key)
        self.assertEqual(first.status, 201, first.describe())
        # Another order of the members, other white space, other escapes:
        # the same JSON, as a proxy or an SDK may re-serialise it.
        again = ('{ "purposes" : "M\\u1ee5c \\u0111\\u00edch",\n\t'
                 '"issuing_unit_id":"%s", "year" : 2026 ,"title": %s }'
                 % (body["issuing_unit_id"], json.dumps(body["title"])))
        for data in (json.dumps(body, indent=2, sort_keys=True).encode(),
                     again.encode()):
            with self.subTest(data=data[:40]):
                r = post_raw("/api/v1/plans", data, key)
                self.assertEqual(r.status, 201, r.describe())
                self.assertEqual(r.headers.get("Idempotent-Replayed"), "true",
                                 r.describe())
                self.assertEqual(r.json(), first.json())
        # Other content is another request.
        body["year"] = 2027
        r = post_raw("/api/v1/plans", json.dumps(body).encode(), key)
        harness.expect_problem(self, r, 422, "idempotency_key_reused")

    def test_the_query_is_part_of_the_request(self):
        doc = {"plan": {"title": "Kế hoạch nhập khóa " + tag(), "year": 2026,
                        "issuing_unit_id": U["commune"]}}
        data, key = json.dumps(doc).encode(), "fq-" + tag()
        path = "/api/v1/plans/import"
        r = post_raw(path + "?dry_run=true", data, key)
        self.assertEqual(r.status, 200, r.describe())
        self.assertIs(r.json()["dry_run"], True)
        # The same body, no longer a dry run: not the stored dry run's
        # answer.
        for query in ("?dry_run=false", "", "?dry_run=true&dry_run=false"):
            with self.subTest(query=query):
                x = post_raw(path + query, data, key)
                harness.expect_problem(self, x, 422, "idempotency_key_reused")
        # The same parameters in another order, or encoded otherwise, are
        # the same query.
        for query in ("?dry_run=true", "?dry_run=%74rue", "?dry%5Frun=true"):
            with self.subTest(query=query):
                x = post_raw(path + query, data, key)
                self.assertEqual(x.status, 200, x.describe())
                self.assertEqual(x.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(db().psql(
            "SELECT count(*) FROM plans WHERE title = '%s'"
            % doc["plan"]["title"]), [("0",)])


# --- sign-in under pressure --------------------------------------------------------

class SignInPressure(unittest.TestCase):
    """Password hashes run two at a time; more sign-ins wait in a queue of
    DANVAN_OFFLOAD_QUEUE (here 1). Past that they are told to come back
    (503, Retry-After) at once instead of queuing without end."""

    def test_a_burst_gets_503_busy_and_never_hangs(self):
        server = harness.Server(db(), {
            "DANVAN_OFFLOAD_QUEUE": "1", "DANVAN_LOGIN_LIMIT": "1000"}).start()
        acct = harness.demo_account("officer")
        n = 16
        reqs = []
        for i in range(n):
            password = acct["password"] if i % 2 else "wrong-" + tag()
            body = json.dumps({"username": acct["username"],
                               "password": password}).encode()
            reqs.append(head("/api/v1/auth/token",
                             "Content-Type: application/json",
                             "Content-Length: %d" % len(body),
                             "Connection: close", method="POST") + body)
        try:
            socks = [socket.create_connection(("127.0.0.1", server.port),
                                              timeout=15) for _ in range(n)]
            t0 = time.monotonic()
            for s, req in zip(socks, reqs):
                s.sendall(req)
            out = [b""] * n

            def read(i):
                try:
                    while True:
                        chunk = socks[i].recv(65536)
                        if not chunk:
                            break
                        out[i] += chunk
                except OSError:
                    pass
            threads = [threading.Thread(target=read, args=(i,))
                       for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
            elapsed = time.monotonic() - t0
            for s in socks:
                s.close()
            responses = [harness.parse_raw_response(
                o, "POST", "/api/v1/auth/token") for o in out]
            statuses = sorted(r.status for r in responses)
            self.assertTrue(set(statuses) <= {200, 401, 503}, statuses)
            busy = [r for r in responses if r.status == 503]
            self.assertGreater(len(busy), 0, "no 503 in %r" % statuses)
            self.assertGreaterEqual(n - len(busy), 3, statuses)
            for r in busy:
                self.assertEqual(r.headers.get("Retry-After"), "1",
                                 r.describe())
                doc = harness.check_problem(r)
                self.assertEqual(doc["type"], PREFIX + "busy")
            for r in responses:
                harness.check_contract(r, {})
            self.assertLess(elapsed, 15, statuses)
            # Once the burst is over, a sign-in goes through again.
            r = harness.login(acct["username"], acct["password"], server)
            self.assertEqual(r.status, 200, r.describe())
        finally:
            server.stop()


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
