""""Dân vận khéo" models over HTTP: the two demo models; the whole life of
one model (registered by the thôn 1 officer, carried out, recognised by the
commune leader, replicated by thôn 3, the original then `replicated`, the
counts following, checked against the database); a model_registration
submission that becomes a model when it is accepted; bad input, If-Match and
the state machine's refusals; roles; and who sees which model."""

import unittest
import uuid

import harness
from harness import CHECK, U, call, db, ok, tag

DEMO_1 = "5eed0000-0000-4000-8000-0000000006d1"   # thôn 1, implementing
DEMO_2 = "5eed0000-0000-4000-8000-0000000006d2"   # thôn 2, registered
DEMO_SUB_1 = "5eed0000-0000-4000-8000-0000000005d1"
DEMO_SUB_2 = "5eed0000-0000-4000-8000-0000000005d2"
NO_WRITE = ("viewer", "inspector", "service")
NO_RECOGNISE = ("officer", "viewer", "inspector", "service")
MODEL_KEYS = {"id", "unit_id", "name", "field", "description",
              "expected_results", "results", "status", "submission_id",
              "replicated_from", "recognised_by", "recognised_at", "version",
              "created_at", "updated_at"}


def build():
    # An officer of thôn 3: call("thon3", ...).
    harness.new_user(U["thon-3"], "officer", "thon3", "Cán bộ Thôn 3",
                     name="thon3")
    for role in harness.USER_ROLES:
        harness.token(role)


setUpModule, tearDownModule = harness.fixtures(build)


def version(mid):
    return int(db().psql("SELECT version FROM models WHERE id = '%s'"
                         % mid)[0][0])


def etag(mid):
    return '"%d"' % version(mid)


def get(mid, who="leader"):
    return ok(call(who, "GET", "/api/v1/models/" + mid)).json()


def create(who, status=201, **body):
    return ok(call(who, "POST", "/api/v1/models", body=body), status).json()


def new_model(who="officer", unit="thon-1", **extra):
    body = {"unit_id": U[unit], "name": "Mô hình " + tag(),
            "field": "culture_society",
            "description": "Nhân dân cùng làm.",
            "expected_results": "Thôn văn hóa."}
    body.update(extra)
    return create(who, **body)


def patch(mid, changes, who="officer", if_match=None):
    return call(who, "PATCH", "/api/v1/models/" + mid, body=changes,
                headers={"If-Match": if_match or etag(mid)})


def recognise(mid, who="leader", if_match=None, body=None):
    return call(who, "POST", "/api/v1/models/%s/recognise" % mid, body=body,
                headers={"If-Match": if_match or etag(mid)})


def listing(who, query=""):
    return harness.all_items(who, "/api/v1/models", query, max_pages=100)


def ids(who, query=""):
    return [m["id"] for m in listing(who, query)]


def sql_counts(unit):
    """(unit_id, unit_name, field, registered, recognised, replicated) of
    the models in `unit`'s subtree, as the database counts them."""
    rows = db().psql(
        "SELECT m.unit_id, u.name, m.field, count(*),"
        " count(*) FILTER (WHERE m.status IN ('recognised', 'replicated')),"
        " count(*) FILTER (WHERE m.replicated_from IS NOT NULL)"
        " FROM models m JOIN units u ON u.id = m.unit_id"
        " WHERE u.path <@ (SELECT path FROM units WHERE id = '%s')"
        " GROUP BY m.unit_id, u.name, m.field ORDER BY u.name, m.field"
        % unit)
    return [(a, b, c, int(d), int(e), int(f)) for a, b, c, d, e, f in rows]


def api_counts(who):
    doc = ok(call(who, "GET", "/api/v1/models/counts")).json()
    CHECK.assertIsNone(doc["next_cursor"])
    return [(i["unit_id"], i["unit_name"], i["field"], i["registered"],
             i["recognised"], i["replicated"]) for i in doc["items"]]


def caller_unit(who):
    if who == "thon3":
        return U["thon-3"]
    return harness.demo_account(who)["unit_id"]


def audit_actions(mid):
    return [r[0] for r in db().psql(
        "SELECT action FROM audit_events WHERE entity_type = 'model'"
        " AND entity_id = '%s' ORDER BY id" % mid)]


