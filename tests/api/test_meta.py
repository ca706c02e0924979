"""The HTTP foundation over real HTTP: meta routes, errors, limits, request
ids, caching, compression, logs, metrics, database outages and the rights of
the application role."""

import gzip
import json
import math
import os
import re
import shutil
import signal
import socket
import sys
import time
import unittest

import harness
from harness import db, srv

REDOC_ASSET = harness.ROOT / "openapi" / "node_modules" / "redoc" / \
    "bundles" / "redoc.standalone.js"

setUpModule, tearDownModule = harness.fixtures()


def get(path, headers=None):
    """GET without credentials, checked against the contract (not for
    secrets: /openapi.json describes the password fields)."""
    return srv().request("GET", path, headers=headers)


# --- Prometheus text ---------------------------------------------------------

SAMPLE_RE = re.compile(
    r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$")
LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL_RE.match(text, pos)
        if not m:
            raise AssertionError("bad label set {%s}" % text)
        labels[m.group(1)] = re.sub(r"\\(.)", lambda x: {"n": "\n"}.get(
            x.group(1), x.group(1)), m.group(2))
        pos = m.end()
    return labels


def parse_metrics(text):
    """(types, samples): types maps family -> type, samples is a list of
    (name, labels, value)."""
    types, samples = {}, []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                if parts[2] in types:
                    raise AssertionError("second # TYPE for %s" % parts[2])
                types[parts[2]] = parts[3].strip()
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("metrics line %d is not `name{labels} "
                                 "value`: %r" % (n, line))
        value = float(m.group(3))
        samples.append((m.group(1), parse_labels(m.group(2) or ""), value))
    return types, samples


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            if types.get(base) in ("histogram", "summary"):
                return base
    return None


def metric_value(samples, name, **labels):
    """Value of the one sample `name` whose labels include `labels`, 0 when
    the series does not exist yet."""
    found = [v for n, lab, v in samples if n == name and
             all(lab.get(k) == str(x) for k, x in labels.items())]
    if len(found) > 1:
        raise AssertionError("%d series of %s match %r" % (len(found), name,
                                                           labels))
    return found[0] if found else 0.0


def metric_sum(samples, name, **labels):
    """Sum over every series of `name` whose labels include `labels`."""
    return sum(v for n, lab, v in samples if n == name and
               all(lab.get(k) == str(x) for k, x in labels.items()))


def scrape():
    r = get("/metrics")
    if r.status != 200:
        raise AssertionError("/metrics -> %d" % r.status)
    return parse_metrics(r.text())


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --- tests -----------------------------------------------------------------

class MetaRoutes(unittest.TestCase):

    def test_healthz(self):
        r = get("/healthz")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.content_type, "application/json")
        self.assertEqual(r.json(), {"status": "ok"})

    def test_readyz_reports_schema_version(self):
        r = get("/readyz")
        self.assertEqual(r.status, 200, r.describe())
        (version,), = db().psql(
            "SELECT max(version) FROM schema_migrations")
        self.assertEqual(r.json(), {"status": "ready",
                                    "schema_version": int(version)})
        self.assertGreater(int(version), 0)

    def test_readyz_503_when_not_fully_migrated(self):
        # Hide the newest migration: the schema now looks older than the
        # binary, so the server must not claim to be ready.
        d = db()
        d.psql(["CREATE TABLE hidden_migration AS SELECT * FROM "
                "schema_migrations WHERE version = (SELECT max(version) "
                "FROM schema_migrations)",
                "DELETE FROM schema_migrations WHERE version = (SELECT "
                "version FROM hidden_migration)"])
        try:
            r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(
                get("/readyz")), 2.0)
            self.assertIsNotNone(r, "/readyz stayed 200 with the newest "
                                 "migration missing from schema_migrations")
            self.assertIn("Retry-After", r.headers, r.describe())
            self.assertEqual(r.json()["type"],
                             "urn:danvan:problem:not_migrated")
        finally:
            d.psql(["INSERT INTO schema_migrations SELECT * FROM "
                    "hidden_migration", "DROP TABLE hidden_migration"])
        r = wait_for(lambda: (lambda x: x if x.status == 200 else None)(
            get("/readyz")), 2.0)
        self.assertIsNotNone(r, "/readyz did not return to 200")

    def test_openapi_json_is_the_contract(self):
        r = get("/openapi.json")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.content_type, "application/json")
        self.assertEqual(r.json(), harness.openapi())

    def test_docs_page_and_asset(self):
        r = get("/docs")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.content_type, "text/html")
        html = r.text()
        self.assertIn("/docs/redoc.standalone.js", html)
        self.assertIn("/openapi.json", html)
        js = get("/docs/redoc.standalone.js")
        self.assertEqual(js.status, 200, js.describe())
        self.assertIn(js.content_type, ("application/javascript",
                                        "text/javascript"))
        self.assertGreater(len(js.body), 100000, "redoc bundle is tiny")
        self.assertNotIn(b"https://cdn.", js.body)
        if REDOC_ASSET.exists():
            # The bundle as npm has it, but for its one outside asset.
            self.assertEqual(js.body, REDOC_ASSET.read_bytes().replace(
                b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/favicon.ico"),
                "served bundle differs from %s" % REDOC_ASSET)

    def test_favicon(self):
        r = get("/favicon.ico")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.content_type, "image/x-icon")
        self.assertEqual(r.body[:4], b"\0\0\1\0")  # an ICO header
        self.assertEqual(r.body, (harness.ROOT / "openapi" / "favicon.ico")
                         .read_bytes())
        self.assertTrue(r.headers.get("ETag"))

    def test_unknown_route_404(self):
        r = get("/api/v1/no-such-thing")
        self.assertEqual(r.status, 404, r.describe())
        self.assertEqual(r.json()["type"], "urn:danvan:problem:not_found")
        r = get("/definitely/not/here?x=1")
        self.assertEqual(r.status, 404, r.describe())

    def test_problem_bodies_leak_nothing(self):
        # check_contract() already looks at every problem body; this makes
        # sure a set of different failures is actually looked at.
        got = [get("/x"), srv().request("PUT", "/readyz", body={"a": 1}),
               srv().request("PATCH", "/api/v1/%27%22%3Cb%3E"),
               srv().raw_response(b"GET /" + b"q" * 3000 +
                                  b" HTTP/1.1\r\nHost: t\r\n\r\n"),
               srv().raw_response(b"GET /readyz HTTP/1.1\r\nHost: t\r\n"
                                  b"X-Big: " + b"z" * 20000 + b"\r\n\r\n")]
        self.assertEqual([r.status for r in got], [404, 405, 404, 414, 431])
        for r in got:
            harness.check_no_leaks(r)

    def test_wrong_method_405_with_allow(self):
        r = srv().request("POST", "/healthz")
        self.assertEqual(r.status, 405, r.describe())
        self.assertEqual(r.json()["type"],
                         "urn:danvan:problem:method_not_allowed")
        allow = {m.strip().upper() for m in
                 (r.headers.get("Allow") or "").split(",") if m.strip()}
        self.assertIn("GET", allow, r.describe())
        self.assertLessEqual(allow, {"GET", "HEAD"}, r.describe())
        r = srv().request("DELETE", "/openapi.json")
        self.assertEqual(r.status, 405, r.describe())
        if "HEAD" in allow:
            h = srv().request("HEAD", "/healthz")
            self.assertEqual(h.status, 200, "Allow lists HEAD but HEAD "
                             "/healthz -> %d" % h.status)
            self.assertEqual(h.body, b"")


