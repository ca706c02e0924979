"""The change feed over HTTP: 8 writers changing units and models at once
while a reader follows the feed, every change then found exactly once, in
the order of the feed table and with each entity's versions rising;
deletes as tombstones; the entity as its GET shows it; scope (a village
never sees another village's units, and a unit moved out of its subtree
arrives as a delete); tampered and foreign cursors, unknown types and
limits; wait= answering as soon as a change commits, timing out with an
empty page, and many waiters holding no worker thread. Obligations (created,
extended, received, no longer owed), files (added, removed with their
submission) and findings (made, changed, removed), each as its list shows it
and to those who may see it (an inspector of a board outside the inspected
and inspecting units, on the team, too; off it, a delete); a plan's contents
offered again when it is issued; tombstones of rows a cascade removes after
their parent."""

import datetime
import subprocess
import threading
import time
import unittest
import uuid
import zoneinfo

import harness
from harness import CHECK, U, call, db, ok, srv, tag

MAX_WAITERS = 40


def build():
    harness.new_user(U["thon-2"], "officer", "thon2", "Cán bộ Thôn 2",
                     name="thon2")
    for role in ("admin", "officer", "viewer", "leader", "coordinator"):
        harness.token(role)
    # The inspectors of the commune and of its Party building board, the
    # office of the economy.
    for name in ("kiemtra", "bxdd", "kinhte", "vhxh"):
        harness.token(name)


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


def listed(who, t, entity):
    """The obligation, finding or file's metadata as its list shows it to
    who (None when it does not)."""
    if t == "obligation":
        plan = ok(call(who, "GET", "/api/v1/milestones/" +
                       entity["milestone_id"])).json()["plan_id"]
        path = "/api/v1/plans/%s/obligations?milestone_id=%s" % (
            plan, entity["milestone_id"])
    elif t == "finding":
        path = "/api/v1/inspections/%s/findings?limit=200" % \
            entity["inspection_id"]
    else:
        owner = next(k for k in ("submission", "inspection",
                                 "recommendation")
                     if entity.get(k + "_id") is not None)
        path = "/api/v1/%ss/%s/attachments?limit=200" % (
            owner, entity[owner + "_id"])
    return next((x for x in ok(call(who, "GET", path)).json()["items"]
                 if x["id"] == entity["id"]), None)


def of(items, eid):
    """(operation, whether it has an entity) of the items of one entity."""
    return [(i["operation"], "entity" in i) for i in items if i["id"] == eid]


def shown(items):
    """The ids of the items that came with their entity."""
    return {i["id"] for i in items if "entity" in i}


VN_TODAY = None


