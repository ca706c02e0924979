"""Two API nodes behind the real nginx, with deploy/nginx/danvan.conf.

Both nodes run the real binary against one database; nginx is started with
the committed configuration, its upstream given the two nodes, its ports,
paths and certificate made for the test and its per-address rate raised so
the load is not refused. One node is killed with SIGKILL under load: the
only failed requests are writes that were in flight on it, every retry with
the same Idempotency-Key lands once, and sign-in throttling counts across
both nodes (it lives in PostgreSQL, like the idempotency records).
"""

import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import http.client
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "api"))

import harness  # noqa: E402
from harness import U  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
THON1 = U["thon-1"]


def render(conf, nodes, http_port, https_port, d):
    """deploy/nginx/danvan.conf for this test: the nodes, ports and files."""
    up = "".join("    server 127.0.0.1:%d max_fails=1 fail_timeout=5s;\n" % p
                 for p in nodes)
    out, n = re.subn(r"(upstream danvan \{\n)(?:    #? ?server [^\n]*\n)+",
                     lambda m: m.group(1) + up, conf)
    assert n == 1, "no upstream block in danvan.conf"
    subs = [
        (r"listen 80;", "listen 127.0.0.1:%d;" % http_port),
        (r"listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;"
         % https_port),
        (r"\n\s*listen \[::\]:[^\n]*", ""),
        (r"/etc/danvan/tls/", d + "/"),
        (r"/var/log/nginx/", d + "/"),
        (r"root /var/www/acme;", "root %s;" % d),
        (r"rate=20r/s", "rate=5000r/s"),
        (r"rate=10r/m", "rate=600r/m"),
    ]
    for pat, rep in subs:
        out, n = re.subn(pat, rep, out)
        assert n >= 1, "danvan.conf no longer has %r" % pat
    return out


