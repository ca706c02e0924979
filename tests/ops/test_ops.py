"""Operations rehearsed on real clusters: a hot standby fed by streaming
replication, failover to it with every acknowledged write kept, and a base
backup restored to a point in time.

Each class makes its own clusters with deploy/pg.sh (the shared test
cluster of tests/run.sh only lends its migrated, seeded `danvan` database,
copied with pg_dump, so the demo accounts sign in as in the API tests) and
runs the real binary against them.
"""

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "api"))

import harness  # noqa: E402
from harness import CHECK, U, call, ok, run_psql  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
PG_SH = str(ROOT / "deploy" / "pg.sh")
THON1 = U["thon-1"]


def sh(*cmd, timeout=180):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("%s exited %d\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


class Cluster:
    """A cluster of deploy/pg.sh in a directory of its own."""

    def __init__(self, root, name, *args):
        self.dir = os.path.join(root, name)
        self.port = harness.free_port()
        sh(PG_SH, "start", "--throwaway", "--dir", self.dir,
           "--port", str(self.port), *args)

    @property
    def host(self):
        return os.path.realpath(self.dir) + "/run"

    def url(self, role="danvan_app", db="danvan"):
        return "postgresql://%s@/%s?host=%s&port=%d" % (
            role, db, urllib.parse.quote(self.host, safe="/"), self.port)

    @property
    def app_url(self):  # what harness.Server reads
        return self.url()

    def sql(self, statement, role="postgres"):
        return run_psql(self.url(role), statement)

    def one(self, statement, role="postgres"):
        return self.sql(statement, role)[0][0]

    def postmaster(self):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def kill(self):
        """SIGKILL the postmaster, as a failed machine would stop it."""
        os.kill(self.postmaster(), signal.SIGKILL)
        for _ in range(100):
            if subprocess.run([PG_BIN + "/pg_isready", "-q", "-h", self.host,
                               "-p", str(self.port)]).returncode != 0:
                return
            time.sleep(0.05)
        raise AssertionError("the cluster in %s still answers" % self.dir)

    def destroy(self):
        subprocess.run([PG_SH, "destroy", "--dir", self.dir],
                       capture_output=True, timeout=120)


def load_demo(cluster):
    """Copy the migrated, seeded template database into `cluster`."""
    src = harness._with_path(os.environ["DANVAN_SUPER_DATABASE_URL"],
                             "danvan")
    dump = subprocess.run([PG_BIN + "/pg_dump", "-w",
                           "--no-comments", src], capture_output=True,
                          timeout=120, check=True).stdout
    p = subprocess.run([PG_BIN + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        cluster.url("postgres")], input=dump,
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("loading the demo database failed\n%s"
                             % p.stderr.decode(errors="replace")[-2000:])


def caught_up(primary, standby, timeout=30):
    """Wait until the standby has replayed everything the primary wrote."""
    lsn = primary.one("SELECT pg_current_wal_insert_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if standby.one("SELECT pg_last_wal_replay_lsn() >= '%s'" % lsn) == "t":
            return
        time.sleep(0.05)
    raise AssertionError("the standby did not replay %s in %d s"
                         % (lsn, timeout))


def submission(who, server, sid=None):
    body = {"id": sid or str(uuid.uuid4()), "unit_id": THON1,
            "kind": "difficulty_report",
            "title": "Khó khăn khi vận động " + secrets.token_hex(4),
            "body": "Một số hộ chưa đồng thuận."}
    return call(who, "POST", "/api/v1/submissions", body=body, srv=server,
                headers={"Idempotency-Key": "ops-" + body["id"]})


def attach(who, server, sid, data):
    return call(who, "POST", "/api/v1/submissions/%s/attachments?filename="
                "bien-ban.pdf" % sid, raw=data, srv=server,
                headers={"Content-Type": "application/pdf"})


def pdf(size=3000):
    return b"%PDF-1.7\n" + secrets.token_bytes(size) + b"\n%%EOF\n"


class Fixture(unittest.TestCase):
    """A temporary root for the clusters, removed with them."""

    @classmethod
    def setUpClass(cls):
        harness.require_env(harness.IDENTITY_ENV)
        cls.root = tempfile.mkdtemp(prefix="danvan-ops-")
        os.chmod(cls.root, 0o755)  # the postgres user writes backups here
        cls.clusters = []
        cls.servers = []

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            if s.proc is not None and s.proc.poll() is None:
                s.stop()
        for c in reversed(cls.clusters):
            c.destroy()
        shutil.rmtree(cls.root, ignore_errors=True)

    @classmethod
    def cluster(cls, name, *args):
        c = Cluster(cls.root, name, *args)
        cls.clusters.append(c)
        return c

    @classmethod
    def server(cls, db, env=None):
        s = harness.Server(db, env).start()
        cls.servers.append(s)
        return s


class Standby(Fixture):
    """A hot standby follows the primary through its replication slot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.primary = cls.cluster("primary")
        load_demo(cls.primary)
        cls.standby = cls.cluster("standby", "--standby-of",
                                  cls.primary.dir)
        cls.api = cls.server(cls.primary)

    def test_a_write_on_the_primary_is_read_on_the_standby(self):
        doc = ok(submission("officer", self.api), 201).json()
        caught_up(self.primary, self.standby)
        rows = self.standby.sql("SELECT title FROM submissions WHERE id = '%s'"
                                % doc["id"], role="danvan_owner")
        self.assertEqual(rows, [(doc["title"],)])

    def test_it_streams_through_its_slot_and_refuses_writes(self):
        slot = self.primary.sql(
            "SELECT slot_name, active FROM pg_replication_slots")
        self.assertEqual(slot, [("danvan_standby", "t")])
        state = self.primary.sql(
            "SELECT application_name, state FROM pg_stat_replication")
        self.assertEqual(state, [("danvan_standby", "streaming")])
        self.assertEqual(self.standby.one("SELECT pg_is_in_recovery()"), "t")
        with self.assertRaises(harness.PsqlError) as e:
            self.standby.sql("UPDATE units SET name = name", "danvan_owner")
        self.assertIn("read-only transaction", e.exception.stderr)


RUBRIC = "5eed0000-0000-4000-8000-000000000741"


def metric(server, name):
    text = server.request("GET", "/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no %s in /metrics" % name)


class ReadReplica(Fixture):
    """Report reads go to the standby named by DANVAN_READ_DATABASE_URL,
    with its lag in a header, and to the primary while it is behind or
    down; writes never go to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.primary = cls.cluster("primary")
        load_demo(cls.primary)
        cls.standby = cls.cluster("standby", "--standby-of",
                                  cls.primary.dir)
        cls.api = cls.server(cls.primary, {
            "DANVAN_READ_DATABASE_URL": cls.standby.app_url,
            "DANVAN_READ_MAX_LAG_MS": "800"})

    def rename(self, name):
        """Rename a ranked unit on the primary; the ranking shows it."""
        row = self.primary.sql(
            "UPDATE units SET name = '%s' WHERE id = (SELECT unit_id FROM "
            "score_sheets WHERE rubric_id = '%s' ORDER BY unit_id LIMIT 1) "
            "RETURNING id" % (name, RUBRIC), "danvan_owner")
        return row[0][0]

    def ranked_names(self):
        r = ok(call("leader", "GET", "/api/v1/rubrics/%s/ranking" % RUBRIC,
                    srv=self.api))
        return r, {u["unit_name"] for u in r.json()["items"]}

    def test_1_reports_read_the_standby_after_catch_up(self):
        name = "Phòng đổi tên " + secrets.token_hex(3)
        self.rename(name)
        caught_up(self.primary, self.standby)
        before = metric(self.api, "danvan_replica_reads_total")
        r, names = self.ranked_names()
        self.assertIn(name, names)
        lag = int(r.headers.get("X-Replica-Lag-Ms"))
        self.assertGreaterEqual(lag, 0)
        self.assertLessEqual(lag, 800)
        self.assertEqual(metric(self.api, "danvan_replica_reads_total"),
                         before + 1)
        # The province's reports read it too.
        rep = ok(call("service", "GET", "/api/v1/reports/obligations",
                      srv=self.api))
        self.assertIn("X-Replica-Lag-Ms", rep.headers)
        self.assertTrue(rep.json()["rows"])
        # The standby's sessions are danvan's own.
        apps = self.standby.sql("SELECT count(*) FROM pg_stat_activity "
                                "WHERE application_name = 'danvan'")
        self.assertGreaterEqual(int(apps[0][0]), 1)

    def test_1b_the_change_feed_follows_the_standby(self):
        first = ok(call("officer", "GET", "/api/v1/changes?limit=200",
                        srv=self.api))
        self.assertIn("X-Replica-Lag-Ms", first.headers)
        cursor = first.json()["next_cursor"]
        while first.json()["has_more"]:
            first = ok(call("officer", "GET", "/api/v1/changes?limit=200&"
                            "since=" + cursor, srv=self.api))
            cursor = first.json()["next_cursor"]
        result = {}

        def follow():
            t0 = time.monotonic()
            r = call("officer", "GET", "/api/v1/changes?wait=20&since="
                     + cursor, srv=self.api, timeout=30)
            result.update(resp=r, took=time.monotonic() - t0)

        t = threading.Thread(target=follow)
        t.start()
        time.sleep(0.5)
        sid = ok(submission("officer", self.api), 201).json()["id"]
        t.join(30)
        r = ok(result["resp"])
        self.assertLess(result["took"], 10, "wait= did not wake")
        self.assertIn(sid, [i["id"] for i in r.json()["items"]])
        self.assertEqual(len(r.headers.get_all("X-Replica-Lag-Ms")), 1)

    def test_2_writes_go_to_the_primary(self):
        r = ok(submission("officer", self.api), 201)
        self.assertNotIn("X-Replica-Lag-Ms", r.headers)
        self.assertEqual(self.primary.one(
            "SELECT count(*) FROM submissions WHERE id = '%s'"
            % r.json()["id"], "danvan_owner"), "1")

    def test_3_a_standby_too_far_behind_is_passed_over(self):
        self.standby.sql("SELECT pg_wal_replay_pause()")
        try:
            name = "Phòng chờ " + secrets.token_hex(3)
            self.rename(name)
            time.sleep(2.2)  # past the bound, and past the lag re-check
            fell = metric(self.api, "danvan_replica_fallbacks_total")
            for _ in range(4):  # every thread has measured by now
                r, names = self.ranked_names()
            self.assertIn(name, names)
            self.assertNotIn("X-Replica-Lag-Ms", r.headers)
            self.assertGreater(
                metric(self.api, "danvan_replica_fallbacks_total"), fell)
            self.assertGreater(
                metric(self.api, "danvan_replica_lag_seconds"), 0.8)
        finally:
            self.standby.sql("SELECT pg_wal_replay_resume()")

    def test_4_reports_are_served_with_the_standby_down(self):
        sh(PG_SH, "stop", "--dir", self.standby.dir)
        try:
            name = "Phòng khi hỏng " + secrets.token_hex(3)
            self.rename(name)
            for _ in range(6):
                r, names = self.ranked_names()
                self.assertIn(name, names)
                self.assertNotIn("X-Replica-Lag-Ms", r.headers)
                rep = ok(call("service", "GET", "/api/v1/reports/scores",
                              srv=self.api))
                self.assertNotIn("X-Replica-Lag-Ms", rep.headers)
        finally:
            sh(PG_SH, "start", "--dir", self.standby.dir)


class Failover(Fixture):
    """The primary fails under write load; the synchronous standby is
    promoted and danvan pointed at it: every write that was acknowledged is
    there, once, with its attachment."""

    WRITERS = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.primary = cls.cluster("primary")
        load_demo(cls.primary)
        cls.standby = cls.cluster("standby", "--standby-of",
                                  cls.primary.dir, "--sync")

    def test_every_acknowledged_write_survives_the_promotion(self):
        self.assertEqual(self.primary.one("SHOW synchronous_standby_names"),
                         "danvan_standby")
        api = self.server(self.primary)
        harness.token("officer", api)
        acked, lock, stop = {}, threading.Lock(), threading.Event()
        statuses = []

        def writer():
            while not stop.is_set():
                data = pdf()
                r = submission("officer", api)
                statuses.append(r.status)
                if r.status != 201:
                    continue
                sid = r.json()["id"]
                a = attach("officer", api, sid, data)
                statuses.append(a.status)
                with lock:
                    acked[sid] = hashlib.sha256(data).hexdigest() \
                        if a.status == 201 else None

        threads = [threading.Thread(target=writer) for _ in
                   range(self.WRITERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.primary.kill()
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        self.assertGreaterEqual(len(acked), 20, statuses)
        # While the database is gone, writes are refused, not half done.
        self.assertTrue(set(statuses) <= {201, 503}, sorted(set(statuses)))

        sh(PG_SH, "promote", "--dir", self.standby.dir)
        api.stop()
        moved = self.server(self.standby)
        for sid, digest in acked.items():
            ok(call("officer", "GET", "/api/v1/submissions/" + sid,
                    srv=moved))
            n = self.standby.one("SELECT count(*) FROM submissions WHERE "
                                 "id = '%s'" % sid, "danvan_owner")
            self.assertEqual(n, "1")
            if digest is not None:
                files = self.standby.sql(
                    "SELECT encode(sha256(data), 'hex') FROM attachments "
                    "WHERE submission_id = '%s'" % sid, "danvan_owner")
                self.assertEqual(files, [(digest,)])
        # The promoted standby takes writes.
        ok(submission("officer", moved), 201)


class BackupRestore(Fixture):
    """A base backup plus archived WAL restores to a point in time: what
    was acknowledged before it is there with its attachment, what came
    after is not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.archive = os.path.join(cls.root, "archive")
        cls.primary = cls.cluster("primary", "--archive", cls.archive)
        load_demo(cls.primary)

    def test_point_in_time_restore(self):
        api = self.server(self.primary)
        backups = os.path.join(self.root, "backups")
        base = sh(str(ROOT / "deploy" / "backup.sh"), "--dir",
                  self.primary.dir, "--to", backups).strip()
        self.assertTrue(os.path.isfile(os.path.join(base, "backup_manifest")))

        before_data = pdf()
        before = ok(submission("officer", api), 201).json()["id"]
        ok(attach("officer", api, before, before_data), 201)
        time.sleep(1.1)
        point = self.primary.one("SELECT clock_timestamp()")
        time.sleep(1.1)
        after = ok(submission("officer", api), 201).json()["id"]
        ok(attach("officer", api, after, pdf()), 201)
        wal = self.primary.one(
            "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
        self.primary.sql("SELECT pg_switch_wal()")
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(self.archive, wal)):
            self.assertLess(time.monotonic(), deadline,
                            "WAL %s was not archived" % wal)
            time.sleep(0.1)

        restored_dir = os.path.join(self.root, "restored")
        port = harness.free_port()
        sh(str(ROOT / "deploy" / "restore.sh"), "--backup", base,
           "--archive", self.archive, "--dir", restored_dir,
           "--port", str(port), "--to-time", point)
        restored = Cluster.__new__(Cluster)
        restored.dir, restored.port = restored_dir, port
        self.clusters.append(restored)
        self.assertEqual(restored.one("SELECT pg_is_in_recovery()"), "f")

        api2 = self.server(restored)
        ok(call("officer", "GET", "/api/v1/submissions/" + before, srv=api2))
        files = ok(call("officer", "GET", "/api/v1/submissions/%s/attachments"
                        % before, srv=api2)).json()["items"]
        self.assertEqual(len(files), 1)
        got = ok(call("officer", "GET", "/api/v1/attachments/"
                      + files[0]["id"], srv=api2))
        self.assertEqual(got.body, before_data)
        r = call("officer", "GET", "/api/v1/submissions/" + after, srv=api2)
        CHECK.assertEqual(r.status, 404, r.describe())
        # The restored cluster is a primary that takes writes.
        ok(submission("officer", api2), 201)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