class DatabaseOutage(unittest.TestCase):
    """Each test takes the database away from a server of its own: one
    worker thread (so one connection) makes what happens deterministic, and
    the module's server is not disturbed."""

    def setUp(self):
        self.db = harness.Database()
        try:
            self.server = harness.Server(
                self.db, {"DANVAN_THREADS": "1"}).start()
        except BaseException:
            self.db.drop()
            raise

    def tearDown(self):
        try:
            self.db.super_psql("ALTER DATABASE %s ALLOW_CONNECTIONS true"
                               % self.db.name)
            self.server.stop()
        finally:
            self.db.drop()

    def get(self, path):
        return self.server.request("GET", path)

    def reconnects(self):
        _, samples = parse_metrics(self.get("/metrics").text())
        return metric_value(samples, "danvan_db_reconnects_total")

    def terminate_backends(self):
        self.db.super_psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = '%s' AND pid <> pg_backend_pid()" % self.db.name)

    def test_outage_and_recovery_without_restart(self):
        db = self.db
        self.assertEqual(self.get("/readyz").status, 200)
        before = self.reconnects()
        db.super_psql("ALTER DATABASE %s ALLOW_CONNECTIONS false" % db.name)
        self.terminate_backends()
        down = None
        for _ in range(10):
            r = self.get("/readyz")
            if r.status == 503:
                down = r
                break
            time.sleep(0.2)
        self.assertIsNotNone(down, "/readyz never answered 503 while the "
                             "database refused connections")
        self.assertEqual(down.headers.get("Retry-After"), "1",
                         down.describe())
        self.assertEqual(down.json()["type"],
                         "urn:danvan:problem:database_unavailable")
        # Liveness does not depend on the database.
        self.assertEqual(self.get("/healthz").status, 200)
        # Still down a moment later (no reconnect can succeed yet).
        time.sleep(1.1)
        self.assertEqual(self.get("/readyz").status, 503)
        db.super_psql("ALTER DATABASE %s ALLOW_CONNECTIONS true" % db.name)
        up = wait_for(lambda: self.get("/readyz").status == 200, 10.0, 0.2)
        self.assertTrue(up, "/readyz did not return to 200 within 10 s of "
                        "the database accepting connections again")
        (version,), = db.psql("SELECT max(version) FROM schema_migrations")
        self.assertEqual(self.get("/readyz").json(),
                         {"status": "ready", "schema_version": int(version)})
        self.assertGreater(self.reconnects(), before,
                           "danvan_db_reconnects_total did not grow after "
                           "the outage")

    def deferred(self):
        _, samples = parse_metrics(self.get("/metrics").text())
        return (metric_value(samples, "danvan_db_deferred_reads_total"),
                metric_value(samples, "danvan_db_deferred_resent_total"))

    def test_deferred_read_survives_its_killed_connection(self):
        # An entity's GET goes out on the event thread's own read
        # connection without the thread waiting for it. When PostgreSQL
        # closes that connection, the read is sent again on a new one (a
        # read may run twice): the client sees no error.
        tok = harness.token("officer", srv=self.server)
        path = "/api/v1/units/" + harness.U["thon-1"]
        h = harness.bearer(tok)
        r = self.server.request("GET", path, headers=h)
        self.assertEqual(r.status, 200, r.describe())
        reads, _ = self.deferred()
        self.assertGreater(reads, 0, "the GET did not go out deferred")
        for attempt in range(3):
            self.terminate_backends()
            time.sleep(0.2)
            r = self.server.request("GET", path, headers=h)
            self.assertEqual(r.status, 200, "after the read connection was "
                             "closed (attempt %d):\n%s"
                             % (attempt, r.describe()))
            self.assertEqual(r.json()["id"], harness.U["thon-1"])
        # Outside its scope it is still 404, on the new connection too.
        r = self.server.request("GET", "/api/v1/units/" + harness.U["thon-2"],
                                headers=h)
        self.assertEqual(r.status, 404, r.describe())
        after, resent = self.deferred()
        self.assertGreaterEqual(after, reads + 4)
        self.assertGreaterEqual(resent, 1, "no read was sent again after its "
                                "connection was closed")

    def test_killed_connection_is_replaced_without_client_error(self):
        # A PostgreSQL restart, a failover or an idle-session reaper closes
        # the server's connection while the database itself answers: that
        # must not cost a client a 503.
        self.assertEqual(self.get("/readyz").status, 200)
        self.terminate_backends()
        time.sleep(0.2)
        r = self.get("/readyz")
        self.assertEqual(r.status, 200, "the database answers, but /readyz "
                         "after its connection was closed gave:\n"
                         + r.describe())
        self.assertEqual(self.get("/readyz").status, 200)


