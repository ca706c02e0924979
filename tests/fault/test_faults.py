"""Faults under write load: PostgreSQL killed with SIGKILL (one backend, then
the whole cluster) and restarted, danvan itself killed with SIGKILL and
started again, and statements that outlast statement_timeout or the
transaction deadline.

Village clients write concurrently: a submission (client-generated id) with
an attachment, submitted, then reviewed by the commune, every POST under an
Idempotency-Key and retried the way a mobile client retries; then a progress
report on one of the village's assignments (PATCH under If-Match, re-read
and sent again after a 503 or a 412). During the
fault every answer is 503 with Retry-After (never 500, never later than the
request timeout); afterwards the same server answers again by itself; and
the database holds every write that got a 2xx exactly once, and nothing half
written (a submission without its audit event or version row, an attachment
without its audit event).

The test runs its own PostgreSQL cluster (deploy/pg.sh with its own --dir
and --port), so killing it touches no other test. Needs DANVAN_BIN; run it
through tests/run.sh (label fault).
"""

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PG_SH = str(ROOT / "deploy" / "pg.sh")
U = harness.U
VILLAGE = U["thon-1"]          # the demo officer's unit
# The server's bound on one request: its transaction deadline (10 s by
# default) and a statement that was running then (statement_timeout).
REQUEST_BOUND = 12.0
ALLOWED = (200, 201, 503)


