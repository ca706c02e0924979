"""The change feed over HTTP: 8 writers changing units and models at once
while a reader follows the feed, every change then found exactly once, in
the order of the feed table and with each entity's versions rising;
deletes as tombstones; the entity as its GET shows it; scope (a village
never sees another village's units, and a unit moved out of its subtree
arrives as a delete); tampered and foreign cursors, unknown types and
limits; wait= answering as soon as a change commits, timing out with an
empty page, and many waiters holding no worker thread."""

import subprocess
import threading
import time
import unittest
import uuid

import harness
from harness import CHECK, U, call, db, ok, srv, tag

MAX_WAITERS = 40


def build():
    harness.new_user(U["thon-2"], "officer", "thon2", "Cán bộ Thôn 2",
                     name="thon2")
    for role in ("admin", "officer", "viewer", "leader"):
        harness.token(role)


setUpModule, tearDownModule = harness.fixtures(
    build, env={"DANVAN_MAX_WAITERS": str(MAX_WAITERS)})


def feed(who, since=None, status=200, **query):
    q = dict(query)
    if since is not None:
        q["since"] = since
    path = "/api/v1/changes"
    if q:
        path += "?" + "&".join("%s=%s" % kv for kv in q.items())
    return ok(call(who, "GET", path, timeout=40), status)


def follow(who, since=None, **query):
    """Every item after since, and the cursor at the end."""
    settle()
    items = []
    while True:
        page = feed(who, since, limit=200, **query).json()
        items += page["items"]
        since = page["next_cursor"]
        if not page["has_more"] and not page["items"]:
            return items, since


def settled():
    """True when every change written so far is served: the feed serves
    only below the oldest transaction still running in the cluster, and
    the other test modules share the cluster."""
    return db().psql(
        "SELECT pg_snapshot_xmin(pg_current_snapshot()) >"
        " coalesce((SELECT max(xid) FROM changes), '0')")[0][0] == "t"


def settle(timeout=30):
    deadline = time.monotonic() + timeout
    while not settled():
        if time.monotonic() > deadline:
            raise AssertionError("changes still held back after %d s"
                                 % timeout)
        time.sleep(0.05)
    return time.monotonic()


def head(who):
    settle()
    return follow(who)[1]


def new_unit(parent="commune", who="admin"):
    return ok(call(who, "POST", "/api/v1/units", body={
        "parent_id": U.get(parent, parent), "kind": "office",
        "code": "u-" + tag(), "name": "Đơn vị " + tag()}), 201).json()


def patch_unit(unit, who="admin", **changes):
    return ok(call(who, "PATCH", "/api/v1/units/" + unit["id"],
                   body=changes or {"name": "Đổi tên " + tag()},
                   headers={"If-Match": '"%d"' % unit["version"]})).json()


def delete_unit(unit, who="admin"):
    ok(call(who, "DELETE", "/api/v1/units/" + unit["id"],
            headers={"If-Match": '"%d"' % unit["version"]}), 204)


def recorded(ids):
    """The feed table's rows of these entities, in the feed's order."""
    rows = db().psql(
        "SELECT entity_id, version, op FROM changes WHERE entity_id IN (%s)"
        " ORDER BY xid, seq" % ",".join("'%s'" % i for i in ids))
    return [(r[0], int(r[1]), r[2]) for r in rows]