class RequestIds(unittest.TestCase):

    def test_well_formed_id_is_echoed(self):
        for rid in ("abc-123", "A.b_c:d-9", "x" * 64):
            r = get("/healthz", {"X-Request-Id": rid})
            self.assertEqual(r.headers.get("X-Request-Id"), rid)

    def test_id_on_problem_documents(self):
        r = get("/nope", {"X-Request-Id": "trace-404"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.headers.get("X-Request-Id"), "trace-404")
        self.assertEqual(r.json()["request_id"], "trace-404")

    def test_malformed_id_is_replaced(self):
        for rid in ("has spaces in it", "x" * 65, "y" * 200, "semi;colon",
                    "quote\"d"):
            r = get("/healthz", {"X-Request-Id": rid})
            got = r.headers.get("X-Request-Id")
            self.assertNotEqual(got, rid)
            self.assertRegex(got, harness.GENERATED_ID_RE, "for sent %r" % rid)

    def test_generated_ids_are_unique(self):
        a = get("/healthz").headers.get("X-Request-Id")
        b = get("/healthz").headers.get("X-Request-Id")
        self.assertRegex(a, harness.GENERATED_ID_RE)
        self.assertRegex(b, harness.GENERATED_ID_RE)
        self.assertNotEqual(a, b)


class Caching(unittest.TestCase):

    def test_etag_and_304(self):
        for path in ("/openapi.json", "/docs", "/docs/redoc.standalone.js"):
            r = get(path)
            etag = r.headers.get("ETag")
            self.assertTrue(etag, "no ETag on GET %s" % path)
            self.assertRegex(etag, r'^(W/)?"[^"]*"$')
            self.assertEqual(get(path).headers.get("ETag"), etag,
                             "ETag of %s is not stable" % path)
            nm = get(path, {"If-None-Match": etag})
            self.assertEqual(nm.status, 304, nm.describe())
            self.assertEqual(nm.body, b"")
            self.assertEqual(nm.headers.get("ETag"), etag)
            nm = get(path, {"If-None-Match": '"other", ' + etag})
            self.assertEqual(nm.status, 304, "If-None-Match with a list: "
                             + nm.describe())
            other = get(path, {"If-None-Match": '"not-the-etag"'})
            self.assertEqual(other.status, 200, other.describe())

    def test_if_none_match_weak_comparison(self):
        # RFC 9110 13.1.2: If-None-Match uses the weak comparison, and a
        # proxy that compresses (nginx) hands clients W/ tags.
        etag = get("/openapi.json").headers.get("ETag")
        weak = etag if etag.startswith("W/") else "W/" + etag
        r = get("/openapi.json", {"If-None-Match": weak})
        self.assertEqual(r.status, 304, r.describe())


class Compression(unittest.TestCase):

    def test_gzip_when_asked(self):
        plain = get("/openapi.json")
        self.assertNotIn("Content-Encoding", plain.headers, plain.describe())
        self.assertIn("accept-encoding",
                      (plain.headers.get("Vary") or "").lower(),
                      "Vary: Accept-Encoding missing on the identity "
                      "response of a compressible resource")
        z = get("/openapi.json", {"Accept-Encoding": "gzip"})
        self.assertEqual(z.status, 200)
        self.assertEqual(z.headers.get("Content-Encoding"), "gzip",
                         z.describe())
        self.assertIn("accept-encoding", (z.headers.get("Vary") or "").lower())
        self.assertLess(len(z.body), len(plain.body))
        self.assertEqual(json.loads(gzip.decompress(z.body)),
                         json.loads(plain.body))
        z2 = get("/openapi.json", {"Accept-Encoding": "deflate, gzip;q=0.8"})
        self.assertEqual(z2.headers.get("Content-Encoding"), "gzip")

    def test_no_gzip_without_asking_or_for_small_bodies(self):
        r = get("/openapi.json", {"Accept-Encoding": "identity"})
        self.assertNotIn("Content-Encoding", r.headers)
        r = get("/healthz", {"Accept-Encoding": "gzip"})
        self.assertNotIn("Content-Encoding", r.headers,
                         "a 15-byte body should not be gzipped")
        self.assertEqual(r.json(), {"status": "ok"})


class Limits(unittest.TestCase):

    def check_alive(self):
        self.assertEqual(get("/healthz").status, 200)

    def test_long_url_414(self):
        path = "/healthz?pad=" + "a" * 5000
        r = srv().raw_response(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n"
                                % path).encode())
        self.assertEqual(r.status, 414, r.describe())
        doc = harness.check_problem(r)
        self.assertEqual(doc["type"], "urn:danvan:problem:uri_too_long")
        # Just over the cap is refused, just under it is served.
        over = "/x" + "b" * 2100
        r = srv().raw_response(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n"
                                % over).encode())
        self.assertEqual(r.status, 414, r.describe())
        under = "/x" + "b" * 1900
        self.assertEqual(get(under).status, 404)
        self.check_alive()

    def _big_header(self, size, many=False):
        if many:
            pad = "".join("X-Pad-%d: %s\r\n" % (i, "h" * 50)
                          for i in range(size // 60))
        else:
            pad = "X-Pad: %s\r\n" % ("h" * size)
        req = ("GET /healthz HTTP/1.1\r\nHost: t\r\n%s\r\n" % pad).encode()
        r = srv().raw_response(req)
        is_problem = r.content_type == "application/problem+json"
        sys.stderr.write("\n  note: %d-byte header -> %d, body %s\n" % (
            size, r.status, "is a problem document" if is_problem else
            "is %r (%s)" % (r.body[:80], r.headers.get("Content-Type"))))
        self.assertEqual(r.status, 431, r.describe())
        if is_problem:
            doc = harness.check_problem(r)
            self.assertEqual(doc["type"],
                             "urn:danvan:problem:headers_too_large")
        harness.check_no_leaks(r)
        self.check_alive()

    def test_headers_over_cap_431(self):
        self._big_header(20 * 1024)

    def test_huge_headers_431(self):
        self._big_header(40 * 1024)

    def test_many_small_headers_over_cap_431(self):
        self._big_header(20 * 1024, many=True)

    def test_headers_under_cap_served(self):
        r = get("/healthz", {"X-Pad": "h" * 8000})
        self.assertEqual(r.status, 200, r.describe())
        r = get("/healthz", {"X-Pad": "h" * 16000})
        self.assertEqual(r.status, 200, r.describe())

    def test_a_hundred_headers_served(self):
        # The connection's memory holds the cap's bytes and the index of
        # as many headers as a client sends (a browser: about twenty).
        r = get("/healthz", {"X-Pad-%d" % i: "h" * 40 for i in range(100)})
        self.assertEqual(r.status, 200, r.describe())


class AccessLog(unittest.TestCase):

    def test_one_json_line_per_request(self):
        tag = "log-" + os.urandom(6).hex()
        sent = {}
        for i, path in enumerate(("/healthz", "/no/such/route", "/readyz")):
            rid = "%s-%d" % (tag, i)
            r = get(path, {"X-Request-Id": rid})
            sent[rid] = (path, r)

        def lines():
            got = [e for e in srv().access_log()
                   if str(e.get("id", "")).startswith(tag)]
            return got if len(got) >= len(sent) else None

        entries = wait_for(lines, 3.0) or [
            e for e in srv().access_log()
            if str(e.get("id", "")).startswith(tag)]
        ids = [e["id"] for e in entries]
        self.assertEqual(sorted(ids), sorted(sent),
                         "one access-log line per request expected; "
                         "stdout:\n" + srv().stdout()[-2000:])
        time_re = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
                             r"(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
        for e in entries:
            path, r = sent[e["id"]]
            for key in ("time", "level", "msg", "id", "method", "route",
                        "status", "bytes", "us"):
                self.assertIn(key, e, "access-log line lacks %r: %r" % (key, e))
            self.assertRegex(e["time"], time_re)
            self.assertEqual(e["id"], r.headers.get("X-Request-Id"))
            self.assertEqual(e["method"], "GET")
            self.assertEqual(e["status"], r.status)
            self.assertEqual(e["bytes"], len(r.body), e)
            self.assertIsInstance(e["us"], int)
            self.assertGreaterEqual(e["us"], 0)
            self.assertEqual(e["msg"], "request")
            expected_route = "unmatched" if path.startswith("/no/") else path
            self.assertEqual(e["route"], expected_route, e)


    def test_every_line_written_on_sigterm(self):
        # Lines are written in batches: a stop right after the answers
        # still writes every one of them, from every connection, and an
        # answer the client did not wait for is logged as well.
        server = harness.Server(db()).start()
        tag = "term-" + os.urandom(6).hex()
        n = 60
        try:
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(("GET /readyz HTTP/1.1\r\nHost: t\r\n"
                       "X-Request-Id: %s-gone\r\n\r\n" % tag).encode())
            s.close()
            time.sleep(0.3)
            # The stop comes within the batch's 100 ms of the last answers.
            for i in range(n):
                r = server.request("GET", "/healthz",
                                   headers={"X-Request-Id": "%s-%d" % (tag, i)})
                self.assertEqual(r.status, 200, r.describe())
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=15), 0,
                             server.stderr())
            ids = [e["id"] for e in server.access_log()
                   if str(e.get("id", "")).startswith(tag)]
            want = ["%s-%d" % (tag, i) for i in range(n)] + [tag + "-gone"]
            self.assertEqual(sorted(ids), sorted(want),
                             "stdout:\n" + server.stdout()[-2000:])
        finally:
            server.stop()
            shutil.rmtree(server.dir, ignore_errors=True)