class Nginx:
    def __init__(self, nodes):
        self.dir = tempfile.mkdtemp(prefix="danvan-nginx-")
        self.http_port = harness.free_port()
        self.port = harness.free_port()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", self.dir + "/privkey.pem",
             "-out", self.dir + "/fullchain.pem"],
            check=True, capture_output=True, timeout=60)
        with open(ROOT / "deploy" / "nginx" / "danvan.conf") as f:
            site = render(f.read(), nodes, self.http_port, self.port,
                          self.dir)
        with open(self.dir + "/danvan.conf", "w") as f:
            f.write(site)
        d = self.dir
        with open(d + "/nginx.conf", "w") as f:
            f.write("daemon off;\nworker_processes 1;\npid %s/nginx.pid;\n"
                    "error_log %s/error.log warn;\nevents { worker_connections"
                    " 512; }\nhttp {\n  client_body_temp_path %s/body;\n"
                    "  proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fcgi;"
                    "\n  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n"
                    "  include %s/danvan.conf;\n}\n" % ((d,) * 8))
        self.proc = subprocess.Popen(
            [NGINX, "-p", d, "-c", d + "/nginx.conf", "-e",
             d + "/error.log"], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.request("GET", "/healthz")
                break
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise AssertionError("nginx did not start:\n%s" % (
                        self.proc.stderr.read().decode(errors="replace")))
                time.sleep(0.1)

    def request(self, method, path, body=None, headers=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx,
                                        timeout=15)
        try:
            h = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, r.read(), dict(r.getheaders())
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class TwoNodes(unittest.TestCase):
    WRITERS = 4

    @classmethod
    def setUpClass(cls):
        harness.require_env(harness.IDENTITY_ENV)
        cls.db = harness.Database()
        env = {"DANVAN_TRUST_PROXY": "1"}
        cls.nodes = [harness.Server(cls.db, env).start() for _ in range(2)]
        # new_user() and login() act through the harness's module state.
        harness._db, harness._server = cls.db, cls.nodes[0]
        cls.edge = Nginx([n.port for n in cls.nodes])
        acct = harness.demo_account("officer")
        status, body, _ = cls.edge.request(
            "POST", "/api/v1/auth/token",
            {"username": acct["username"], "password": acct["password"]})
        assert status == 200, body
        cls.auth = {"Authorization": "Bearer "
                    + json.loads(body)["access_token"]}

    @classmethod
    def tearDownClass(cls):
        cls.edge.stop()
        for n in cls.nodes:
            if n.proc.poll() is None:
                n.stop()
        cls.db.drop()

    def create(self, sid):
        body = {"id": sid, "unit_id": THON1, "kind": "difficulty_report",
                "title": "Khó khăn " + sid[:8], "body": "Qua hai máy chủ."}
        h = dict(self.auth)
        h["Idempotency-Key"] = "nodes-" + sid
        return self.edge.request("POST", "/api/v1/submissions", body, h)

    def test_1_both_nodes_serve(self):
        before = [len(n.access_log()) for n in self.nodes]
        for _ in range(20):
            status, _, _ = self.edge.request("GET", "/api/v1/me",
                                             headers=self.auth)
            self.assertEqual(status, 200)
        time.sleep(0.5)
        served = [len(n.access_log()) - b for n, b in zip(self.nodes, before)]
        self.assertTrue(all(s > 0 for s in served), served)

    def test_2_throttling_is_shared_by_the_nodes(self):
        user = harness.new_user(THON1, "officer", signed_in=False)
        limit = 5  # DANVAN_LOGIN_LIMIT's default
        statuses = [self.edge.request(
            "POST", "/api/v1/auth/token",
            {"username": user.username, "password": "sai-" + str(i)})[0]
            for i in range(limit)]
        self.assertEqual(statuses, [401] * limit)
        # Both nodes took some of them, and now refuse the right password.
        for n in self.nodes:
            r = harness.login(user.username, user.password, srv=n)
            self.assertEqual(r.status, 429, r.describe())

    def test_3_a_node_killed_under_load(self):
        results, lock, stop = [], threading.Lock(), threading.Event()
        killed = threading.Event()

        def work():
            while not stop.is_set():
                sid = str(uuid.uuid4())
                during = killed.is_set()
                t0 = time.monotonic()
                s1 = self.edge.request("GET", "/api/v1/me",
                                       headers=self.auth)[0]
                t1 = time.monotonic()
                s2 = self.create(sid)[0]
                t2 = time.monotonic()
                with lock:
                    results.append((sid, s1, s2, during,
                                    round(t1 - t0, 3), round(t2 - t1, 3)))

        threads = [threading.Thread(target=work) for _ in
                   range(self.WRITERS)]
        for t in threads:
            t.start()
        def until(n):  # by count, not by time: the machine may be slow
            deadline = time.monotonic() + 60
            while len(results) < n and time.monotonic() < deadline:
                time.sleep(0.02)

        until(12)
        victim = self.nodes[1]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        killed.set()
        until(len(results) + 12 + self.WRITERS)
        stop.set()
        for t in threads:
            t.join(30)

        reads = [r[1] for r in results]
        writes = [r[2] for r in results]
        self.assertGreaterEqual(len(results), 28, "too little load to tell: "
                                "%r" % results)
        # Reads are retried on the other node: none fails.
        self.assertEqual(set(reads), {200}, reads)
        # Only writes in flight on the killed node fail, at most one per
        # client, and as 503 problems (nginx's), never another status.
        failed = [r for r in results if r[2] != 201]
        self.assertLessEqual(len(failed), self.WRITERS, failed)
        self.assertTrue({r[2] for r in failed} <= {502, 503}, failed)
        # After the kill, everything goes to the live node.
        after = [r for r in results if r[3]]
        self.assertTrue(after and all(r[2] == 201 for r in after[
            self.WRITERS:]), after)
        # The client retries the failed writes with the same key: each is
        # stored once, and nothing is stored twice.
        for sid, *_ in failed:
            self.assertIn(self.create(sid)[0], (200, 201))
        ids = [r[0] for r in results]
        rows = self.db.psql(
            "SELECT id, count(*) FROM submissions WHERE id IN (%s) GROUP BY id"
            % ",".join("'%s'" % i for i in ids))
        self.assertEqual(len(rows), len(ids))
        self.assertTrue(all(n == "1" for _, n in rows), rows)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
