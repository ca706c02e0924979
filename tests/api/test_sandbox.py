"""The seccomp filter of `danvan serve` (api/core/sandbox.c): on every thread
once the server is serving, off with DANVAN_SECCOMP=0, and what must still
work under it: connecting to PostgreSQL again after the connections were
cut, and uploads. The rest of the API suite runs with the filter on too."""

import os
import time
import unittest

import harness
from harness import U, call, db, ok, srv, tag

setUpModule, tearDownModule = harness.fixtures()


def seccomp_modes(pid):
    """The Seccomp: field of every thread of pid (2: a filter)."""
    modes = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("Seccomp:"):
                    modes[tid] = int(line.split()[1])
    return modes


def wait_for_log(server, text):
    deadline = time.monotonic() + 5
    while text not in server.stderr():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Filter(unittest.TestCase):

    def test_every_thread_is_filtered(self):
        self.assertTrue(wait_for_log(srv(), "seccomp: filter installed"),
                        srv().stderr())
        modes = seccomp_modes(srv().proc.pid)
        self.assertGreater(len(modes), 2)
        self.assertEqual(set(modes.values()), {2}, modes)

    def test_off_switch(self):
        s = harness.Server(db(), {"DANVAN_SECCOMP": "0"}).start()
        try:
            self.assertTrue(wait_for_log(s, "seccomp: off"), s.stderr())
            self.assertEqual(set(seccomp_modes(s.proc.pid).values()), {0})
        finally:
            s.stop()


class UnderTheFilter(unittest.TestCase):

    def test_connects_again_after_the_connections_are_cut(self):
        ok(call("viewer", "GET", "/api/v1/plans?limit=1"))
        db().psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  " WHERE datname = current_database()"
                  " AND usename = 'danvan_app'", role="super")
        # The first request on a cut connection may get 503; within a few
        # every thread has connected again (socket, connect, the handshake).
        statuses = [call("viewer", "GET", "/api/v1/plans?limit=1").status
                    for _ in range(20)]
        self.assertEqual(set(statuses) - {200, 503}, set(), statuses)
        self.assertEqual(statuses[-5:], [200] * 5, statuses)
        self.assertNotIn("seccomp", srv().stderr().replace(
            "seccomp: filter installed", ""))

    def test_upload_and_download(self):
        sub = ok(call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": U["thon-1"], "kind": "difficulty_report",
            "title": "Bien ban hop dan " + tag()}), 201).json()
        data = b"%PDF-1.4\n% " + tag().encode() + b"\n" + b"%" * 3000 + \
            b"\n%%EOF\n"
        att = ok(call("officer", "POST",
                      "/api/v1/submissions/%s/attachments?filename=bb.pdf"
                      % sub["id"], raw=data,
                      headers={"Content-Type": "application/pdf"}),
                 201).json()
        r = ok(call("officer", "GET", "/api/v1/attachments/%s" % att["id"]))
        self.assertEqual(r.body, data)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