class Metrics(unittest.TestCase):

    def test_format_and_types(self):
        r = get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.content_type, "text/plain")
        self.assertIn("version=0.0.4",
                      r.headers.get("Content-Type").replace(" ", ""))
        types, samples = parse_metrics(r.text())
        for name, _, _ in samples:
            self.assertIsNotNone(family_of(name, types),
                                 "no # TYPE line for %s" % name)
        expected = {
            "danvan_http_requests_total": "counter",
            "danvan_http_request_duration_seconds": "histogram",
            "danvan_db_reconnects_total": "counter",
            "danvan_http_connections_open": "gauge",
            "danvan_http_requests_in_flight": "gauge",
        }
        for name, kind in expected.items():
            self.assertEqual(types.get(name), kind, "# TYPE of %s" % name)
        names = {n for n, _, _ in samples}
        for name in ("danvan_db_reconnects_total",
                     "danvan_http_connections_open",
                     "danvan_http_requests_in_flight"):
            self.assertIn(name, names, "%s has no sample" % name)
        # The request being answered is in flight.
        self.assertGreaterEqual(
            metric_value(samples, "danvan_http_requests_in_flight"), 1)

    def test_request_counter_counts_exactly(self):
        _, samples = scrape()
        before = metric_value(samples, "danvan_http_requests_total",
                              route="/healthz", method="GET", status="200")
        self.assertGreater(before, 0, "start-up probes were not counted")
        n = 5
        for _ in range(n):
            get("/healthz")

        def settled():
            _, s = scrape()
            v = metric_value(s, "danvan_http_requests_total",
                             route="/healthz", method="GET", status="200")
            if v > before + n:
                raise AssertionError("counter grew by %d for %d requests"
                                     % (v - before, n))
            return v == before + n

        self.assertTrue(wait_for(settled, 2.0),
                        "counter for /healthz did not grow by %d" % n)

    def test_unmatched_paths_share_one_label(self):
        # The method label of unmatched requests is not fixed by the
        # contract (any token can be sent), so sum over it.
        _, samples = scrape()
        before = metric_sum(samples, "danvan_http_requests_total",
                            route="unmatched", status="404")
        weird = "/metrics-cardinality-" + os.urandom(4).hex()
        get(weird)
        get(weird + "/x")

        def settled():
            _, s = scrape()
            return metric_sum(s, "danvan_http_requests_total",
                              route="unmatched", status="404") == before + 2

        self.assertTrue(wait_for(settled, 2.0))
        r = srv().request("BREW", weird)
        self.assertIn(r.status, (404, 405, 501), r.describe())
        text = get("/metrics").text()
        self.assertNotIn(weird, text, "raw paths must not become labels")
        self.assertNotIn('method="BREW"', text,
                         "arbitrary methods must not become labels")

    def test_histogram_buckets_cumulative(self):
        get("/healthz")
        _, samples = scrape()
        series = {}
        counts, sums = {}, {}
        base = "danvan_http_request_duration_seconds"
        for name, labels, value in samples:
            rest = tuple(sorted((k, v) for k, v in labels.items()
                                if k != "le"))
            if name == base + "_bucket":
                le = labels["le"]
                series.setdefault(rest, []).append(
                    (math.inf if le == "+Inf" else float(le), value))
            elif name == base + "_count":
                counts[rest] = value
            elif name == base + "_sum":
                sums[rest] = value
        self.assertTrue(series, "no histogram buckets")
        self.assertTrue(any(dict(k).get("route") == "/healthz"
                            for k in series), "no histogram for /healthz")
        for key, buckets in series.items():
            buckets.sort()
            les = [le for le, _ in buckets]
            self.assertEqual(len(les), len(set(les)), "duplicate le %r" % (key,))
            values = [v for _, v in buckets]
            self.assertEqual(values, sorted(values),
                             "buckets not cumulative for %r: %r" % (key, buckets))
            self.assertEqual(les[-1], math.inf, "no +Inf bucket for %r" % (key,))
            self.assertIn(key, counts, "no _count for %r" % (key,))
            self.assertIn(key, sums, "no _sum for %r" % (key,))
            self.assertEqual(values[-1], counts[key],
                             "+Inf bucket != _count for %r" % (key,))
            self.assertGreaterEqual(sums[key], 0)