class Cluster:
    """A PostgreSQL cluster of this test alone, durable: a throwaway one
    (synchronous_commit off) loses commits it acknowledged when killed, so
    it could not hold danvan to PostgreSQL's promise."""

    def __init__(self):
        self.dir = str(ROOT / "var" / ("fault-pg.%d" % os.getpid()))
        self.port = str(55000 + random.randrange(5000))
        self.env = {}

    def pg(self, *args):
        subprocess.run([PG_SH, args[0], "--dir", self.dir] + list(args[1:]),
                       check=True, stdout=subprocess.DEVNULL)

    def start(self, first=False):
        extra = ["--port", self.port] if first else []
        self.pg("start", *extra)
        out = subprocess.run([PG_SH, "env", "--dir", self.dir], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            self.env[name] = value.strip("'")

    def pids(self):
        """The postmaster's pid and its children's."""
        data = Path(self.dir).resolve() / "data"
        pm = int((data / "postmaster.pid").read_text().split()[0])
        kids = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pm:
                kids.append(int(p.name))
        return pm, kids

    def kill(self):
        """SIGKILL to the postmaster and every process it started."""
        pm, kids = self.pids()
        for pid in [pm] + kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                Path("/proc/%d" % p).exists() for p in [pm] + kids):
            time.sleep(0.05)

    def destroy(self):
        subprocess.run([PG_SH, "destroy", "--dir", self.dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


CL = Cluster()
WORK = Path(CL.dir + ".work")


def setUpModule():
    if not os.environ.get("DANVAN_BIN"):
        sys.stderr.write("error: DANVAN_BIN not set: run through "
                         "tests/run.sh\n")
        sys.exit(1)
    CL.start(first=True)
    WORK.mkdir(parents=True, exist_ok=True)
    creds = str(WORK / "demo-credentials.json")
    env = dict(os.environ, **CL.env)
    env["DANVAN_JWT_SECRET"] = harness.JWT_SECRET
    for args in (["migrate"], ["seed", creds]):
        subprocess.run([os.environ["DANVAN_BIN"]] + args, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    os.environ["DANVAN_TEST_PG_HOST"] = CL.env["DANVAN_PG_HOST"]
    os.environ["DANVAN_TEST_PG_PORT"] = CL.env["DANVAN_PG_PORT"]
    os.environ["DANVAN_SUPER_DATABASE_URL"] = CL.env[
        "DANVAN_SUPER_DATABASE_URL"]
    os.environ["DANVAN_DEMO_CREDENTIALS"] = creds
    harness.run_psql(CL.env["DANVAN_SUPER_DATABASE_URL"],
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = 'danvan' AND pid <> pg_backend_pid()")


def tearDownModule():
    if os.environ.get("DANVAN_FAULT_KEEP"):
        sys.stderr.write("kept the cluster in %s\n" % CL.dir)
        return
    CL.destroy()
    shutil.rmtree(WORK, ignore_errors=True)


class OwnDatabase(harness.Database):
    """The migrated, seeded database itself, not a clone of it: a database
    made by CREATE DATABASE ... TEMPLATE (WAL_LOG, PostgreSQL 15) carries
    its template's sequence pages as they were in memory, so after a crash
    recovery its identity columns handed out again ids it had used
    (audit_events_pkey violated): a trap of the clone, not of danvan."""

    def __init__(self):
        self.host = os.environ["DANVAN_TEST_PG_HOST"]
        self.port = os.environ["DANVAN_TEST_PG_PORT"]
        self.super_url = os.environ["DANVAN_SUPER_DATABASE_URL"]
        self.name = "danvan"
        self.dropped = True

    def drop(self):
        pass


def start_server(db, env=None, port=None):
    """danvan serve on db; on port when given (a restart)."""
    saved = harness.free_port
    if port is not None:
        harness.free_port = lambda: port
    try:
        return harness.Server(db, env).start()
    finally:
        harness.free_port = saved


def kill_server(srv):
    srv.proc.kill()
    srv.proc.wait()
    shutil.rmtree(srv.dir, ignore_errors=True)


class Load:
    """Writers that tell their stories until stopped, each step retried on
    503 and on a dropped connection with its Idempotency-Key; every answer
    recorded."""

    WORKERS = 4

    def __init__(self, test, srv):
        self.test = test
        self.srv = srv          # replaced when the server restarts
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.answers = []       # (t0, t1, step, status, retry_after, code)
        self.errors = []        # (t0, t1, step, exception text)
        self.done = {"create": set(), "submit": set(), "accept": set(),
                     "attach": {}}
        self.tag = harness.tag()
        # Progress reports go to the village's assignments in issued plans,
        # one per writer where there are enough.
        self.assignments = [r[0] for r in test.db.psql(
            "SELECT a.id FROM assignments a JOIN tasks t ON t.id = a.task_id"
            " JOIN plans p ON p.id = t.plan_id WHERE a.unit_id = '%s'"
            " AND p.status = 'issued' ORDER BY a.id" % VILLAGE)]
        test.assertTrue(self.assignments, "no assignment to report on")
        self.versions = {a: int(test.db.psql(
            "SELECT version FROM assignments WHERE id = '%s'" % a)[0][0])
            for a in self.assignments}
        self.audit_from = int(test.db.psql(
            "SELECT coalesce(max(id), 0) FROM audit_events")[0][0])
        self.reported = {a: [0, 0] for a in self.assignments}  # 2xx, 503
        self.threads = [threading.Thread(target=self.worker, args=(i,),
                                         daemon=True)
                        for i in range(self.WORKERS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(120)
            self.test.assertFalse(t.is_alive(), "a writer hangs")

    def answered(self, since=0.0):
        with self.lock:
            return [a for a in self.answers if a[0] >= since]

    def send(self, step, who, method, path, body=None, raw=None,
             headers=None):
        """The first answer that is not 503 (None when given up on);
        self.local.unanswered counts the tries that got 503 or nothing."""
        self.local.unanswered = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                r = harness.call(who, method, path, body=body, raw=raw,
                                 headers=headers, srv=self.srv,
                                 timeout=REQUEST_BOUND + 3)
            except (OSError, harness.http.client.HTTPException) as e:
                with self.lock:
                    self.errors.append((t0, time.monotonic(), step,
                                        "%s: %s" % (type(e).__name__, e)))
                self.local.unanswered += 1
                time.sleep(0.2)
                continue
            t1 = time.monotonic()
            code = None
            if r.status >= 400 and r.content_type.endswith("json"):
                code = r.json().get("type", "").rsplit(":", 1)[-1]
            with self.lock:
                self.answers.append((t0, t1, step, r.status,
                                     r.headers.get("Retry-After"), code))
            if r.status != 503:
                return r
            self.local.unanswered += 1
            time.sleep(0.1 + random.random() * 0.2)
        return None

    def story(self, i):
        sid = str(uuid.uuid4())
        key = lambda step: "%s-%s" % (sid, step)  # noqa: E731
        r = self.send("create", "officer", "POST", "/api/v1/submissions",
                      body={"id": sid, "unit_id": VILLAGE,
                            "kind": "difficulty_report",
                            "title": "Khó khăn %s %d" % (self.tag, i),
                            "body": "Báo cáo từ thôn " * 20},
                      headers={"Idempotency-Key": key("create")})
        if r is None or r.status != 201:
            return
        with self.lock:
            self.done["create"].add(sid)
        data = b"%PDF-1.4\n" + os.urandom(2048) + b"\n%%EOF\n"
        r = self.send("attach", "officer", "POST",
                      "/api/v1/submissions/%s/attachments?filename=anh.pdf"
                      % sid, raw=data,
                      headers={"Content-Type": "application/pdf",
                               "Idempotency-Key": key("attach")})
        if r is None or r.status != 201:
            return
        with self.lock:
            self.done["attach"][r.json()["id"]] = [
                sid, hashlib.sha256(data).hexdigest()]
        for step, who, version in (("submit", "officer", 1),
                                   ("accept", "leader", 2)):
            r = self.send(step, who, "POST", "/api/v1/submissions/%s/%s"
                          % (sid, step),
                          headers={"If-Match": '"%d"' % version,
                                   "Idempotency-Key": key(step)})
            if r is None or r.status != 200:
                return
            with self.lock:
                self.done[step].add(sid)
        self.report(self.assignments[i // 100000 % len(self.assignments)], i)

    def report(self, aid, n):
        """A progress report (PATCH, If-Match): a 412 after a 503 means
        the unanswered one was stored, or another writer's came first."""
        path = "/api/v1/assignments/" + aid
        for _ in range(20):
            r = self.send("read", "officer", "GET", path)
            if r is None or r.status != 200:
                return
            r = self.send("progress", "officer", "PATCH", path,
                          body={"progress": n % 100,
                                "progress_note": "Tiến độ %d" % n},
                          headers={"If-Match": r.headers["ETag"]})
            with self.lock:
                self.reported[aid][1] += self.local.unanswered
                if r is not None and r.status == 200:
                    self.reported[aid][0] += 1
            if r is None or r.status != 412:
                return

    def worker(self, i):
        n = 0
        while not self.stopping.is_set():
            self.story(i * 100000 + n)
            n += 1

    # --- what must hold afterwards ----------------------------------------

    def check_answers(self, bound=REQUEST_BOUND):
        t = self.test
        bad = [a for a in self.answers if a[3] not in ALLOWED and
               (a[2], a[3]) != ("progress", 412)]
        t.assertEqual(bad, [], "answers other than 2xx and 503")
        no_retry = [a for a in self.answers
                    if a[3] == 503 and a[4] is None]
        t.assertEqual(no_retry, [], "503 without Retry-After")
        slow = [a for a in self.answers if a[1] - a[0] > bound]
        t.assertEqual(slow, [], "answers later than %.0f s" % bound)

    def check_database(self, db):
        t = self.test
        rows = db.psql(
            "SELECT s.id, s.status, s.revision,"
            " (SELECT count(*) FROM submission_versions v"
            "   WHERE v.submission_id = s.id),"
            " (SELECT string_agg(e.action, ',' ORDER BY e.id)"
            "   FROM audit_events e WHERE e.entity_id = s.id)"
            " FROM submissions s WHERE s.title LIKE 'Khó khăn %s %%'"
            % self.tag)
        stored = {r[0]: r[1:] for r in rows}
        for sid in self.done["create"]:
            t.assertIn(sid, stored, "a created submission is lost")
        for sid in self.done["submit"]:
            t.assertIn(stored[sid][0], ("submitted", "accepted"), sid)
        for sid in self.done["accept"]:
            t.assertEqual(stored[sid][0], "accepted", sid)
        attached = {r[0]: r[1:] for r in db.psql(
            "SELECT a.id, a.submission_id, a.sha256"
            " FROM attachments a JOIN submissions s ON s.id = a.submission_id"
            " WHERE s.title LIKE 'Khó khăn %s %%'" % self.tag)}
        for aid, (sid, digest) in self.done["attach"].items():
            t.assertEqual(list(attached.get(aid, ())), [sid, digest],
                          "an attachment is lost")
        files = {}
        for sid, digest in attached.values():
            files[sid] = files.get(sid, 0) + 1
        for aid, (answered, unanswered) in self.reported.items():
            # Every report that got a 2xx is there once, with its audit
            # event; one that got no answer is there whole or not at all.
            version = int(db.psql("SELECT version FROM assignments WHERE"
                                  " id = '%s'" % aid)[0][0])
            events = int(db.psql(
                "SELECT count(*) FROM audit_events WHERE entity_id = '%s'"
                " AND action = 'update' AND id > %d"
                % (aid, self.audit_from))[0][0])
            bumps = version - self.versions[aid]
            t.assertEqual(bumps, events, "assignment %s" % aid)
            t.assertGreaterEqual(bumps, answered, "a progress report lost")
            t.assertLessEqual(bumps, answered + unanswered, aid)
        story = ["create", "attach", "submit", "accept"]
        for sid, (status, revision, versions, actions) in stored.items():
            # Whole or absent: each step of the story once, with its audit
            # event; the attachment with the event of its submission; the
            # submit with its version row.
            actions = (actions or "").split(",")
            t.assertEqual(actions, story[:len(actions)],
                          "%s: audit %s" % (sid, actions))
            t.assertEqual(files.get(sid, 0), int("attach" in actions),
                          "%s: %d files, audit %s" % (
                              sid, files.get(sid, 0), actions))
            t.assertEqual(status, {1: "draft", 2: "draft", 3: "submitted",
                                   4: "accepted"}[len(actions)],
                          "%s is %s with audit %s" % (sid, status, actions))
            t.assertEqual(int(revision), int(versions), sid)
            t.assertEqual(int(versions), int("submit" in actions), sid)

    def summary(self):
        by = {}
        for a in self.answers:
            by[a[3]] = by.get(a[3], 0) + 1
        return "answers %s, connection errors %d, stored: %d submissions, " \
            "%d attachments, %d submitted, %d accepted, %d progress " \
            "reports" % (
                dict(sorted(by.items())), len(self.errors),
                len(self.done["create"]), len(self.done["attach"]),
                len(self.done["submit"]), len(self.done["accept"]),
                sum(v[0] for v in self.reported.values()))


def wait_until(what, fn, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.1)
    raise AssertionError("%s within %d s" % (what, seconds))


class Faults(unittest.TestCase):
    def setUp(self):
        self.db = OwnDatabase()
        self.servers = []

    def tearDown(self):
        failed = any(e for _, e in (self._outcome.result.failures +
                                    self._outcome.result.errors))
        for s in self.servers:
            if failed:
                sys.stderr.write("--- danvan stderr, warnings ---\n" + "\n".join(
                    line for line in s.stderr().splitlines()
                    if '"warn"' in line or 'refused' in line)[-8000:] + "\n")
            if s.proc.poll() is None:
                s.stop()
        self.db.drop()

    def serve(self, env=None, port=None):
        s = start_server(self.db, env, port)
        self.servers.append(s)
        # Sign in while the database is up; the tokens outlive a restart.
        for who in ("officer", "leader"):
            harness.token(who, s)
        return s

    def progress(self, load, since, seconds=20):
        wait_until("a write answered 2xx after the fault",
                   lambda: any(a[3] < 300 for a in load.answered(since)),
                   seconds)

    def test_postgres_killed(self):
        srv = self.serve()
        load = Load(self, srv).start()
        self.progress(load, 0)

        # One backend killed: PostgreSQL restarts every backend (crash
        # recovery), and each connection of the server is gone.
        pids = [r[0] for r in self.db.psql(
            "SELECT pid FROM pg_stat_activity WHERE application_name ="
            " 'danvan' AND datname = current_database()", role="super")]
        self.assertTrue(pids)
        os.kill(int(pids[0]), signal.SIGKILL)
        t = time.monotonic()
        self.progress(load, t)

        # The whole cluster killed; down for three seconds.
        CL.kill()
        down = time.monotonic()
        time.sleep(3)
        # Reads, and a sign-in (on the offload threads), are refused alike.
        acct = harness.demo_account("officer")
        for r in (srv.request("GET", "/readyz"),
                  harness.call("leader", "GET", "/api/v1/submissions",
                               srv=srv),
                  harness.login(acct["username"], acct["password"], srv)):
            self.assertEqual(r.status, 503, r.describe())
            self.assertIsNotNone(r.headers.get("Retry-After"), r.describe())
        up = time.monotonic()
        CL.start()
        outage = [a for a in load.answered(down) if a[1] < up]
        self.assertTrue(outage, "no request was made during the outage")
        self.assertEqual([a for a in outage if a[3] != 503], [],
                         "answers during the outage")
        # The same process answers again, by itself (crash recovery and
        # its checkpoint may take a while on a busy machine).
        self.progress(load, time.monotonic(), 45)
        time.sleep(2)
        load.stop()
        self.assertIsNone(srv.proc.poll())
        print("postgres killed: " + load.summary(), file=sys.stderr)
        self.assertEqual(load.errors, [], "connections failed")
        load.check_answers()
        load.check_database(self.db)

    def test_danvan_killed(self):
        srv = self.serve()
        load = Load(self, srv).start()
        for _ in range(3):
            self.progress(load, time.monotonic())
            time.sleep(random.random())
            kill_server(srv)
            time.sleep(0.5)
            srv = self.serve(port=srv.port)
            load.srv = srv
        self.progress(load, time.monotonic())
        load.stop()
        print("danvan killed: " + load.summary(), file=sys.stderr)
        load.check_answers()
        load.check_database(self.db)

    def hold_lock(self, seconds):
        """A session that holds submissions locked for a while."""
        url = harness._with_path(CL.env["DANVAN_SUPER_DATABASE_URL"],
                                 self.db.name)
        p = subprocess.Popen(
            [harness.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
             "BEGIN; LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE;"
             " SELECT pg_sleep(%s); COMMIT;" % seconds],
            stdout=subprocess.DEVNULL)
        wait_until("the lock", lambda: self.db.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c"
            " ON c.oid = l.relation WHERE c.relname = 'submissions'"
            " AND l.mode = 'AccessExclusiveLock' AND l.granted",
            role="super")[0][0] == "1")
        return p

    def locked(self, env, code, seconds):
        # More threads than writers: the probe below is not queued behind
        # the writers that wait on the lock.
        srv = self.serve(dict(env, DANVAN_THREADS=str(Load.WORKERS + 2)))
        load = Load(self, srv).start()
        self.progress(load, 0)
        p = self.hold_lock(seconds)
        t = time.monotonic()
        # A write that surely meets the lock: the load's writers may all be
        # elsewhere then, or waiting behind a read that met it. Its key
        # makes it a transaction (of the key's record and the write), which
        # the transaction's deadline bounds; one statement alone only
        # statement_timeout does.
        r = harness.call("officer", "POST", "/api/v1/submissions", body={
            "id": str(uuid.uuid4()), "unit_id": VILLAGE,
            "kind": "difficulty_report", "title": "Khóa bảng",
            "body": "Gặp khóa"}, srv=srv, timeout=REQUEST_BOUND + 3,
            headers={"Idempotency-Key": str(uuid.uuid4())})
        harness.expect_problem(self, r, 503, code)
        self.assertEqual(r.headers.get("Retry-After"), "1", r.describe())
        p.wait(30)
        self.progress(load, time.monotonic())
        load.stop()
        print("%s: %s" % (code, load.summary()), file=sys.stderr)
        told = [(a[2], a[5]) for a in load.answered()
                if a[3] == 503 and a[1] > t]
        # The load's writers that met it were told why, and came back.
        self.assertLessEqual({c for _, c in told},
                             {"statement_timeout", "request_timeout",
                              "lock_timeout"}, told)
        self.assertEqual(load.errors, [])
        load.check_answers()
        load.check_database(self.db)

    def test_statement_timeout(self):
        self.locked({"DANVAN_STATEMENT_TIMEOUT_MS": "300"},
                    "statement_timeout", 3)

    def test_transaction_deadline(self):
        # Held for less than the key's lock_timeout (2 s): the write gets
        # its row and goes on, past its deadline.
        self.locked({"DANVAN_TRANSACTION_TIMEOUT_MS": "200",
                     "DANVAN_STATEMENT_TIMEOUT_MS": "5000"},
                    "request_timeout", 1.5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