def due(days):
    global VN_TODAY
    if VN_TODAY is None:
        VN_TODAY = datetime.datetime.now(
            zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return (VN_TODAY + datetime.timedelta(days=days)).isoformat()


def new_plan():
    return ok(call("leader", "POST", "/api/v1/plans", body={
        "title": "Kế hoạch " + tag(), "year": int(due(0)[:4]),
        "issuing_unit_id": U["commune"]}), 201).json()


def get(who, path):
    return ok(call(who, "GET", path)).json()


def issue(plan):
    v = get("leader", "/api/v1/plans/" + plan["id"])["version"]
    ok(call("leader", "POST", "/api/v1/plans/%s/issue" % plan["id"],
            headers={"If-Match": '"%d"' % v}))


def milestone(plan, owing, receiving=U["phong-vh-xh"]):
    return ok(call("leader", "POST",
                   "/api/v1/plans/%s/milestones" % plan["id"],
                   body={"kind": "annual_report", "title": "Mốc " + tag(),
                         "due_on": due(20), "receiving_unit_id": receiving,
                         "owing": {"unit_ids": owing}}), 201).json()


def set_owing(m, owing):
    v = get("leader", "/api/v1/milestones/" + m["id"])["version"]
    ok(call("leader", "PATCH", "/api/v1/milestones/" + m["id"],
            body={"owing": {"unit_ids": owing},
                  "amendment_reason": "Đổi đơn vị báo cáo"},
            headers={"If-Match": '"%d"' % v}))


def task_for(plan, unit, number=1):
    """A task of the plan and its assignment to unit."""
    t = ok(call("leader", "POST", "/api/v1/plans/%s/tasks" % plan["id"],
                body={"number": number, "title": "Nhiệm vụ " + tag(),
                      "schedule": "ongoing"}), 201).json()
    a = ok(call("leader", "POST", "/api/v1/tasks/%s/assignments" % t["id"],
                body={"role": "implement", "unit_id": unit}),
           201).json()["items"][0]
    return t, a


def obligations(who, plan):
    return {o["id"]: o for o in get(
        who, "/api/v1/plans/%s/obligations" % plan["id"])["items"]}


def pdf():
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% " +
            tag().encode() + b"\n%%EOF\n")


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
        # The seed holds every type but files (Attachments adds some); the
        # leader may read each of them. Obligations, findings and files'
        # metadata have no GET of their own (a file's sends its bytes):
        # their lists show them.
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
        self.assertLessEqual(set(paths) | {"obligation", "finding"},
                             {t for t, _ in last})
        for (t, eid), i in sorted(last.items()):
            if t not in paths:
                if i["operation"] == "upsert":
                    self.assertEqual(listed("leader", t, i["entity"]),
                                     i["entity"], i)
                continue
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
        for bad in ("units", "unit,", ",", "unit,,plan", "extension",
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
        settle()
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


class Obligations(unittest.TestCase):
    def test_an_obligation_created_changed_and_removed(self):
        plan = new_plan()
        m = milestone(plan, [U["thon-3"]])
        issue(plan)
        since = {w: head(w) for w in ("officer", "thon2", "coordinator")}
        seen = {w: [] for w in since}

        def step():
            for w in since:
                items, since[w] = follow(w, since[w], types="obligation")
                seen[w] += items
            return seen["officer"][-1]

        set_owing(m, [U["thon-3"], U["thon-1"]])
        oid = next(o for o, x in obligations("officer", plan).items()
                   if x["unit_id"] == U["thon-1"])
        item = step()
        self.assertEqual(of(seen["officer"], oid), [("upsert", True)])
        self.assertEqual(item["entity"], obligations("officer", plan)[oid])
        self.assertEqual((item["entity"]["state"], item["entity"]["extended"],
                          item["version"]), ("pending", False, None))
        # An extension, then the unit's report: each once, as it is then.
        ok(call("coordinator", "POST",
                "/api/v1/milestones/%s/extensions" % m["id"],
                body={"unit_id": U["thon-1"], "due_on": due(30),
                      "reason": "Mưa bão"}), 201)
        item = step()
        self.assertEqual(of(seen["officer"], oid), [("upsert", True)] * 2)
        self.assertEqual(item["entity"], obligations("officer", plan)[oid])
        self.assertEqual(item["entity"]["due_on"], due(30))
        s = ok(call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": U["thon-1"], "kind": "annual_report",
            "milestone_id": m["id"], "title": "Báo cáo " + tag(),
            "body": "Nội dung.", "submit": True}), 201).json()
        item = step()
        self.assertEqual(of(seen["officer"], oid), [("upsert", True)] * 3)
        self.assertEqual(item["entity"], obligations("officer", plan)[oid])
        self.assertEqual((item["entity"]["state"],
                          item["entity"]["submission_id"]),
                         ("on_time", s["id"]))
        # The unit no longer owes it: a tombstone.
        set_owing(m, [U["thon-3"]])
        step()
        self.assertEqual(of(seen["officer"], oid),
                         [("upsert", True)] * 3 + [("delete", False)])
        self.assertEqual(seen["officer"][-1],
                         {"type": "obligation", "id": oid,
                          "operation": "delete", "version": None})
        # The receiving office had each change; another village none.
        self.assertEqual(len(of(seen["coordinator"], oid)), 4)
        self.assertNotIn(oid, shown(seen["thon2"]))