class DemoModels(unittest.TestCase):

    def test_the_two_demo_models(self):
        subs = {s: dict(zip(("unit_id", "name", "field", "description",
                             "expected_results"), row))
                for s in (DEMO_SUB_1, DEMO_SUB_2)
                for row in db().psql(
                    "SELECT unit_id, data->>'name', data->>'field',"
                    " data->>'description', data->>'expected_results'"
                    " FROM submissions WHERE id = '%s'" % s)}
        for mid, sid, unit, status in ((DEMO_1, DEMO_SUB_1, "thon-1",
                                        "implementing"),
                                       (DEMO_2, DEMO_SUB_2, "thon-2",
                                        "registered")):
            r = ok(call("leader", "GET", "/api/v1/models/" + mid))
            m = r.json()
            self.assertEqual(set(m), MODEL_KEYS)
            self.assertEqual(r.headers["ETag"], '"%d"' % m["version"])
            self.assertEqual(m["unit_id"], U[unit])
            self.assertEqual(m["submission_id"], sid)
            for k in ("name", "field", "description", "expected_results"):
                self.assertEqual(m[k], subs[sid][k])
            self.assertEqual(subs[sid]["unit_id"], U[unit])
            self.assertIsNone(m["replicated_from"])
            self.assertIsNone(m["recognised_by"])
            self.assertIsNone(m["recognised_at"])
            self.assertEqual((m["status"], m["version"], m["results"]),
                             (status, 1, ""))
            # 304 on the same tag.
            r2 = call("leader", "GET", "/api/v1/models/" + mid,
                      headers={"If-None-Match": r.headers["ETag"]})
            self.assertEqual(r2.status, 304, r2.describe())
        self.assertEqual(
            db().psql("SELECT count(*) FROM models WHERE submission_id IN"
                      " ('%s', '%s')" % (DEMO_SUB_1, DEMO_SUB_2)),
            [("2",)])
        # The demo models, oldest first, before anything made here.
        first = listing("leader")[:2]
        self.assertEqual([m["id"] for m in first], [DEMO_1, DEMO_2])
        # Filters.
        self.assertIn(DEMO_1, ids("leader", "unit_id=" + U["thon-1"]))
        self.assertNotIn(DEMO_2, ids("leader", "unit_id=" + U["thon-1"]))
        self.assertIn(DEMO_2, ids("leader", "field=administrative_reform"))
        self.assertNotIn(DEMO_1, ids("leader", "field=administrative_reform"))
        self.assertIn(DEMO_1, ids("leader", "status=implementing"))
        self.assertNotIn(DEMO_2, ids("leader", "status=implementing"))
        # q ignores case and diacritics; % and _ are literal.
        self.assertIn(DEMO_1, ids("leader", "q=RAC%20THAI"))
        self.assertIn(DEMO_2, ids("leader", "q=d%E1%BB%8Bch%20v%E1%BB%A5"))
        self.assertNotIn(DEMO_2, ids("leader", "q=rac%20thai"))
        self.assertEqual(ids("leader", "q=%25"), [])
        self.assertEqual(ids("leader", "q=_"), [])

    def test_pages(self):
        for _ in range(3):
            new_model()
        every = ids("leader")
        self.assertGreaterEqual(len(every), 5)
        got, cursor = [], None
        for _ in range(50):
            q = "limit=2" + ("&cursor=" + cursor if cursor else "")
            doc = ok(call("leader", "GET", "/api/v1/models?" + q)).json()
            self.assertLessEqual(len(doc["items"]), 2)
            got += [m["id"] for m in doc["items"]]
            cursor = doc["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(got, every)
        # A trimmed list keeps only the named members.
        doc = ok(call("leader", "GET", "/api/v1/models?fields=id,status"
                      "&limit=5")).json()
        for m in doc["items"]:
            self.assertEqual(set(m), {"id", "status"})
        # ETag and 304 on the list and the counts.
        for path in ("/api/v1/models", "/api/v1/models/counts"):
            r = ok(call("viewer", "GET", path))
            r2 = call("viewer", "GET", path,
                      headers={"If-None-Match": r.headers["ETag"]})
            self.assertEqual(r2.status, 304, r2.describe())

    def test_demo_counts(self):
        for who in ("admin", "leader", "viewer", "service", "officer",
                    "coordinator", "thon3"):
            self.assertEqual(api_counts(who), sql_counts(caller_unit(who)),
                             who)
        # The commune counts both demo villages; thôn 1 only its own.
        mine = {(c[0], c[2]) for c in api_counts("leader")}
        self.assertIn((U["thon-1"], "environment"), mine)
        self.assertIn((U["thon-2"], "administrative_reform"), mine)
        self.assertNotIn(U["thon-2"], {c[0] for c in api_counts("officer")})


class Life(unittest.TestCase):

    def test_register_carry_out_recognise_replicate(self):
        before_admin = sql_counts(U["province"])
        # The thôn 1 officer registers a model of its village.
        body = {"unit_id": U["thon-1"],
                "name": "Thôn 1 chung sức làm đường giao thông " + tag(),
                "field": "new_rural_areas",
                "description": "Nhân dân hiến đất, góp công làm đường.",
                "expected_results": "1,2 km đường bê tông."}
        r = ok(call("officer", "POST", "/api/v1/models", body=body,
                    headers={"X-Request-Id": "model-create-" + tag()}), 201)
        m = r.json()
        mid = m["id"]
        self.assertEqual(set(m), MODEL_KEYS)
        self.assertEqual(r.headers["Location"], "/api/v1/models/" + mid)
        self.assertEqual(r.headers["ETag"], '"1"')
        for k, v in body.items():
            self.assertEqual(m[k], v)
        self.assertEqual((m["status"], m["results"], m["version"]),
                         ("registered", "", 1))
        for k in ("submission_id", "replicated_from", "recognised_by",
                  "recognised_at"):
            self.assertIsNone(m[k], k)
        self.assertEqual(get(mid, "officer"), m)
        self.assertEqual(
            db().psql("SELECT request_id FROM audit_events WHERE"
                      " entity_type = 'model' AND entity_id = '%s'" % mid),
            [(r.headers["X-Request-Id"],)])

        # Its unit carries it out and reports results.
        r = ok(patch(mid, {"status": "implementing",
                           "results": "0,4 km đã đổ bê tông."},
                     if_match='"1"'))
        m = r.json()
        self.assertEqual((m["status"], m["results"], m["version"]),
                         ("implementing", "0,4 km đã đổ bê tông.", 2))
        self.assertEqual(r.headers["ETag"], '"2"')
        self.assertEqual(m["description"], body["description"])
        # Only from registered.
        r = patch(mid, {"status": "implementing"})
        harness.expect_problem(self, r, 409, "invalid_transition")
        # More results, without a status.
        m = ok(patch(mid, {"results": "0,8 km đã đổ bê tông.",
                           "expected_results": "1,5 km đường bê tông."})
               ).json()
        self.assertEqual((m["status"], m["version"]), ("implementing", 3))

        # An officer may not recognise; its own unit is not above it.
        harness.expect_problem(self, recognise(mid, "officer"), 403,
                               "forbidden")
        # The commune leader recognises it.
        r = ok(recognise(mid, "leader", if_match='"3"'))
        m = r.json()
        self.assertEqual(m["status"], "recognised")
        self.assertEqual(m["version"], 4)
        self.assertEqual(r.headers["ETag"], '"4"')
        self.assertEqual(m["recognised_by"], harness.demo_user_id("leader"))
        self.assertIsNotNone(m["recognised_at"])
        self.assertEqual(m["results"], "0,8 km đã đổ bê tông.")
        # Not twice.
        harness.expect_problem(self, recognise(mid, "leader"), 409,
                               "invalid_transition")
        # Carried out again? No.
        harness.expect_problem(self, patch(mid, {"status": "implementing"}),
                               409, "invalid_transition")
        self.assertEqual(audit_actions(mid),
                         ["create", "implementing", "update", "recognised"])

        # Thôn 3 (a neighbour) sees it and replicates it.
        self.assertIn(mid, ids("thon3"))
        r = ok(call("thon3", "POST", "/api/v1/models", body={
            "unit_id": U["thon-3"], "name": "Thôn 3 làm đường " + tag(),
            "field": "new_rural_areas", "replicated_from": mid}), 201)
        copy = r.json()
        self.assertEqual(copy["replicated_from"], mid)
        self.assertEqual(copy["unit_id"], U["thon-3"])
        self.assertEqual((copy["status"], copy["description"],
                          copy["expected_results"]), ("registered", "", ""))
        orig = get(mid)
        self.assertEqual(orig["status"], "replicated")
        self.assertEqual(orig["version"], 5)
        self.assertEqual(orig["recognised_by"], harness.demo_user_id("leader"))
        # A replicated model is not recognised again.
        harness.expect_problem(self, recognise(mid, "leader"), 409,
                               "invalid_transition")
        # It can be replicated again (the admin, for thôn 4); it stays
        # replicated.
        copy4 = create("admin", unit_id=U["thon-4"], name="Thôn 4 " + tag(),
                       field="new_rural_areas", replicated_from=mid)
        self.assertEqual(copy4["replicated_from"], mid)
        self.assertEqual(get(mid)["status"], "replicated")
        self.assertEqual(version(mid), 5)
        self.assertEqual(ids("leader", "status=replicated").count(mid), 1)

        # The counts follow, for every level.
        for who in ("admin", "leader", "officer", "thon3", "service"):
            self.assertEqual(api_counts(who), sql_counts(caller_unit(who)),
                             who)
        after = {(c[0], c[2]): c for c in api_counts("admin")}
        old = {(c[0], c[2]): c for c in before_admin}
        t1 = after[(U["thon-1"], "new_rural_areas")]
        t1_old = old.get((U["thon-1"], "new_rural_areas"),
                         (0, 0, 0, 0, 0, 0))
        self.assertEqual(t1[3:], (t1_old[3] + 1, t1_old[4] + 1, t1_old[5]))
        t3 = after[(U["thon-3"], "new_rural_areas")]
        t3_old = old.get((U["thon-3"], "new_rural_areas"),
                         (0, 0, 0, 0, 0, 0))
        self.assertEqual(t3[3:], (t3_old[3] + 1, t3_old[4], t3_old[5] + 1))
        self.assertEqual(t3[1], db().psql(
            "SELECT name FROM units WHERE id = '%s'" % U["thon-3"])[0][0])
        # Thôn 3's officer counts only thôn 3.
        self.assertEqual({c[0] for c in api_counts("thon3")}, {U["thon-3"]})

        # The copy is carried out and recognised like any model.
        ok(patch(copy["id"], {"status": "implementing"}, who="thon3"))
        self.assertEqual(ok(recognise(copy["id"], "leader")).json()["status"],
                         "recognised")

    def test_registration_becomes_a_model_when_accepted(self):
        data = {"name": "Dòng họ khuyến học " + tag(), "field": "culture_society",
                "description": "Các dòng họ lập quỹ khuyến học.",
                "expected_results": "Mỗi dòng họ một quỹ khuyến học.",
                "note": "kept in the submission only"}
        r = ok(call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": U["thon-1"], "kind": "model_registration",
            "title": "Đăng ký mô hình Dân vận khéo " + tag(), "data": data,
            "submit": True}), 201)
        s = r.json()
        self.assertEqual(s["status"], "submitted")
        self.assertEqual(s["receiving_unit_id"], U["commune"])
        self.assertEqual(db().psql("SELECT count(*) FROM models WHERE"
                                   " submission_id = '%s'" % s["id"]),
                         [("0",)])
        self.assertNotIn(s["id"], [m["submission_id"]
                                   for m in listing("officer")])
        r = ok(call("leader", "POST", "/api/v1/submissions/%s/accept"
                    % s["id"], headers={"If-Match": r.headers["ETag"]}))
        self.assertEqual(r.json()["status"], "accepted")
        made = [m for m in listing("officer", "unit_id=" + U["thon-1"])
                if m["submission_id"] == s["id"]]
        self.assertEqual(len(made), 1)
        m = made[0]
        for k in ("name", "field", "description", "expected_results"):
            self.assertEqual(m[k], data[k])
        self.assertEqual((m["unit_id"], m["status"], m["version"],
                          m["replicated_from"]),
                         (U["thon-1"], "registered", 1, None))
        self.assertEqual(get(m["id"], "viewer"), m)
        self.assertEqual(db().psql("SELECT count(*) FROM models WHERE"
                                   " submission_id = '%s'" % s["id"]),
                         [("1",)])
        # Its unit carries it out; the commune recognises it.
        ok(patch(m["id"], {"status": "implementing"}))
        ok(recognise(m["id"], "leader"))
        self.assertEqual(api_counts("leader"), sql_counts(U["commune"]))

    def test_registration_name_fits_a_model(self):
        # A model's name is at most 300 characters: a registration whose
        # data.name is longer could never be accepted.
        r = call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": U["thon-1"], "kind": "model_registration",
            "title": "Đăng ký mô hình " + tag(), "submit": True,
            "data": {"name": "M" * 301, "field": "economy",
                     "description": "d", "expected_results": "e"}})
        if r.status == 201:
            a = call("leader", "POST", "/api/v1/submissions/%s/accept"
                     % r.json()["id"], headers={"If-Match": r.headers["ETag"]})
            self.fail("a registration named with 301 characters was taken "
                      "(201) and its accept answers %d:\n%s"
                      % (a.status, a.describe()))
        harness.expect_problem(self, r, 422, "invalid_body")
        self.assertIn("data.name", [e["field"] for e in r.json()["errors"]])

    def test_every_change_is_audited(self):
        # A replication changes the original (status, version): the
        # original's change is in the audit trail like any other.
        orig = new_model()
        ok(recognise(orig["id"], "leader"))
        create("thon3", unit_id=U["thon-3"], name="Bản sao " + tag(),
               field=orig["field"], replicated_from=orig["id"])
        self.assertEqual(version(orig["id"]), 3)
        after = [r[0] for r in db().psql(
            "SELECT after->>'status' FROM audit_events WHERE"
            " entity_type = 'model' AND entity_id = '%s' ORDER BY id"
            % orig["id"])]
        self.assertEqual(after[-1], "replicated",
                         "the original's move to replicated is not audited: "
                         "%r" % after)

    def test_model_of_an_accepted_registration_is_audited(self):
        s = ok(call("officer", "POST", "/api/v1/submissions", body={
            "unit_id": U["thon-1"], "kind": "model_registration",
            "title": "Đăng ký " + tag(), "submit": True,
            "data": {"name": "Mô hình " + tag(), "field": "economy",
                     "description": "d", "expected_results": "e"}}), 201)
        ok(call("leader", "POST", "/api/v1/submissions/%s/accept"
                % s.json()["id"], headers={"If-Match": s.headers["ETag"]}))
        mid = db().psql("SELECT id FROM models WHERE submission_id = '%s'"
                        % s.json()["id"])[0][0]
        self.assertEqual(audit_actions(mid), ["create"],
                         "the model made by accepting the registration has "
                         "no audit event of its own")

    def test_idempotent_create(self):
        key = "model-" + tag()
        body = {"unit_id": U["thon-1"], "name": "Mô hình " + tag(),
                "field": "economy"}
        r1 = ok(call("officer", "POST", "/api/v1/models", body=body,
                     headers={"Idempotency-Key": key}), 201)
        r2 = ok(call("officer", "POST", "/api/v1/models", body=body,
                     headers={"Idempotency-Key": key}), 201)
        self.assertEqual(r2.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(r2.json(), r1.json())
        self.assertEqual(r2.headers["Location"], r1.headers["Location"])
        self.assertEqual(db().psql("SELECT count(*) FROM models WHERE"
                                   " name = '%s'" % body["name"]), [("1",)])
        r3 = call("officer", "POST", "/api/v1/models",
                  body=dict(body, field="other"),
                  headers={"Idempotency-Key": key})
        harness.expect_problem(self, r3, 422, "idempotency_key_reused")

    def test_leader_reports_on_a_village_model(self):
        m = new_model()
        # The level above may change the model too.
        m2 = ok(patch(m["id"], {"description": "Bổ sung."}, who="leader")
                ).json()
        self.assertEqual((m2["description"], m2["status"], m2["version"]),
                         ("Bổ sung.", "registered", 2))
        # Recognised straight from registered.
        self.assertEqual(ok(recognise(m["id"], "admin")).json()["status"],
                         "recognised")
        self.assertEqual(get(m["id"])["recognised_by"],
                         harness.demo_user_id("admin"))


class BadInput(unittest.TestCase):

    def post(self, raw=None, body=None, ctype="application/json",
             who="officer"):
        return call(who, "POST", "/api/v1/models", raw=raw, body=body,
                    headers={"Content-Type": ctype})

    def test_create_bad_bodies(self):
        before = int(db().psql("SELECT count(*) FROM models")[0][0])
        r = self.post(raw=b'{"unit_id": "%s", "name": ' % U["thon-1"].encode())
        harness.expect_problem(self, r, 400, "malformed_json")
        harness.expect_problem(self, self.post(raw=b"[]"), 400,
                               "body_not_object")
        harness.expect_problem(self, self.post(raw=b""), 400,
                               "body_required")
        harness.expect_problem(self, self.post(raw=b"{}", ctype="text/plain"),
                               415, "unsupported_media_type")
        harness.expect_problem(self, self.post(body={}), 422, "invalid_body",
                               {"unit_id": "required", "name": "required",
                                "field": "required"})
        harness.expect_problem(self, self.post(body={
            "unit_id": 7, "name": ["x"], "field": 3, "description": False,
            "expected_results": {}, "replicated_from": 1}), 422,
            "invalid_body", {"unit_id": "type", "name": "type",
                             "field": "type", "description": "type",
                             "expected_results": "type",
                             "replicated_from": "type"})
        harness.expect_problem(self, self.post(body={
            "unit_id": "thon-1", "name": "", "field": "sports",
            "replicated_from": "not-a-uuid"}), 422, "invalid_body",
            {"unit_id": "format", "name": "length", "field": "enum",
             "replicated_from": "format"})
        harness.expect_problem(self, self.post(body={
            "unit_id": U["thon-1"], "name": "N" * 301, "field": "other",
            "description": "d" * 5001}), 422, "invalid_body",
            {"name": "length", "description": "length"})
        harness.expect_problem(self, self.post(body={
            "unit_id": U["thon-1"], "name": "x", "field": "other",
            "status": "recognised", "results": "r", "unit_id_x": 1}), 422,
            "invalid_body", {"status": "unknown", "results": "unknown",
                             "unit_id_x": "unknown"})
        harness.expect_problem(self, self.post(body={
            "unit_id": None, "name": None, "field": "other"}), 422,
            "invalid_body", {"unit_id": "null", "name": "null"})
        # Over the route's cap.
        r = self.post(raw=b'{"name": "' + b"x" * (33 * 1024) + b'"}')
        harness.expect_problem(self, r, 413, "payload_too_large")
        self.assertEqual(int(db().psql("SELECT count(*) FROM models")[0][0]),
                         before)

    def test_create_bad_references(self):
        before = int(db().psql("SELECT count(*) FROM models")[0][0])
        base = {"unit_id": U["thon-1"], "name": "Bản sao " + tag(),
                "field": "environment"}
        # No such model.
        harness.expect_problem(self, self.post(body=dict(
            base, replicated_from=str(uuid.uuid4()))), 422,
            "invalid_reference", {"replicated_from": "unknown"})
        # A model that is not recognised (the demo thôn 2 model is
        # registered, the thôn 1 one implementing).
        for mid in (DEMO_2, DEMO_1):
            harness.expect_problem(self, self.post(body=dict(
                base, replicated_from=mid)), 422, "invalid_reference",
                {"replicated_from": "unknown"})
        # A recognised model the caller does not see.
        hidden = new_model("leader", "mat-tran-thon-2")
        ok(recognise(hidden["id"], "leader"))
        harness.expect_problem(self, self.post(body=dict(
            base, replicated_from=hidden["id"])), 422, "invalid_reference",
            {"replicated_from": "unknown"})
        self.assertEqual(get(hidden["id"])["status"], "recognised")
        # A unit outside the caller's subtree, or none at all.
        for unit in (U["thon-2"], U["commune"], str(uuid.uuid4())):
            harness.expect_problem(self, self.post(body=dict(
                base, unit_id=unit)), 422, "invalid_reference",
                {"unit_id": "unknown"})
        # A deactivated unit.
        inactive = ok(call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "village",
            "code": "thon-cu-" + tag(), "name": "Thôn cũ"}), 201)
        ok(call("admin", "PATCH", "/api/v1/units/" + inactive.json()["id"],
                body={"active": False},
                headers={"If-Match": inactive.headers["ETag"]}))
        harness.expect_problem(self, self.post(body=dict(
            base, unit_id=inactive.json()["id"]), who="leader"), 422,
            "invalid_reference", {"unit_id": "unknown"})
        self.assertEqual(int(db().psql("SELECT count(*) FROM models")[0][0]),
                         before + 1)
        self.assertEqual(get(DEMO_2)["status"], "registered")

    def test_patch_refusals(self):
        m = new_model()
        mid = m["id"]
        r = call("officer", "PATCH", "/api/v1/models/" + mid,
                 body={"results": "x"})
        harness.expect_problem(self, r, 428, "precondition_required")
        for stale in ('"2"', '"0"', '"abc"', "*", '"1'):
            harness.expect_problem(self, patch(mid, {"results": "x"},
                                               if_match=stale),
                                   412, "precondition_failed")
        self.assertEqual(version(mid), 1)
        harness.expect_problem(self, patch(mid, {}), 422, "empty_patch")
        for bad, code in (({"status": "recognised"}, "enum"),
                          ({"status": "replicated"}, "enum"),
                          ({"status": "registered"}, "enum"),
                          ({"status": None}, "null"),
                          ({"results": 5}, "type"),
                          ({"results": "r" * 5001}, "length")):
            harness.expect_problem(self, patch(mid, bad), 422,
                                   "invalid_body",
                                   {list(bad)[0]: code})
        for fixed in ("name", "field", "unit_id", "replicated_from",
                      "submission_id", "version"):
            harness.expect_problem(self, patch(mid, {fixed: "x"}), 422,
                                   "invalid_body", {fixed: "unknown"})
        r = call("officer", "PATCH", "/api/v1/models/" + mid, raw=b"{",
                 headers={"If-Match": '"1"',
                          "Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")
        harness.expect_problem(self, call(
            "officer", "PATCH", "/api/v1/models/" + str(uuid.uuid4()),
            body={"results": "x"}, headers={"If-Match": '"1"'}), 404,
            "not_found")
        self.assertEqual(get(mid), m)

    def test_recognise_refusals(self):
        # A commune model: the commune's own leader is not above it.
        m = new_model("leader", "commune")
        mid = m["id"]
        harness.expect_problem(self, recognise(mid, "leader"), 404,
                               "not_found")
        # Phòng VH-XH is beside the commune's model's unit, not above it.
        harness.expect_problem(self, recognise(mid, "coordinator"), 404,
                               "not_found")
        r = call("admin", "POST", "/api/v1/models/%s/recognise" % mid)
        harness.expect_problem(self, r, 428, "precondition_required")
        harness.expect_problem(self, recognise(mid, "admin", if_match='"9"'),
                               412, "precondition_failed")
        for body in ({"status": "recognised"}, {"reason": "x"}):
            harness.expect_problem(self, recognise(mid, "admin", body=body),
                                   422, "invalid_body")
        # A body that is not an object is malformed, as on every route.
        for body in ([], "x"):
            harness.expect_problem(self, recognise(mid, "admin", body=body),
                                   400, "body_not_object")
        self.assertEqual(get(mid), m)
        # The province's admin recognises it, with an empty object.
        r = ok(recognise(mid, "admin", body={}))
        self.assertEqual(r.json()["status"], "recognised")
        self.assertEqual(r.json()["recognised_by"],
                         harness.demo_user_id("admin"))
        harness.expect_problem(self, recognise(mid, "admin"), 409,
                               "invalid_transition")
        harness.expect_problem(self, recognise(str(uuid.uuid4()), "admin",
                                               if_match='"1"'),
                               404, "not_found")
        # The thôn 1 model is not recognised by thôn 1's own side.
        t1 = new_model()
        harness.expect_problem(self, recognise(t1["id"], "officer"), 403,
                               "forbidden")
        self.assertEqual(get(t1["id"])["status"], "registered")

    def test_bad_queries(self):
        for q, field in (("limit=0", "limit"), ("limit=201", "limit"),
                         ("limit=x", "limit"), ("cursor=zz", "cursor"),
                         ("cursor=abc", "cursor"), ("field=sports", "field"),
                         ("status=approved", "status"),
                         ("unit_id=thon-1", "unit_id"), ("q=", "q"),
                         ("q=" + "x" * 201, "q"), ("fields=a-b", "fields")):
            r = call("viewer", "GET", "/api/v1/models?" + q)
            harness.expect_problem(self, r, 400, "invalid_query",
                                   {field: r.json()["errors"][0]["code"]})
        harness.expect_problem(
            self, call("viewer", "GET", "/api/v1/models/counts?fields=a-b"),
            400, "invalid_query")
        # GET takes no body.
        r = call("viewer", "GET", "/api/v1/models", raw=b"{}",
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 413, "payload_too_large")
        # Unknown methods and ids.
        r = call("leader", "DELETE", "/api/v1/models/" + DEMO_1)
        harness.expect_problem(self, r, 405, "method_not_allowed")
        self.assertIn("PATCH", r.headers["Allow"])
        r = call("leader", "POST", "/api/v1/models/counts", body={})
        harness.expect_problem(self, r, 405, "method_not_allowed")
        harness.expect_problem(self, call("leader", "GET",
                                          "/api/v1/models/not-a-uuid"),
                               404, "not_found")
        harness.expect_problem(self, call("leader", "GET", "/api/v1/models/"
                                          + str(uuid.uuid4())),
                               404, "not_found")
        # No credentials.
        r = call(None, "GET", "/api/v1/models")
        harness.expect_problem(self, r, 401, "unauthenticated")


class Roles(unittest.TestCase):

    def test_readers_and_writers(self):
        m = new_model()
        for who in harness.ROLES:
            self.assertIn(DEMO_1, ids(who), who)
            ok(call(who, "GET", "/api/v1/models/" + DEMO_2))
            ok(call(who, "GET", "/api/v1/models/counts"))
        for who in NO_WRITE:
            harness.expect_problem(self, call(who, "POST", "/api/v1/models",
                                              body={"unit_id": U["thon-1"],
                                                    "name": "x",
                                                    "field": "other"}),
                                   403, "forbidden")
            harness.expect_problem(self, patch(m["id"], {"results": "x"},
                                               who=who), 403, "forbidden")
        for who in NO_RECOGNISE:
            harness.expect_problem(self, recognise(m["id"], who), 403,
                                   "forbidden")
        self.assertEqual(get(m["id"]), m)
        # The writers: each for a unit of its own subtree.
        for who, unit in (("admin", "thon-2"), ("leader", "commune"),
                          ("coordinator", "phong-vh-xh"),
                          ("officer", "mat-tran-thon-1")):
            made = new_model(who, unit)
            ok(patch(made["id"], {"status": "implementing"}, who=who))
        self.assertEqual(int(db().psql(
            "SELECT count(*) FROM audit_events WHERE entity_type = 'model'"
            " AND actor_kind = 'service'")[0][0]), 0)


class Scope(unittest.TestCase):

    def test_neighbours_see_each_other(self):
        # Thôn 2's model is visible to the thôn 1 officer: a neighbour.
        self.assertEqual(get(DEMO_2, "officer")["unit_id"], U["thon-2"])
        self.assertIn(DEMO_2, ids("officer"))
        self.assertIn(DEMO_2, ids("thon3"))
        # ... but only thôn 2 or above may change it.
        harness.expect_problem(self, patch(DEMO_2, {"results": "x"}),
                               404, "not_found")
        harness.expect_problem(self, patch(DEMO_2, {"results": "x"},
                                           who="thon3"), 404, "not_found")
        # The commune's offices see the villages' models, and the commune's.
        self.assertIn(DEMO_1, ids("coordinator"))
        commune = new_model("leader", "commune")
        for who in ("officer", "coordinator", "thon3"):
            self.assertEqual(get(commune["id"], who)["id"], commune["id"])
        office = new_model("coordinator", "phong-vh-xh")
        self.assertEqual(get(office["id"], "officer")["id"], office["id"])
        # Yet the counts of a unit are of its own subtree only.
        self.assertNotIn(U["thon-2"], {c[0] for c in api_counts("officer")})
        self.assertNotIn(U["commune"], {c[0] for c in api_counts("officer")})

    def test_another_village_front_board_is_hidden(self):
        # A model of thôn 2's Front board is under thôn 2: thôn 1, thôn 3
        # and Phòng VH-XH are neither at, above, below nor beside its unit.
        hidden = new_model("leader", "mat-tran-thon-2")
        hid = hidden["id"]
        for who in ("officer", "thon3", "coordinator"):
            harness.expect_problem(self, call(who, "GET",
                                              "/api/v1/models/" + hid),
                                   404, "not_found")
            self.assertNotIn(hid, ids(who), who)
            self.assertNotIn(hid, ids(who, "unit_id=" +
                                      U["mat-tran-thon-2"]), who)
        harness.expect_problem(self, patch(hid, {"results": "x"}), 404,
                               "not_found")
        for who in ("leader", "viewer", "inspector", "admin", "service"):
            self.assertEqual(get(hid, who)["id"], hid)
            self.assertIn(hid, ids(who), who)
        # Thôn 1's own Front board is below the thôn 1 officer, but not
        # visible to Phòng VH-XH.
        own = new_model("officer", "mat-tran-thon-1")
        self.assertEqual(get(own["id"], "officer")["id"], own["id"])
        harness.expect_problem(self, call("coordinator", "GET",
                                          "/api/v1/models/" + own["id"]),
                               404, "not_found")
        # The thôn 1 officer is above its Front board: it recognises? No
        # (officers do not recognise), but the leader does.
        ok(recognise(own["id"], "leader"))
        # Thôn 3 cannot replicate what it cannot see.
        ok(recognise(hid, "leader"))
        r = call("thon3", "POST", "/api/v1/models", body={
            "unit_id": U["thon-3"], "name": "x", "field": "other",
            "replicated_from": hid})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"replicated_from": "unknown"})
        self.assertEqual(get(hid)["status"], "recognised")


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