class ConcurrentWriters(unittest.TestCase):
    def test_every_change_exactly_once_in_commit_order(self):
        start = head("admin")
        done = threading.Event()
        seen, errors = [], []
        made = []           # (id, version, op) as the writers saw them
        lock = threading.Lock()

        def reader():
            since = start
            try:
                while True:
                    finished = done.is_set()
                    page = feed("admin", since, limit=37, wait=1).json()
                    seen.extend(page["items"])
                    since = page["next_cursor"]
                    if finished and not page["items"] and \
                            not page["has_more"]:
                        return
            except Exception as e:          # reported below
                errors.append(e)

        def writer(n):
            try:
                for i in range(6):
                    u = new_unit("commune" if n % 2 else "phong-vh-xh")
                    log = [(u["id"], u["version"], "upsert")]
                    if i % 2 == 0:
                        # Only a unit with no history but its creation
                        # may be deleted.
                        delete_unit(u)
                        log.append((u["id"], u["version"], "delete"))
                    else:
                        for _ in range(2):
                            u = patch_unit(u)
                            log.append((u["id"], u["version"], "upsert"))
                    if n % 4 == 0:
                        m = ok(call("officer", "POST", "/api/v1/models",
                                    body={"unit_id": U["thon-1"],
                                          "name": "Mô hình " + tag(),
                                          "field": "culture_society",
                                          "description": "Cùng làm.",
                                          "expected_results": "Tốt."}),
                               201).json()
                        log.append((m["id"], m["version"], "upsert"))
                    with lock:
                        made.extend(log)
            except Exception as e:
                errors.append(e)

        r = threading.Thread(target=reader)
        r.start()
        writers = [threading.Thread(target=writer, args=(n,))
                   for n in range(8)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        settle()
        done.set()
        r.join(60)
        self.assertFalse(r.is_alive(), "the reader did not finish")
        self.assertEqual(errors, [])

        ids = {m[0] for m in made}
        table = recorded(ids)
        # The triggers wrote every change the writers made, and no other.
        self.assertEqual(sorted(table), sorted(made))
        mine = [(i["id"], i["version"]) for i in seen if i["id"] in ids]
        # Every row once, none skipped, none twice, in the table's order.
        self.assertEqual(mine, [(t[0], t[1]) for t in table])
        self.assertEqual(len(seen), len({(i["type"], i["id"], i["version"],
                                          i["operation"], n)
                                         for n, i in enumerate(seen)}))
        # Each entity's versions rise in the feed, its delete comes last.
        last = {}
        for item in (i for i in seen if i["id"] in ids):
            prev = last.get(item["id"])
            if prev is not None:
                # A change of an entity deleted since arrives as a delete
                # too; nothing of it comes after one.
                if prev["operation"] == "delete":
                    self.assertEqual(item["operation"], "delete", item)
                self.assertGreaterEqual(item["version"], prev["version"])
            last[item["id"]] = item
        deleted = {m[0] for m in made if m[2] == "delete"}
        for i in deleted:
            self.assertEqual(last[i]["operation"], "delete")
            self.assertNotIn("entity", last[i])


class CommitOrder(unittest.TestCase):
    def test_a_change_that_commits_late_is_not_passed_over(self):
        # Transaction A writes first (the smaller id and sequence number)
        # and commits last; B, through the API, commits in between. A feed
        # by sequence number would serve B, and a reader resuming after it
        # would never see A.
        since = head("admin")
        late = str(uuid.uuid4())
        psql = subprocess.Popen(
            [harness.PSQL, db().owner_url, "-q", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            env=harness._psql_env())
        psql.stdin.write((
            "BEGIN;\n"
            "INSERT INTO units (id, parent_id, kind, code, name, path)"
            " SELECT '%s', id, 'office', 'late-%s', 'Muộn', path ||"
            " unit_label('%s') FROM units WHERE id = '%s';\n"
            "SELECT pg_sleep(2);\nCOMMIT;\n"
            % (late, tag(), late, U["commune"])).encode())
        psql.stdin.close()
        time.sleep(0.5)
        b = new_unit()
        # B has committed, but waits behind A, which is still running.
        page = feed("admin", since).json()
        self.assertEqual(page["items"], [])
        self.assertEqual(page["next_cursor"], since)
        self.assertEqual(psql.wait(10), 0)
        items, _ = follow("admin", since)
        self.assertEqual([i["id"] for i in items], [late, b["id"]])


class Items(unittest.TestCase):
    def test_upsert_carries_the_entity_as_get_shows_it(self):
        since = head("admin")
        u = patch_unit(new_unit())
        items, _ = follow("admin", since, types="unit")
        mine = [i for i in items if i["id"] == u["id"]]
        self.assertEqual([(i["operation"], i["version"]) for i in mine],
                         [("upsert", 1), ("upsert", 2)])
        got = ok(call("admin", "GET", "/api/v1/units/" + u["id"])).json()
        for i in mine:
            self.assertEqual(i["type"], "unit")
            self.assertEqual(i["entity"], got)

    def test_every_type_renders_as_its_get(self):
        # The seed holds every type; the leader may read each of them.
        paths = {"unit": "units", "user": "users", "plan": "plans",
                 "milestone": "milestones", "task": "tasks",
                 "assignment": "assignments", "submission": "submissions",
                 "model": "models", "inspection_plan": "inspection-plans",
                 "inspection": "inspections",
                 "recommendation": "recommendations", "rubric": "rubrics",
                 "score_sheet": "score-sheets"}
        last = {}
        for i in follow("leader")[0]:
            last[(i["type"], i["id"])] = i
        self.assertEqual({t for t, _ in last}, set(paths))
        for (t, eid), i in sorted(last.items()):
            r = call("leader", "GET", "/api/v1/%s/%s" % (paths[t], eid))
            if i["operation"] == "upsert":
                self.assertEqual(ok(r).json(), i["entity"], i)
                self.assertLessEqual(i["version"], i["entity"]["version"])
            else:
                self.assertEqual(r.status, 404, i)

    def test_delete_is_a_tombstone(self):
        u = new_unit()
        since = head("admin")
        delete_unit(u)
        items, _ = follow("admin", since)
        self.assertEqual(items, [{"type": "unit", "id": u["id"],
                                  "operation": "delete", "version": 1}])

    def test_types_filter_and_users_for_their_readers(self):
        since = head("admin")
        u = new_unit()
        person = harness.new_user(u["id"], "viewer", signed_in=False)
        items, _ = follow("admin", since, types="user")
        self.assertEqual([i["id"] for i in items], [person.id])
        self.assertEqual(items[0]["entity"]["username"], person.username)
        items, _ = follow("admin", since, types="unit,plan")
        self.assertEqual({i["type"] for i in items}, {"unit"})
        # A viewer may not read users: none in its feed, even when asked.
        items, _ = follow("viewer", types="user")
        self.assertEqual(items, [])

    def test_a_draft_is_shown_as_get_shows_it(self):
        since = head("officer")
        plan = ok(call("leader", "POST", "/api/v1/plans", body={
            "code": "KH-" + tag(), "title": "Kế hoạch " + tag(),
            "year": 2026, "issuing_unit_id": U["commune"]}), 201).json()
        mine = [i for i in follow("leader", types="plan")[0]
                if i["id"] == plan["id"]]
        self.assertEqual(mine[-1]["operation"], "upsert")
        # A village below may not read the commune's drafts: to its
        # officer the change is a delete.
        mine = [i for i in follow("officer", since, types="plan")[0]
                if i["id"] == plan["id"]]
        self.assertEqual(mine, [{"type": "plan", "id": plan["id"],
                                 "operation": "delete", "version": 1}])


class Scope(unittest.TestCase):
    def test_a_village_never_sees_another_villages_units(self):
        since1, since2 = head("officer"), head("thon2")
        in1, in2 = new_unit("thon-1"), new_unit("thon-2")
        patch_unit(in2)
        items1, _ = follow("officer", since1)
        items2, _ = follow("thon2", since2)
        self.assertIn(in1["id"], [i["id"] for i in items1])
        self.assertNotIn(in2["id"], [i["id"] for i in items1])
        self.assertNotIn(in1["id"], [i["id"] for i in items2])
        self.assertEqual([i["id"] for i in items2 if i["type"] == "unit"],
                         [in2["id"], in2["id"]])
        # Whatever the feed shows with a body, the caller's GET shows too.
        for who, items in (("officer", items1), ("thon2", items2)):
            for i in items:
                if i["operation"] == "upsert":
                    path = "/api/v1/%ss/%s" % (i["type"], i["id"])
                    self.assertEqual(ok(call(who, "GET", path)).json(),
                                     i["entity"])

    def test_a_unit_moved_away_arrives_as_a_delete(self):
        u = new_unit("thon-1")
        since1, since2 = head("officer"), head("thon2")
        moved = patch_unit(u, parent_id=U["thon-2"])
        items1, _ = follow("officer", since1)
        self.assertEqual(items1, [{"type": "unit", "id": u["id"],
                                   "operation": "delete", "version": 2}])
        items2, _ = follow("thon2", since2)
        self.assertEqual(len(items2), 1)
        self.assertEqual(items2[0]["operation"], "upsert")
        self.assertEqual(items2[0]["entity"], moved)

    def test_what_belongs_to_a_unit_moved_away_leaves_with_it(self):
        harness.new_user(U["thon-1"], "leader", "leader1", "Trưởng thôn 1",
                         name="leader1")
        u = new_unit("thon-1")
        person = harness.new_user(u["id"], "viewer", signed_in=False)
        since, commune = head("leader1"), head("leader")
        patch_unit(u, parent_id=U["thon-2"])
        items, _ = follow("leader1", since)
        self.assertEqual(sorted((i["type"], i["id"], i["operation"])
                                for i in items),
                         [("unit", u["id"], "delete"),
                          ("user", person.id, "delete")])
        # The commune's leader still sees both, where they are now.
        items, _ = follow("leader", commune)
        mine = {i["id"]: i for i in items}
        self.assertEqual(mine[person.id]["operation"], "upsert")
        self.assertEqual(mine[u["id"]]["entity"]["parent_id"], U["thon-2"])


class BadInput(unittest.TestCase):
    def test_tampered_foreign_and_malformed_cursors(self):
        new_unit()
        cursor = feed("admin", limit=1).json()["next_cursor"]
        xid, seq, mac = cursor.split(".")
        forged = ["%s.%d.%s" % (xid, int(seq) + 1, mac),
                  "%s.%s.%s" % (xid, seq, mac[:-1] + ("0" if mac[-1] != "0"
                                                       else "1")),
                  "%s.%s" % (xid, seq), "abc", "1.2.3", "-1.0." + mac,
                  "9" * 30 + ".0." + mac, ".." + mac]
        for bad in forged:
            r = feed("admin", bad, status=400)
            CHECK.assertEqual(r.json()["errors"][0]["field"], "since")
        # Minted for the admin: no other caller may resume from it.
        feed("leader", cursor, status=400)
        feed("admin", cursor)

    def test_unknown_types_and_limits(self):
        for bad in ("units", "unit,", ",", "unit,,plan", "obligation",
                    "unit;plan", "x" * 401):
            feed("admin", types=bad, status=400)
        for bad in ("0", "201", "-1", "abc", "1.5"):
            feed("admin", limit=bad, status=400)
        for bad in ("31", "-1", "x"):
            feed("admin", wait=bad, status=400)
        call(None, "GET", "/api/v1/changes").status == 401 or \
            self.fail("anonymous feed")
        since = head("admin")
        for _ in range(3):
            new_unit()
        page = feed("admin", since, limit=2).json()
        self.assertEqual(len(page["items"]), 2)
        self.assertTrue(page["has_more"])
        page = feed("admin", page["next_cursor"], limit=2).json()
        self.assertEqual(len(page["items"]), 1)


class Wait(unittest.TestCase):
    def test_wait_answers_soon_after_a_change_commits(self):
        since = head("admin")
        answer = {}

        def waiter():
            t0 = time.monotonic()
            answer["page"] = feed("admin", since, wait=10).json()
            answer["at"] = time.monotonic()
            answer["took"] = answer["at"] - t0

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(1.0)
        u = new_unit()
        # Served once committed and no older transaction runs (in another
        # test module's database too): the answer follows within 0.5 s.
        servable = settle()
        t.join(15)
        self.assertEqual([i["id"] for i in answer["page"]["items"]],
                         [u["id"]])
        self.assertLess(answer["at"] - servable, 0.5)
        self.assertGreater(answer["took"], 0.9)

    def test_wait_times_out_with_an_empty_page(self):
        since = head("admin")
        t0 = time.monotonic()
        page = feed("admin", since, wait=1).json()
        took = time.monotonic() - t0
        self.assertEqual(page, {"items": [], "next_cursor": since,
                                "has_more": False})
        self.assertGreater(took, 0.9)
        self.assertLess(took, 1.6)

    def test_many_waiters_hold_no_worker_thread(self):
        since = head("admin")
        results, lock = [], threading.Lock()

        def waiter():
            r = call("admin", "GET", "/api/v1/changes?wait=20&since=" + since,
                     timeout=30)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=waiter)
                   for _ in range(MAX_WAITERS)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        # The server answers others while they all wait.
        t0 = time.monotonic()
        ok(srv().request("GET", "/healthz"))
        ok(call("admin", "GET", "/api/v1/units?limit=5"))
        self.assertLess(time.monotonic() - t0, 0.5)
        self.assertIn("\ndanvan_changes_waiting %d\n" % MAX_WAITERS,
                      ok(srv().request("GET", "/metrics")).text())
        # One waiter too many is told to come back.
        r = call("admin", "GET", "/api/v1/changes?wait=20&since=" + since)
        self.assertEqual(r.status, 503, r.describe())
        self.assertEqual(r.headers.get("Retry-After"), "1")
        self.assertEqual(r.json()["type"], "urn:danvan:problem:busy")
        # One change wakes them all.
        u = new_unit()
        for t in threads:
            t.join(25)
        self.assertEqual(len(results), MAX_WAITERS)
        for r in results:
            self.assertEqual(r.status, 200)
            self.assertEqual([i["id"] for i in r.json()["items"]], [u["id"]])

    def test_a_stop_answers_the_waiters_at_once(self):
        # A server of its own: suspended connections never time out, so
        # one that forgot them would not stop.
        other = harness.Server(db()).start()
        since = head("admin")
        # Signed in there before the waiters go (a sign-in takes a while).
        ok(call("admin", "GET", "/api/v1/changes?limit=1", srv=other))
        answers = []

        def waiter():
            answers.append(call("admin", "GET", "/api/v1/changes?wait=25&"
                                "since=" + since, srv=other, timeout=30))

        threads = [threading.Thread(target=waiter) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        t0 = time.monotonic()
        other.stop()
        for t in threads:
            t.join(10)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual([(r.status, r.text()) for r in answers if
                          r.status != 200], [])
        self.assertEqual([r.json()["items"] for r in answers], [[]] * 3)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
