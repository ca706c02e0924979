"""The edge: the real nginx with deploy/nginx/danvan.conf in front of the real
danvan, and the systemd unit's sandbox, checked against what the README says
of them.

The committed nginx file is rendered, not copied: only its listen, upstream,
certificate and log lines are replaced (each must be found exactly once), so
a change to the file is a change to what is tested. The certificate is a
self-signed one made here with openssl. Clients connect from addresses of
127.0.0.0/8 other than 127.0.0.1 where the test needs them to be "outside":
nginx's rate limits and /metrics rule see them as other hosts, and danvan
sees nginx as 127.0.0.1.

Environment: that of the API tests (tests/run.sh).
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "danvan.conf"
UNIT = ROOT / "deploy" / "systemd" / "danvan.service"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The README's level for the units that run danvan itself (systemd-analyze
# security, 0..10).
MAX_EXPOSURE = 1.0
SANDBOXED_UNITS = ("danvan.service", "danvan-migrate.service",
                   "danvan-purge.service")
# The server as danvan.service runs it: behind nginx, X-Real-IP trusted.
SERVER_ENV = {"DANVAN_TRUST_PROXY": "1"}
LOGIN = "/api/v1/auth/token"


def render(text, upstream, http_port, https_port, d):
    """danvan.conf with its host-specific lines pointed at this test."""
    subs = [
        (r"server 127\.0\.0\.1:8080 ", "server 127.0.0.1:%d " % upstream),
        (r"listen 80;", "listen 127.0.0.1:%d;" % http_port),
        (r"\n *listen \[::\]:80;", ""),
        (r"listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;"
         % https_port),
        (r"\n *listen \[::\]:443 ssl http2;", ""),
        (r"/etc/danvan/tls/fullchain\.pem", "%s/cert.pem" % d),
        (r"/etc/danvan/tls/privkey\.pem", "%s/key.pem" % d),
        (r"/var/log/nginx/danvan\.access\.log", "%s/access.log" % d),
        (r"root /var/www/acme;", "root %s/acme;" % d),
    ]
    for rx, rep in subs:
        text, n = re.subn(rx, lambda m: rep, text)
        if n != 1:
            raise AssertionError("%s: %r found %d times, not once"
                                 % (CONF, rx, n))
    return text


def make_certificate(d):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=api.danvan.example",
         "-addext", "subjectAltName=DNS:api.danvan.example,IP:127.0.0.1",
         "-keyout", os.path.join(d, "key.pem"),
         "-out", os.path.join(d, "cert.pem")],
        check=True, capture_output=True, timeout=30)


class Edge:
    """danvan serve (the harness's Server) with nginx in front of it."""

    def __init__(self, db, env=None):
        self.server = harness.Server(db, dict(SERVER_ENV, **(env or {})))
        self.server.start()
        self.dir = tempfile.mkdtemp(prefix="danvan-edge-")
        # nginx's workers run as nobody: they write the body buffers here.
        os.chmod(self.dir, 0o755)
        # danvan's access log outlives its directory (removed by a clean
        # stop) as a second name of the same file.
        kept = os.path.join(self.dir, "danvan.stdout.log")
        os.link(self.server.stdout_path, kept)
        self.server.stdout_path = kept
        os.mkdir(os.path.join(self.dir, "acme"))
        make_certificate(self.dir)
        self.cert = os.path.join(self.dir, "cert.pem")
        self.nginx = None
        for attempt in range(3):
            self.http_port = harness.free_port()
            self.https_port = harness.free_port()
            if self._start_nginx():
                return
            if attempt == 2 or "in use" not in self.error_log():
                break
        err = self.error_log()
        self.stop()
        self.remove()
        raise AssertionError("nginx did not start\n" + err)

    def _start_nginx(self):
        d = self.dir
        with open(os.path.join(d, "danvan.conf"), "w") as f:
            f.write(render(CONF.read_text(), self.server.port,
                           self.http_port, self.https_port, d))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write("""daemon off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 256; }
http {
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    access_log off;
    include %(d)s/danvan.conf;
}
""" % {"d": d})
        self.nginx = subprocess.Popen(
            [NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e",
             os.path.join(d, "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.https_port),
                                         timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def error_log(self):
        try:
            return Path(self.dir, "error.log").read_text(errors="replace")
        except OSError:
            return ""

    def access_log(self):
        """nginx's access log (the danvan_access format)."""
        try:
            return Path(self.dir, "access.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        """Stop nginx, then danvan (asserting its clean exit)."""
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGTERM)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        self.server.stop()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = True
        return ctx

    def request(self, method, path, body=None, headers=None,
                source="127.0.0.1", conn=None):
        """One request through nginx over TLS (HTTP/1.1), from `source`;
        on `conn` when given (a kept-alive connection)."""
        own = conn is None
        if own:
            conn = self.connection(source)
        try:
            return send(conn, method, path, body, headers)
        finally:
            if own:
                conn.close()

    def connection(self, source="127.0.0.1"):
        return http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.context(), timeout=10,
            source_address=(source, 0))

    def tls_socket(self, source="127.0.0.1"):
        raw = socket.create_connection(("127.0.0.1", self.https_port),
                                       timeout=10,
                                       source_address=(source, 0))
        return self.context().wrap_socket(raw, server_hostname="127.0.0.1")

    def curl(self, *args):
        """curl against nginx's TLS port, trusting only the test's
        certificate; its stdout."""
        p = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "--cacert", self.cert] +
            list(args), capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError("curl %s: exit %d: %s"
                                 % (" ".join(args), p.returncode, p.stderr))
        return p.stdout

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.https_port, path)


def send(conn, method, path, body=None, headers=None):
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else \
            json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    return harness.Response(r.status, r.reason,
                            harness.Headers(r.getheaders()), payload,
                            method, path)


def direct(server, method, path, body=None, headers=None, source="127.0.0.1"):
    """One request straight to danvan (not through nginx), from `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10,
                                      source_address=(source, 0))
    try:
        resp = send(conn, method, path, body, headers)
    finally:
        conn.close()
    harness.check_contract(resp, headers)
    return resp


def nginx_problem(test, resp, status, code):
    """A problem document that nginx wrote itself: the shape of danvan's,
    with a code of danvan's list, and the headers of every answer."""
    test.assertEqual(resp.status, status, resp.describe())
    doc = harness.check_problem(resp)
    test.assertEqual(doc["type"], harness.PROBLEM_TYPE_PREFIX + code)
    security_headers(test, resp)
    return doc


def security_headers(test, resp):
    test.assertEqual(resp.headers.get("Strict-Transport-Security"),
                     "max-age=31536000", resp.describe())
    test.assertEqual(resp.headers.get("X-Content-Type-Options"), "nosniff",
                     resp.describe())
    test.assertRegex(resp.headers.get("X-Request-Id") or "",
                     harness.REQUEST_ID_RE)
    # server_tokens off: no version for a scanner to match.
    test.assertEqual(resp.headers.get("Server"), "nginx", resp.describe())


_db = None
_edge = None


def setUpModule():
    global _db, _edge
    harness.require_env()
    _db = harness.Database()
    try:
        _edge = Edge(_db)
    except BaseException:
        _db.drop()
        raise


def tearDownModule():
    global _db, _edge
    try:
        if _edge is not None:
            _edge.stop()
            _edge.remove()
    finally:
        _edge = None
        _db.drop()


def login_failure_keys(tagname):
    return sorted(k for (k,) in _db.psql(
        "SELECT key FROM login_failures WHERE key LIKE '%%%s%%'" % tagname))


class Tls(unittest.TestCase):

    def test_http2_over_tls(self):
        out = _edge.curl("--http2", "-o", "/dev/null", "-w",
                         "%{http_version} %{response_code}",
                         _edge.url("/healthz"))
        self.assertEqual(out, "2 200")

    def test_tls_1_2_and_1_3_only(self):
        for v in ("1.2", "1.3"):
            out = _edge.curl("--tlsv" + v, "--tls-max", v, "-o", "/dev/null",
                             "-w", "%{response_code}", _edge.url("/healthz"))
            self.assertEqual(out, "200", "TLS " + v)
        # A client that offers only TLS 1.1 or 1.0 (which this OpenSSL
        # does at security level 0) is refused by nginx with the
        # protocol_version alert, not by its own library.
        ctx = _edge.context()
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        raw = socket.create_connection(("127.0.0.1", _edge.https_port),
                                       timeout=10)
        try:
            with self.assertRaises(ssl.SSLError) as cm:
                ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        finally:
            raw.close()
        self.assertIn("ALERT_PROTOCOL_VERSION", str(cm.exception))

    def test_plain_http_is_redirected_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", _edge.http_port,
                                          timeout=10)
        try:
            conn.request("GET", "/api/v1/plans?limit=1",
                         headers={"Host": "api.danvan.example"})
            r = conn.getresponse()
            r.read()
        finally:
            conn.close()
        self.assertEqual(r.status, 301)
        self.assertEqual(r.getheader("Location"),
                         "https://api.danvan.example/api/v1/plans?limit=1")


class Headers(unittest.TestCase):

    def test_security_headers_on_danvan_answers(self):
        for path, status in (("/healthz", 200), ("/api/v1/plans", 401),
                             ("/api/v1/nothing-here", 404)):
            r = _edge.request("GET", path)
            self.assertEqual(r.status, status, r.describe())
            security_headers(self, r)
            harness.check_contract(r)

    def test_request_id_kept_or_made(self):
        r = _edge.request("GET", "/healthz",
                          headers={"X-Request-Id": "edge-kept-1"})
        self.assertEqual(r.headers.get("X-Request-Id"), "edge-kept-1")
        # One danvan would refuse is replaced by nginx's own.
        r = _edge.request("GET", "/healthz",
                          headers={"X-Request-Id": "bad id with spaces"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertRegex(r.headers.get("X-Request-Id"), r"^[0-9a-f]{32}$")


class Limits(unittest.TestCase):

    def test_body_cap_answered_by_nginx(self):
        # The header announces 12 MiB + 1: nginx answers before any body.
        conn = _edge.connection()
        try:
            conn.putrequest("POST", "/api/v1/submissions")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(12 * 1024 * 1024 + 1))
            conn.putheader("X-Request-Id", "edge-too-large")
            conn.endheaders()
            r = conn.getresponse()
            resp = harness.Response(r.status, r.reason,
                                    harness.Headers(r.getheaders()),
                                    r.read(), "POST", "/api/v1/submissions")
        finally:
            conn.close()
        doc = nginx_problem(self, resp, 413, "payload_too_large")
        self.assertEqual(doc["request_id"], "edge-too-large")

    def test_general_rate_limit(self):
        # 20 r/s with a burst of 40 per address: a quick run of 80 on one
        # connection gets 429 with Retry-After once the burst is spent.
        conn = _edge.connection("127.0.0.21")
        statuses, limited = [], None
        try:
            for i in range(80):
                r = _edge.request("GET", "/healthz", conn=conn)
                statuses.append(r.status)
                if r.status == 429 and limited is None:
                    limited = r
        finally:
            conn.close()
        self.assertEqual(statuses[:40], [200] * 40)
        self.assertIsNotNone(limited, statuses)
        self.assertEqual(set(statuses), {200, 429})
        nginx_problem(self, limited, 429, "too_many_requests")
        self.assertEqual(limited.headers.get("Retry-After"), "10")
        # Another address has its own allowance.
        self.assertEqual(_edge.request("GET", "/healthz",
                                       source="127.0.0.31").status, 200)

    def test_sign_in_rate_limit(self):
        # 10 r/min with a burst of 5: the 7th quick try is refused by nginx
        # (the empty body is danvan's 400, which costs no hashing).
        conn = _edge.connection("127.0.0.22")
        statuses = []
        try:
            for i in range(8):
                r = _edge.request("POST", LOGIN, body={}, conn=conn)
                statuses.append(r.status)
                last = r
        finally:
            conn.close()
        self.assertEqual(statuses, [400] * 6 + [429] * 2)
        nginx_problem(self, last, 429, "too_many_requests")
        self.assertEqual(last.headers.get("Retry-After"), "10")

    def test_metrics_denied_from_outside(self):
        r = _edge.request("GET", "/metrics", source="127.0.0.23")
        doc = nginx_problem(self, r, 403, "forbidden")
        self.assertEqual(doc["title"], "Not allowed for this role")
        self.assertEqual(r.headers.get("Content-Language"), "en")
        # In Vietnamese for a client that asks for it first, as danvan does.
        r = _edge.request("GET", "/metrics", source="127.0.0.23",
                          headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
        doc = nginx_problem(self, r, 403, "forbidden")
        self.assertEqual(doc["title"], "Vai trò này không được phép")
        self.assertEqual(r.headers.get("Content-Language"), "vi")
        self.assertIn("Accept-Language", r.headers.get("Vary") or "")
        # The monitoring host (here, this host) still reads it.
        r = _edge.request("GET", "/metrics")
        self.assertEqual(r.status, 200, r.describe())
        self.assertIn("danvan_", r.text())


class ClientAddress(unittest.TestCase):

    def test_client_address_passed_through(self):
        # Failed sign-ins are counted per address: through nginx, danvan
        # counts the client's, not nginx's, and not one the client claims.
        name = "edge-pass-" + harness.tag()
        r = _edge.request("POST", LOGIN, source="127.0.0.24",
                          body={"username": name, "password": "x" * 12},
                          headers={"X-Real-IP": "203.0.113.5",
                                   "X-Forwarded-For": "203.0.113.5"})
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(login_failure_keys(name),
                         ["fail:%s@127.0.0.24" % name, "try:" + name])

    def test_forwarded_address_trusted_only_from_nginx(self):
        # Straight to danvan (DANVAN_TRUST_PROXY=1), a client that is not
        # nginx's address cannot pick the address it is counted under.
        name = "edge-spoof-" + harness.tag()
        r = direct(_edge.server, "POST", LOGIN, source="127.0.0.25",
                   body={"username": name, "password": "x" * 12},
                   headers={"X-Real-IP": "203.0.113.6"})
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(login_failure_keys(name),
                         ["fail:%s@127.0.0.25" % name, "try:" + name])
        # From nginx's address the header is taken.
        name = "edge-proxy-" + harness.tag()
        r = direct(_edge.server, "POST", LOGIN,
                   body={"username": name, "password": "x" * 12},
                   headers={"X-Real-IP": "203.0.113.7"})
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(login_failure_keys(name),
                         ["fail:%s@203.0.113.7" % name, "try:" + name])


class Buffering(unittest.TestCase):
    """Each test has its own danvan (one worker thread) and nginx, stopped
    before danvan's access log is read."""

    def setUp(self):
        self.edge = Edge(_db, {"DANVAN_THREADS": "1"})

    def tearDown(self):
        if self.edge is not None:
            self.edge.stop()
            self.edge.remove()

    def stop_and_read_log(self):
        edge, self.edge = self.edge, None
        try:
            edge.stop()
            return {e.get("id"): e for e in edge.server.access_log()
                    if e.get("msg") == "request"}
        finally:
            edge.remove()

    def test_half_a_body_never_reaches_danvan(self):
        rid = "edge-half-" + harness.tag()
        s = self.edge.tls_socket("127.0.0.26")
        s.sendall(("POST /api/v1/submissions HTTP/1.1\r\n"
                   "Host: api.danvan.example\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: 100000\r\n"
                   "X-Request-Id: %s\r\n\r\n" % rid).encode() +
                  b"{" + b" " * 49999)
        s.close()
        # nginx has seen it (and the client go) ...
        deadline = time.monotonic() + 10
        while "id=" + rid not in self.edge.access_log():
            self.assertLess(time.monotonic(), deadline,
                            "nginx did not log the half request")
            time.sleep(0.05)
        after = "edge-after-" + harness.tag()
        r = self.edge.request("GET", "/healthz",
                              headers={"X-Request-Id": after})
        self.assertEqual(r.status, 200, r.describe())
        log = self.stop_and_read_log()
        # ... danvan has not.
        self.assertIn(after, log)
        self.assertNotIn(rid, log)

    def test_slow_client_does_not_hold_a_worker(self):
        # A body trickled over 3 s: meanwhile danvan's one worker answers
        # others at once, and danvan spends on the slow request only the
        # time to answer it, after nginx has the whole body.
        rid = "edge-slow-" + harness.tag()
        body = json.dumps({"title": "x" * 3900}).encode()
        s = self.edge.tls_socket("127.0.0.27")
        s.sendall(("POST /api/v1/submissions HTTP/1.1\r\n"
                   "Host: api.danvan.example\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: %d\r\n"
                   "Connection: close\r\n"
                   "X-Request-Id: %s\r\n\r\n" % (len(body), rid)).encode())
        chunks = [body[i:i + 200] for i in range(0, len(body), 200)]
        started = time.monotonic()
        times = []
        for chunk in chunks:
            s.sendall(chunk)
            t = time.monotonic()
            r = direct(self.edge.server, "GET", "/readyz")
            self.assertEqual(r.status, 200, r.describe())
            times.append(time.monotonic() - t)
            time.sleep(max(0.0, 0.15 - (time.monotonic() - t)))
        took = time.monotonic() - started
        answer = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            answer += data
        s.close()
        resp = harness.parse_raw_response(answer, "POST",
                                          "/api/v1/submissions")
        self.assertEqual(resp.status, 401, resp.describe())
        self.assertGreater(took, 2.5)
        # The median: a shared machine may stall any one request.
        times.sort()
        self.assertLess(times[len(times) // 2], 0.2, times)
        log = self.stop_and_read_log()
        self.assertIn(rid, log)
        self.assertLess(log[rid]["us"], 500000, log[rid])


class Unit(unittest.TestCase):

    def test_systemd_unit_exposure(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze is not installed (Debian: "
                          "systemd); the unit's sandbox is not checked")
        for unit in [UNIT.parent / n for n in SANDBOXED_UNITS]:
            p = subprocess.run([tool, "security", "--offline=yes",
                                "--no-pager", str(unit)],
                               capture_output=True, text=True, timeout=60)
            m = re.search(r"Overall exposure level for %s: (\d+\.\d+)"
                          % re.escape(unit.name), p.stdout)
            self.assertIsNotNone(m, "systemd-analyze: exit %d\n%s%s" % (
                p.returncode, p.stdout[-2000:], p.stderr))
            self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE,
                                 "%s is rated %s\n%s" % (
                                     unit.name, m.group(1), p.stdout))


if __name__ == "__main__":
    harness.main()
