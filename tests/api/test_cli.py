"""The command line against a real database: `user add` (the first
administrator of a deployment), `migrate` run again, `sql NAME`."""

import os
import subprocess
import unittest

import harness
from harness import U, Bearer, call, db

setUpModule, tearDownModule = harness.fixtures()


def danvan(*args, stdin=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANVAN_")}
    env["DANVAN_OWNER_DATABASE_URL"] = db().owner_url
    return subprocess.run([os.environ["DANVAN_BIN"], *args], input=stdin,
                          capture_output=True, text=True, timeout=60, env=env)


class UserAdd(unittest.TestCase):
    def test_new_admin_signs_in(self):
        p = danvan("user", "add", "quang-ngai/binh-chuong", "chutich",
                   "Võ Văn Tâm", "admin", stdin="Mot-cau-mat-khau-dai-2026\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        uid = p.stdout.strip()
        rows = db().psql("SELECT username, role, unit_id, full_name "
                         "FROM users WHERE id = '%s'" % uid)
        self.assertEqual(rows, [("chutich", "admin",
                                 U["commune"],
                                 "Võ Văn Tâm")])
        audit = db().psql("SELECT actor_kind, action FROM audit_events "
                          "WHERE entity_id = '%s'" % uid)
        self.assertEqual(audit, [("system", "create")])
        tok = harness.sign_in("chutich",
                              "Mot-cau-mat-khau-dai-2026")["access_token"]
        r = call(Bearer(tok), "GET", "/api/v1/me")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["unit"]["code"], "binh-chuong")

    def test_refusals_write_nothing(self):
        before = db().psql("SELECT count(*) FROM users")
        cases = [
            (["quang-ngai/binh-chuong", "weakling", "X", "leader"], "short\n",
             "shorter than 10"),
            (["quang-ngai/nowhere", "lost", "X", "leader"],
             "Mot-cau-mat-khau-dai-2026\n", "no unit at"),
            (["quang-ngai", "boss", "X", "emperor"],
             "Mot-cau-mat-khau-dai-2026\n", "unknown role"),
            (["quang-ngai", "admin", "X", "admin"],
             "Mot-cau-mat-khau-dai-2026\n", "user add"),
        ]
        for args, pw, why in cases:
            with self.subTest(args=args):
                p = danvan("user", "add", *args, stdin=pw)
                self.assertEqual(p.returncode, 1, p.stdout)
                self.assertIn(why, p.stderr)
                self.assertNotIn("Mot-cau", p.stderr)
        self.assertEqual(db().psql("SELECT count(*) FROM users"), before)


class Migrate(unittest.TestCase):
    def test_second_run_changes_nothing(self):
        before = db().psql("SELECT version, checksum, applied_at "
                           "FROM schema_migrations ORDER BY version")
        p = danvan("migrate")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0 applied", p.stderr)
        after = db().psql("SELECT version, checksum, applied_at "
                          "FROM schema_migrations ORDER BY version")
        self.assertEqual(before, after)
        self.assertGreaterEqual(len(after), 3)


class Sql(unittest.TestCase):
    def test_prints_named_statements(self):
        p = danvan("sql", "tasks_list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("FROM plans p LEFT JOIN LATERAL", p.stdout)
        p = danvan("sql", "no_such_statement")
        self.assertEqual(p.returncode, 1)


if __name__ == "__main__":
    harness.main()