class Attachments(unittest.TestCase):
    def test_a_file_added_and_removed_with_its_submission(self):
        plan = new_plan()
        m = milestone(plan, [U["thon-1"]])
        issue(plan)
        since = {w: head(w) for w in ("officer", "thon2", "coordinator")}
        s = ok(call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": U["thon-1"], "kind": "annual_report",
            "milestone_id": m["id"], "title": "Báo cáo " + tag(),
            "body": "Nội dung."}), 201).json()
        a = ok(call("officer", "POST", "/api/v1/submissions/%s/attachments"
                    "?filename=bao-cao.pdf" % s["id"], raw=pdf(),
                    headers={"Content-Type": "application/pdf"}),
               201).json()
        items = {w: follow(w, since[w], types="attachment")
                 for w in since}
        for w in ("officer", "coordinator"):
            mine = [i for i in items[w][0] if i["id"] == a["id"]]
            self.assertEqual([(i["operation"], i["version"]) for i in mine],
                             [("upsert", None)], w)
            self.assertEqual(mine[0]["entity"], a)
            self.assertEqual(listed(w, "attachment", a), a)
        self.assertNotIn(a["id"], shown(items["thon2"][0]))
        # No request removes a file; its submission's removal does (ON
        # DELETE CASCADE), when the submission is gone already.
        db().psql("DELETE FROM submissions WHERE id = '%s'" % s["id"])
        for w in ("officer", "coordinator"):
            mine, _ = follow(w, items[w][1], types="attachment")
            self.assertEqual(mine, [{"type": "attachment", "id": a["id"],
                                     "operation": "delete",
                                     "version": None}], w)


class Inspections(unittest.TestCase):
    """A visit of the economy office by the Phòng VH-XH, whose team holds
    an inspector of the commune and one of its Party building board: that
    board lies outside both the inspected and the inspecting unit, yet its
    inspector sees the visit."""

    def test_findings_and_a_team_member_from_outside(self):
        ids = {n: harness.user_id(n) for n in ("kiemtra", "bxdd")}
        ip = ok(call("vhxh", "POST", "/api/v1/inspection-plans", body={
            "plan_id": harness.COMMUNE_PLAN,
            "issuing_unit_id": U["phong-vh-xh"],
            "title": "Kiểm tra " + tag(), "period_start": due(-30),
            "period_end": due(60)}), 201).json()
        ok(call("vhxh", "POST", "/api/v1/inspection-plans/%s/issue" % ip["id"],
                headers={"If-Match": '"%d"' % ip["version"]}))
        watchers = ("bxdd", "kinhte", "officer")
        since = {w: head(w) for w in watchers}
        visit = ok(call("vhxh", "POST", "/api/v1/inspections", body={
            "inspection_plan_id": ip["id"], "kind": "inspection",
            "title": "Kiểm tra Phòng Kinh tế " + tag(),
            "target_unit_id": U["phong-kinh-te"], "scheduled_on": due(0),
            "team": [{"user_id": ids["kiemtra"], "role": "lead"},
                     {"user_id": ids["bxdd"], "role": "member"}]}),
                   201).json()
        path = "/api/v1/inspections/" + visit["id"]
        ok(call("kiemtra", "POST", path + "/start",
                headers={"If-Match": '"%d"' % visit["version"]}))
        f = ok(call("kiemtra", "POST", path + "/findings", body={
            "text": "Chưa niêm yết công khai", "severity": "minor"}),
               201).json()
        seen = {w: follow(w, since[w]) for w in watchers}
        for w in ("bxdd", "kinhte"):
            items = seen[w][0]
            self.assertIn(visit["id"], shown(items), w)
            self.assertEqual(
                [i for i in items if i["id"] == visit["id"]][-1]["entity"],
                get(w, path))
            self.assertEqual(of(items, f["id"]), [("upsert", True)], w)
            self.assertEqual(
                [i for i in items if i["id"] == f["id"]][0]["entity"],
                listed(w, "finding", f))
        self.assertEqual(shown(seen["officer"][0]) &
                         {visit["id"], f["id"]}, set())
        # Changed, then removed (no request removes one): once each.
        f = ok(call("kiemtra", "PATCH", "/api/v1/findings/" + f["id"],
                    body={"severity": "major"},
                    headers={"If-Match": '"%d"' % f["version"]})).json()
        for w in ("bxdd", "kinhte"):
            items, since[w] = follow(w, seen[w][1], types="finding")
            self.assertEqual([(i["operation"], i["version"], i["entity"])
                              for i in items if i["id"] == f["id"]],
                             [("upsert", 2, f)], w)
        db().psql("DELETE FROM findings WHERE id = '%s'" % f["id"])
        for w in ("bxdd", "kinhte"):
            items, since[w] = follow(w, since[w], types="finding")
            self.assertEqual(items, [{"type": "finding", "id": f["id"],
                                      "operation": "delete",
                                      "version": 2}], w)
        # A recommendation for a finding changes it (it lists them); the
        # visit's minutes are offered as its list of files shows them.
        f = ok(call("kiemtra", "POST", path + "/findings", body={
            "text": "Chưa có sổ theo dõi", "severity": "info"}), 201).json()
        items, since["bxdd"] = follow("bxdd", since["bxdd"])
        self.assertEqual(of(items, f["id"]), [("upsert", True)])
        rec = ok(call("kiemtra", "POST", "/api/v1/recommendations", body={
            "inspection_id": visit["id"], "finding_id": f["id"],
            "text": "Lập sổ theo dõi", "due_on": due(7)}), 201).json()
        minutes = ok(call("kiemtra", "POST", path + "/attachments"
                          "?filename=bien-ban.pdf", raw=pdf(),
                          headers={"Content-Type": "application/pdf"}),
                     201).json()
        items, since["bxdd"] = follow("bxdd", since["bxdd"])
        self.assertEqual(of(items, f["id"]), [("upsert", True)])
        self.assertEqual([i["entity"]["recommendation_ids"] for i in items
                          if i["id"] == f["id"]], [[rec["id"]]])
        self.assertEqual(of(items, rec["id"]), [("upsert", True)])
        self.assertEqual([i["entity"] for i in items
                          if i["id"] == minutes["id"]],
                         [listed("bxdd", "attachment", minutes)])
        # Off the team: the visit leaves the member's view.
        since["bxdd"] = head("bxdd")
        cur = get("kiemtra", path)
        ok(call("kiemtra", "PATCH", path, body={
            "team": [{"user_id": ids["kiemtra"], "role": "lead"}]},
            headers={"If-Match": '"%d"' % cur["version"]}))
        self.assertEqual(call("bxdd", "GET", path).status, 404)
        items, _ = follow("bxdd", since["bxdd"], types="inspection")
        self.assertEqual(of(items, visit["id"])[-1], ("delete", False))


