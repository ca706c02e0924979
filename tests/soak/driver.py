"""Load for tests/soak/soak.sh: measures the peak of a mix of requests, then
runs the same mix at a fraction of it for a while, watching the server.

The mix, per request: reads (a plan's tasks as the village officer, the plan
list as the viewer), writes (a new submission with an Idempotency-Key),
uploads (a PDF on one of this thread's submissions), bad requests (malformed
JSON, no token, an unknown id, a wrong type) and, at a fixed rate on a thread
of its own, sign-ins (Argon2id is deliberately slow: they are not part of the
paced mix). Every kind has the one status it must get; any other is counted
as unexpected.

Watched once a second: the server's RSS (VmRSS) and open file descriptors
(/proc/PID/fd), and every 5 s its PostgreSQL connections (pg_stat_activity).
Hashing a password takes 64 MiB for a moment, so RSS is judged by the
minimum of each window (30 s in a long run): what the server holds between requests.

Usage: driver.py URL PID CREDENTIALS_JSON PSQL_URL (settings in the
environment, see soak.sh). Prints a report; exits 1 when a criterion fails.
"""

import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

URL, PID, CREDENTIALS, PSQL_URL = sys.argv[1:5]
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
PEAK_SECONDS = int(os.environ.get("SOAK_PEAK_SECONDS", "20"))
FRACTION = float(os.environ.get("SOAK_FRACTION", "0.5"))
THREADS = int(os.environ.get("SOAK_THREADS", "8"))
SIGNIN_EVERY = float(os.environ.get("SOAK_SIGNIN_EVERY", "1.0"))
WARMUP = int(os.environ.get("SOAK_WARMUP", str(max(30, SECONDS // 10))))
CHECK_RSS = os.environ.get("SOAK_CHECK_RSS", "1") == "1"
RSS_TOLERANCE = 0.05
FD_SLACK = 2
# Windows of 30 s, shorter for a short run (at least 6 of them).
WINDOW = max(5, min(30, SECONDS // 6))

COMMUNE_PLAN = "5eed0000-0000-4000-8000-0000000000a2"
THON1 = "5eed0000-0000-4000-8000-000000000021"
u = urllib.parse.urlsplit(URL)
HOST, PORT = u.hostname, u.port

accounts = json.load(open(CREDENTIALS, encoding="utf-8"))


def account(role):
    return [a for a in accounts if a.get("role") == role][0]


class Client:
    """One kept-alive connection; reconnects when the server closes it."""

    def __init__(self):
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            try:
                self.conn.request(method, path, body=body,
                                  headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    return 0, b""
        return 0, b""

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def sign_in(client, who):
    a = account(who)
    status, data = client.request(
        "POST", "/api/v1/auth/token",
        json.dumps({"username": a["username"],
                    "password": a["password"]}).encode(),
        {"Content-Type": "application/json"})
    if status != 200:
        sys.exit("soak: signing in as %s failed: %d %r" % (who, status, data))
    return json.loads(data)["access_token"]


boot = Client()
TOKENS = {r: sign_in(boot, r) for r in ("officer", "viewer")}
boot.close()


def auth(role, extra=None):
    h = {"Authorization": "Bearer " + TOKENS[role]}
    h.update(extra or {})
    return h


def pdf(size=2000):
    head = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"
            b"endobj\n% " + secrets.token_hex(16).encode() + b"\n")
    tail = b"\n%%EOF\n"
    return head + b"%" * (size - len(head) - len(tail)) + tail


def new_submission(c, state):
    status, data = c.request(
        "POST", "/api/v1/submissions",
        json.dumps({"unit_id": THON1, "kind": "progress_report",
                    "title": "Bao cao tien do (soak) " + secrets.token_hex(4),
                    "body": "Thon 1 da hop dan."}).encode(),
        auth("officer", {"Content-Type": "application/json",
                         "Idempotency-Key": "soak-" + uuid.uuid4().hex}))
    if status == 201:
        state["sid"] = json.loads(data)["id"]
        state["files"] = 0
    return status


def upload(c, state):
    if state.get("sid") is None or state["files"] >= 10:
        if new_submission(c, state) != 201:
            return 0
    state["files"] += 1
    return c.request(
        "POST", "/api/v1/submissions/%s/attachments?filename=bien-ban.pdf"
        % state["sid"], pdf(),
        auth("officer", {"Content-Type": "application/pdf"}))[0]


# (name, weight, expected status, function(client, state) -> status)
MIX = [
    ("read_tasks", 30, 200, lambda c, s: c.request(
        "GET", "/api/v1/plans/%s/tasks" % COMMUNE_PLAN,
        headers=auth("officer"))[0]),
    ("read_plans", 20, 200, lambda c, s: c.request(
        "GET", "/api/v1/plans?limit=20", headers=auth("viewer"))[0]),
    ("write", 15, 201, lambda c, s: new_submission(c, s)),
    ("upload", 10, 201, upload),
    ("bad_json", 7, 400, lambda c, s: c.request(
        "POST", "/api/v1/submissions", b'{"unit_id": "',
        auth("officer", {"Content-Type": "application/json",
                         "Idempotency-Key": "soak-" + uuid.uuid4().hex}))[0]),
    ("no_token", 6, 401, lambda c, s: c.request(
        "GET", "/api/v1/plans?limit=1")[0]),
    ("unknown_id", 6, 404, lambda c, s: c.request(
        "GET", "/api/v1/submissions/%s" % uuid.uuid4(),
        headers=auth("officer"))[0]),
    ("wrong_type", 6, 422, lambda c, s: c.request(
        "POST", "/api/v1/submissions",
        json.dumps({"unit_id": THON1, "kind": "progress_report",
                    "title": 42}).encode(),
        auth("officer", {"Content-Type": "application/json",
                         "Idempotency-Key": "soak-" + uuid.uuid4().hex}))[0]),
]
CHOICES = [m for m in MIX for _ in range(m[1])]

lock = threading.Lock()
counts = {}        # name -> [requests, unexpected]
unexpected = {}    # (name, status) -> count


def record(name, expected, status):
    with lock:
        c = counts.setdefault(name, [0, 0])
        c[0] += 1
        if status != expected:
            c[1] += 1
            unexpected[(name, status)] = unexpected.get((name, status), 0) + 1


def worker(stop_at, rate, rng):
    """Requests of the mix until stop_at: as fast as possible (rate None)
    or paced at `rate` per second."""
    c, state = Client(), {}
    next_t = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        if rate is not None:
            if now < next_t:
                time.sleep(min(next_t - now, stop_at - now))
                continue
            next_t += rng.expovariate(rate)
        name, _, expected, fn = rng.choice(CHOICES)
        record(name, expected, fn(c, state))
        n += 1
    c.close()
    return n


def signer(stop_at):
    c, roles = Client(), ["officer", "viewer", "inspector", "leader"]
    i = 0
    while time.monotonic() < stop_at:
        a = account(roles[i % len(roles)])
        i += 1
        status, _ = c.request(
            "POST", "/api/v1/auth/token",
            json.dumps({"username": a["username"],
                        "password": a["password"]}).encode(),
            {"Content-Type": "application/json"})
        record("sign_in", 200, status)
        time.sleep(SIGNIN_EVERY)
    c.close()


def run(seconds, rate_total):
    stop_at = time.monotonic() + seconds
    done = []
    per = None if rate_total is None else rate_total / THREADS

    def go(seed):
        done.append(worker(stop_at, per, random.Random(seed)))
    ts = [threading.Thread(target=go, args=(i,)) for i in range(THREADS)]
    ts.append(threading.Thread(target=signer, args=(stop_at,)))
    t0 = time.monotonic()
    for t in ts:
        t.start()
    return ts, t0, done


def proc_rss_kib():
    with open("/proc/%s/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def proc_fds():
    return len(os.listdir("/proc/%s/fd" % PID))


def pg_connections():
    p = subprocess.run(
        ["psql", "-X", "-qAt", PSQL_URL, "-c",
         "SELECT count(*) FROM pg_stat_activity WHERE usename = 'danvan_app'"],
        capture_output=True, text=True, timeout=30)
    return int(p.stdout.strip()) if p.returncode == 0 else -1


def main():
    print("soak: peak: %d threads, closed loop, %d s" % (THREADS, PEAK_SECONDS))
    ts, t0, done = run(PEAK_SECONDS, None)
    for t in ts:
        t.join()
    peak = sum(done) / (time.monotonic() - t0)
    peak_unexpected = dict(unexpected)
    rate = peak * FRACTION
    print("soak: peak %.1f req/s; soak at %.0f %% of it: %.1f req/s for %d s "
          "(+1 sign-in every %.1f s)" % (peak, FRACTION * 100, rate, SECONDS,
                                          SIGNIN_EVERY))
    with lock:
        counts.clear()
        unexpected.clear()
    ts, t0, done = run(SECONDS, rate)
    samples = []   # (t, rss_kib, fds, pg or None)
    last_pg = None
    while any(t.is_alive() for t in ts):
        t = time.monotonic() - t0
        pg = None
        if not samples or t - last_pg >= 5:
            pg, last_pg = pg_connections(), t
        try:
            samples.append((t, proc_rss_kib(), proc_fds(), pg))
        except OSError:
            print("soak: the server is gone")
            return 1
        time.sleep(1)
    for t in ts:
        t.join()
    elapsed = time.monotonic() - t0
    total = sum(c[0] for c in counts.values())
    bad = sum(c[1] for c in counts.values())

    print("\nsoak: %d requests in %.0f s (%.1f req/s)"
          % (total, elapsed, total / elapsed))
    print("%-12s %9s %11s" % ("kind", "requests", "unexpected"))
    for name in [m[0] for m in MIX] + ["sign_in"]:
        c = counts.get(name, [0, 0])
        print("%-12s %9d %11d" % (name, c[0], c[1]))
    for (name, status), n in sorted(unexpected.items()):
        print("  unexpected: %s got %d, %d times" % (name, status, n))
    for (name, status), n in sorted(peak_unexpected.items()):
        print("  (peak phase) unexpected: %s got %d, %d times"
              % (name, status, n))

    print("\n%8s %12s %6s %6s" % ("window", "min RSS MiB", "fds", "pg"))
    windows = {}
    for t, rss, fds, pg in samples:
        w = windows.setdefault(int(t // WINDOW), [None, 0, 0])
        w[0] = rss if w[0] is None else min(w[0], rss)
        w[1] = max(w[1], fds)
        if pg is not None:
            w[2] = max(w[2], pg)
    for k in sorted(windows):
        rss, fds, pg = windows[k]
        print("%5d-%-3d %12.1f %6d %6d" % (k * WINDOW, (k + 1) * WINDOW,
                                           rss / 1024, fds, pg))
    after = [windows[k] for k in sorted(windows)
             if k * WINDOW >= WARMUP and (k + 1) * WINDOW <= elapsed]
    ok = True
    if not after:
        print("soak: too short to judge after a %d s warm-up" % WARMUP)
        return 1
    rss = [w[0] for w in after]
    growth = (max(rss) - min(rss)) / min(rss)
    first_fds, first_pg = after[0][1], after[0][2]
    fd_growth = max(w[1] for w in after) - first_fds
    pg_growth = max(w[2] for w in after) - first_pg
    print("\nafter the %d s warm-up (%d windows of %d s):" % (
        WARMUP, len(after), WINDOW))
    print("  RSS (window minimum) %.1f .. %.1f MiB: %+.1f %% spread%s" % (
        min(rss) / 1024, max(rss) / 1024, growth * 100,
        "" if CHECK_RSS else " (not judged: sanitizer build)"))
    print("  file descriptors: first window %d, growth %+d" % (first_fds,
                                                              fd_growth))
    print("  PostgreSQL connections: first window %d, growth %+d"
          % (first_pg, pg_growth))
    print("  unexpected statuses: %d of %d" % (bad, total))
    if bad:
        ok = False
        print("FAIL: unexpected statuses")
    if CHECK_RSS and growth > RSS_TOLERANCE:
        ok = False
        print("FAIL: RSS not flat within %d %%" % (RSS_TOLERANCE * 100))
    # A connection being replaced holds one more for a moment.
    if fd_growth > FD_SLACK:
        ok = False
        print("FAIL: file descriptors grew")
    if pg_growth > 0:
        ok = False
        print("FAIL: PostgreSQL connections grew")
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
