"""The words of the API in the database. The lists of values the server
accepts (`danvan enums`, from api/resources/vocab.c and api/auth/perm.c) are
the source; each stored one equals the CHECK constraint of its column, and
the unit groups equal unit_groups(), by which group_units() expands them.
Needs only a migrated database, no server."""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Each list the server stores, and the column whose CHECK must equal it.
STORED = {
    "unit_kind": "units.kind",
    "user_role": "users.role",
    "plan_status": "plans.status",
    "milestone_kind": "milestones.kind",
    "task_schedule": "tasks.schedule",
    "assignment_role": "assignments.role",
    "assignment_status": "assignments.status",
    "submission_kind": "submissions.kind",
    "submission_status": "submissions.status",
    "model_field": "models.field",
    "model_status": "models.status",
    "inspection_plan_status": "inspection_plans.status",
    "inspection_kind": "inspections.kind",
    "inspection_status": "inspections.status",
    "inspection_team_role": "inspection_members.role",
    "finding_severity": "findings.severity",
    "recommendation_status": "recommendations.status",
}
# Lists accepted in one place only: part of a stored list.
SUBSETS = {
    "plan_import_status": "plan_status",
    "model_own_step": "model_status",
}
# Lists never stored: the obligations query computes the state.
COMPUTED = {"obligation_state"}
# Lists of how to answer, never data: the form of a table, how a report
# groups its rows.
FORMS = {"export_format", "report_group_by"}
GROUPS = "unit_group"

db = None


def setUpModule():
    global db
    harness.require_env()
    db = harness.Database()


def tearDownModule():
    if db is not None:
        db.drop()


def server_lists():
    p = subprocess.run([os.environ["DANVAN_BIN"], "enums"],
                       capture_output=True, text=True, timeout=30,
                       check=True, stdin=subprocess.DEVNULL)
    return {name: values.split(",") for name, _, values in
            (line.partition("\t") for line in p.stdout.splitlines())}


def check_values(column):
    """The values the single-column CHECK constraints on table.column allow
    (an IN list, which PostgreSQL keeps as = ANY (ARRAY[...]))."""
    table, col = column.split(".")
    defs = [d for (d,) in db.psql(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid"
        " AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'c' AND c.conrelid = '%s'::regclass"
        " AND a.attname = '%s' AND cardinality(c.conkey) = 1"
        % (table, col))]
    lists = [re.findall(r"'((?:[^']|'')*)'::text", d) for d in defs
             if "ANY (ARRAY[" in d]
    if len(lists) != 1:
        raise AssertionError("%s: expected one CHECK with a list of values,"
                             " found %r" % (column, defs))
    return [v.replace("''", "'") for v in lists[0]]


class Vocabularies(unittest.TestCase):

    def setUp(self):
        self.lists = server_lists()

    def test_every_list_is_accounted_for(self):
        known = set(STORED) | set(SUBSETS) | COMPUTED | FORMS | {GROUPS}
        self.assertEqual(set(self.lists), known,
                         "a list of `danvan enums` that this test does not "
                         "hold to the schema, or one that is gone")

    def test_stored_lists_equal_their_check_constraints(self):
        problems = []
        for name, column in sorted(STORED.items()):
            allowed = check_values(column)
            if sorted(allowed) != sorted(self.lists[name]):
                problems.append("%s: the server accepts %s, %s allows %s"
                                % (name, self.lists[name], column, allowed))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_subsets_lie_inside_their_list(self):
        for name, whole in SUBSETS.items():
            with self.subTest(name=name):
                self.assertLessEqual(set(self.lists[name]),
                                     set(self.lists[whole]))

    def test_groups_equal_unit_groups(self):
        rows = db.psql("SELECT grp, kind FROM unit_groups()")
        self.assertEqual(sorted({g for g, _ in rows}),
                         sorted(self.lists[GROUPS]))
        self.assertLessEqual({k for _, k in rows},
                             set(self.lists["unit_kind"]))

    def test_group_units_expands_by_unit_groups(self):
        commune = harness.SEED_UNITS["commune"]
        children = db.psql(
            "SELECT kind, id FROM units WHERE parent_id = '%s' AND active"
            " ORDER BY code" % commune)
        for group in self.lists[GROUPS]:
            with self.subTest(group=group):
                kinds = {k for (k,) in db.psql(
                    "SELECT kind FROM unit_groups() WHERE grp = '%s'"
                    % group)}
                got = db.psql("SELECT group_units('%s', '%s')"
                              % (commune, group))
                want = [(i,) for k, i in children if k in kinds]
                self.assertTrue(want, "the demo commune has no %s" % group)
                self.assertEqual(got, want)
        self.assertEqual(db.psql("SELECT group_units('%s', NULL)"
                                 % commune), [])


if __name__ == "__main__":
    harness.main()