class PlanIssue(unittest.TestCase):
    def test_what_a_plan_holds_is_offered_when_it_is_issued(self):
        since = head("officer")
        plan = new_plan()
        m = milestone(plan, [U["thon-1"]])
        t, a = task_for(plan, U["thon-1"])
        # A draft: the village sees none of it.
        items, since = follow("officer", since)
        self.assertEqual(shown(items) & {plan["id"], m["id"], t["id"],
                                         a["id"]}, set())
        issue(plan)
        items, _ = follow("officer", since)
        last = {(i["type"], i["id"]): i for i in items}
        (oid, obligation), = obligations("officer", plan).items()
        for key, want in (
                (("plan", plan["id"]), get("officer",
                                           "/api/v1/plans/" + plan["id"])),
                (("milestone", m["id"]), get("officer",
                                             "/api/v1/milestones/" + m["id"])),
                (("task", t["id"]), get("officer", "/api/v1/tasks/" + t["id"])),
                (("assignment", a["id"]), get("officer",
                                              "/api/v1/assignments/" +
                                              a["id"])),
                (("obligation", oid), obligation)):
            self.assertIn(key, last)
            self.assertEqual(last[key].get("entity"), want, key)


class CascadeTombstones(unittest.TestCase):
    def test_rows_a_cascade_removes_leave_tombstones(self):
        # A sibling office sees the plan's tasks and assignments (not by
        # its own unit), the receiving office its obligations: both only
        # through the task and the milestone, gone before their rows.
        plan = new_plan()
        m = milestone(plan, [U["thon-1"]])
        t, a = task_for(plan, U["thon-1"])
        issue(plan)
        (oid, _), = obligations("coordinator", plan).items()
        since = {w: head(w) for w in ("kinhte", "coordinator")}
        self.assertEqual(get("kinhte", "/api/v1/assignments/" + a["id"])["id"],
                         a["id"])
        db().psql("DELETE FROM tasks WHERE id = '%s';"
                  " DELETE FROM milestones WHERE id = '%s'" % (t["id"],
                                                              m["id"]))
        items, _ = follow("kinhte", since["kinhte"])
        self.assertEqual(of(items, a["id"]), [("delete", False)])
        self.assertEqual(of(items, t["id"]), [("delete", False)])
        items, _ = follow("coordinator", since["coordinator"])
        self.assertEqual(of(items, oid), [("delete", False)])
        self.assertEqual(of(items, m["id"]), [("delete", False)])


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