class Shutdown(unittest.TestCase):

    def test_sigterm_exits_zero_with_idle_connection(self):
        other = harness.Server(db()).start()
        try:
            r = other.request("GET", "/healthz")
            self.assertEqual(r.status, 200)
            # An idle keep-alive connection must not hold the shutdown up.
            s = socket.create_connection(("127.0.0.1", other.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertIn(b" 200 ", s.recv(65536).split(b"\r\n", 1)[0] + b" ")
            started = time.monotonic()
            other.stop(signal.SIGTERM, timeout=10)
            self.assertLess(time.monotonic() - started, 10)
            s.close()
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", other.port),
                                         timeout=1).close()
        finally:
            if other.proc.poll() is None:
                other.proc.kill()
                other.proc.wait()


class DatabaseRights(unittest.TestCase):

    def assert_refused(self, sql, *messages):
        with self.assertRaises(harness.PsqlError, msg="danvan_app could run: "
                               + sql) as cm:
            db().psql(sql, role="danvan_app")
        self.assertTrue(any(m in cm.exception.stderr for m in messages),
                        cm.exception.stderr)

    def test_app_role_cannot_run_ddl(self):
        self.assert_refused("CREATE TABLE x (i int)", "permission denied")
        self.assert_refused("DROP TABLE schema_migrations", "must be owner",
                            "permission denied")
        self.assert_refused("ALTER TABLE schema_migrations ADD COLUMN x int",
                            "must be owner", "permission denied")

    def test_app_role_cannot_rewrite_migration_history(self):
        for sql in ("DELETE FROM schema_migrations",
                    "UPDATE schema_migrations SET checksum = 'x'",
                    "INSERT INTO schema_migrations (version, name, checksum) "
                    "VALUES (999999, 'x', 'x')",
                    "TRUNCATE schema_migrations"):
            self.assert_refused(sql, "permission denied")

    def test_app_role_can_read_migration_state(self):
        rows = db().psql("SELECT max(version) FROM schema_migrations",
                         role="danvan_app")
        self.assertTrue(rows and rows[0][0])


if __name__ == "__main__":
    harness.main()
