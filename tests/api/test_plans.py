"""Plans over HTTP: reading within scope, search, pages and caching;
creating, changing and amending plans; issue and close; bad input of every
kind; who may write; and Idempotency-Key on POST /plans."""

import json
import unittest
import uuid

import harness
from harness import CHECK, COMMUNE_PLAN, PROVINCE_PLAN, U, call, db, tag

NON_WRITERS = ("coordinator", "inspector", "officer", "viewer", "service")
# A plan the province admin made for Sở Nội vụ: outside the commune.
so_plan = None


def build():
    global so_plan
    so_plan = create({"title": "Kế hoạch của Sở Nội vụ " + tag(),
                      "year": 2026, "issuing_unit_id": U["so-noi-vu"]},
                     role="admin")


setUpModule, tearDownModule = harness.fixtures(build)


def body(**extra):
    b = {"title": "Kế hoạch thử " + tag(), "year": 2026,
         "issuing_unit_id": U["commune"]}
    b.update(extra)
    return b


def create(b=None, role="leader"):
    r = call(role, "POST", "/api/v1/plans", body=b if b is not None
             else body())
    CHECK.assertEqual(r.status, 201, r.describe())
    return r.json()


def get(pid, role="leader"):
    r = call(role, "GET", "/api/v1/plans/" + pid)
    CHECK.assertEqual(r.status, 200, r.describe())
    return r


def etag(pid, role="leader"):
    return get(pid, role).headers["ETag"]


def patch(pid, changes, role="leader", tag_=None):
    return call(role, "PATCH", "/api/v1/plans/" + pid, body=changes,
                headers={"If-Match": tag_ or etag(pid)})


def transition(pid, to, role="leader", b=None, tag_=None):
    return call(role, "POST", "/api/v1/plans/%s/%s" % (pid, to), body=b,
                headers={"If-Match": tag_ or etag(pid)})


def issued_plan(**extra):
    p = create(body(**extra))
    r = transition(p["id"], "issue")
    CHECK.assertEqual(r.status, 200, r.describe())
    return r.json()


def walk(role, query="", limit=50):
    return harness.all_items(role, "/api/v1/plans", query, limit, 500)


def plan_rows(where="true"):
    return int(db().psql("SELECT count(*) FROM plans WHERE " + where)[0][0])


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def visible_ids(unit_id, role):
    """The ids of the plans a caller of `unit_id` with `role` sees, from
    SQL: issued and closed plans of its unit, the units above it and the
    units below it; drafts of its unit and the units below it when it may
    edit them (admin, leader), else drafts of its own unit only (service
    accounts: none)."""
    drafts = {"admin": "edit", "leader": "edit", "service": "none"}.get(
        role, "unit")
    rows = db().psql(
        "SELECT p.id FROM plans p JOIN units iu ON iu.id = p.issuing_unit_id,"
        " units me WHERE me.id = '%s' AND CASE WHEN p.status = 'draft' THEN"
        " iu.path <@ me.path AND ('%s' = 'edit' OR ('%s' = 'unit' AND"
        " iu.id = me.id)) ELSE iu.path @> me.path OR iu.path <@ me.path END"
        % (unit_id, drafts, drafts))
    return {r[0] for r in rows}


class Read(unittest.TestCase):

    def test_every_role_reads_the_commune_plan(self):
        for role in harness.ROLES:
            with self.subTest(role=role):
                r = get(COMMUNE_PLAN, role)
                doc = r.json()
                self.assertEqual(doc["id"], COMMUNE_PLAN)
                self.assertEqual(doc["issuing_unit_id"], U["commune"])
                self.assertEqual(doc["parent_plan_id"], PROVINCE_PLAN)
                self.assertEqual(doc["status"], "issued")
                self.assertIsNone(doc["code"])
                self.assertEqual(r.headers["ETag"], '"%d"' % doc["version"])

    def test_lists_hold_what_each_role_may_see(self):
        for role in harness.ROLES:
            with self.subTest(role=role):
                unit = harness.demo_account(role)["unit_id"]
                items = walk(role)
                ids = [p["id"] for p in items]
                self.assertEqual(len(ids), len(set(ids)))
                self.assertEqual(set(ids), visible_ids(unit, role))
                self.assertIn(COMMUNE_PLAN, ids)
                self.assertIn(PROVINCE_PLAN, ids)
                # The Sở's draft: seen from the province by its editors.
                if unit == U["province"] and role != "service":
                    self.assertIn(so_plan["id"], ids)
                else:
                    self.assertNotIn(so_plan["id"], ids)

    def test_order_is_year_descending_then_id(self):
        create(body(year=2027))
        create(body(year=2025))
        items = walk("admin", limit=3)
        keys = [(-p["year"], p["id"]) for p in items]
        self.assertEqual(keys, sorted(keys))
        self.assertGreaterEqual(len({p["year"] for p in items}), 3)

    def test_pages_cover_every_plan_once(self):
        for _ in range(3):
            create()
        whole = [p["id"] for p in walk("leader", limit=200)]
        for limit in (1, 2, 5):
            with self.subTest(limit=limit):
                paged = [p["id"] for p in walk("leader", limit=limit)]
                self.assertEqual(paged, whole)
        self.assertGreaterEqual(len(whole), 5)

    def test_filters(self):
        draft = create(body(year=2031))
        items = walk("leader", "parent_plan_id=" + PROVINCE_PLAN)
        self.assertIn(COMMUNE_PLAN, [p["id"] for p in items])
        self.assertEqual({p["id"] for p in items}, {r[0] for r in db().psql(
            "SELECT id FROM plans WHERE parent_plan_id = '%s'"
            % PROVINCE_PLAN)})
        self.assertTrue(all(p["parent_plan_id"] == PROVINCE_PLAN
                            for p in items))
        items = walk("leader", "year=2031")
        self.assertEqual([p["id"] for p in items], [draft["id"]])
        items = walk("leader", "status=draft")
        self.assertIn(draft["id"], [p["id"] for p in items])
        self.assertTrue(all(p["status"] == "draft" for p in items))
        items = walk("leader", "status=issued")
        self.assertNotIn(draft["id"], [p["id"] for p in items])
        self.assertTrue({COMMUNE_PLAN, PROVINCE_PLAN} <=
                        {p["id"] for p in items})
        items = walk("admin", "issuing_unit_id=" + U["so-noi-vu"])
        self.assertEqual([p["id"] for p in items], [so_plan["id"]])

    def test_bad_filters_400(self):
        for q, field in (("year=1999", "year"), ("year=abc", "year"),
                         ("status=open", "status"),
                         ("issuing_unit_id=x", "issuing_unit_id"),
                         ("parent_plan_id=1", "parent_plan_id"),
                         ("limit=0", "limit"), ("limit=201", "limit"),
                         ("cursor=xyz", "cursor")):
            with self.subTest(q=q):
                r = call("leader", "GET", "/api/v1/plans?" + q)
                doc = harness.expect_problem(self, r, 400, "invalid_query")
                self.assertIn(field, [e["field"] for e in doc["errors"]])

    def test_search_ignores_diacritics_and_case(self):
        for q in ("dan%20van%20chinh%20quyen",
                  "D%C3%82N%20V%E1%BA%ACN%20ch%C3%ADnh%20quy%E1%BB%81n",
                  "DAN%20VAN%20CHINH%20QUYEN"):
            with self.subTest(q=q):
                ids = [p["id"] for p in walk("leader", "q=" + q)]
                self.assertEqual(sorted(ids),
                                 sorted([PROVINCE_PLAN, COMMUNE_PLAN]))
        # The code is searched too; a word in no title finds nothing.
        ids = [p["id"] for p in walk("leader", "q=14%2FKH-UBND")]
        self.assertEqual(ids, [PROVINCE_PLAN])
        self.assertEqual(walk("leader", "q=khong%20co%20dau%20" + tag()), [])

    def test_etag_and_304(self):
        r = get(COMMUNE_PLAN)
        tag_ = r.headers["ETag"]
        r = call("leader", "GET", "/api/v1/plans/" + COMMUNE_PLAN,
                 headers={"If-None-Match": tag_})
        self.assertEqual(r.status, 304, r.describe())
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("ETag"), tag_)
        r = call("leader", "GET", "/api/v1/plans/" + COMMUNE_PLAN,
                 headers={"If-None-Match": '"999"'})
        self.assertEqual(r.status, 200, r.describe())

    def test_unknown_and_malformed_ids_404(self):
        for path in ("/api/v1/plans/" + str(uuid.uuid4()),
                     "/api/v1/plans/not-a-uuid",
                     "/api/v1/plans/%s/versions" % uuid.uuid4()):
            with self.subTest(path=path):
                harness.expect_problem(self, call("admin", "GET", path), 404,
                                       "not_found")


class Scope(unittest.TestCase):
    """A plan of Sở Nội vụ is out of the commune's sight; the province's
    plan is in sight of the commune but not under its management."""

    def test_so_noi_vu_plan_is_404_below_the_province(self):
        pid = so_plan["id"]
        self.assertEqual(get(pid, "admin").json()["title"], so_plan["title"])
        for role in ("leader", "officer", "coordinator", "viewer"):
            with self.subTest(role=role):
                harness.expect_problem(
                    self, call(role, "GET", "/api/v1/plans/" + pid), 404,
                    "not_found")
                harness.expect_problem(
                    self, call(role, "GET",
                               "/api/v1/plans/%s/versions" % pid), 404,
                    "not_found")
        r = call("leader", "PATCH", "/api/v1/plans/" + pid,
                 body={"title": "Không được"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        r = call("leader", "POST", "/api/v1/plans/%s/issue" % pid,
                 headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(get(pid, "admin").json()["version"], 1)
        self.assertEqual(get(pid, "admin").json()["status"], "draft")

    def test_leader_reads_but_cannot_manage_the_province_plan(self):
        r = get(PROVINCE_PLAN)
        self.assertEqual(r.json()["code"], "14/KH-UBND")
        before = r.json()
        for changes in ({"title": "Sửa kế hoạch tỉnh"},
                        {"title": "Sửa kế hoạch tỉnh",
                         "amendment_reason": "thử"}):
            with self.subTest(changes=changes):
                r = call("leader", "PATCH", "/api/v1/plans/" + PROVINCE_PLAN,
                         body=changes, headers={"If-Match": etag(
                             PROVINCE_PLAN)})
                harness.expect_problem(self, r, 404, "not_found")
        r = transition(PROVINCE_PLAN, "close")
        harness.expect_problem(self, r, 404, "not_found")
        self.assertEqual(get(PROVINCE_PLAN).json(), before)

    def test_leader_cannot_create_for_units_it_does_not_manage(self):
        before = plan_rows()
        for unit in (U["province"], U["so-noi-vu"], str(uuid.uuid4())):
            with self.subTest(unit=unit):
                r = call("leader", "POST", "/api/v1/plans",
                         body=body(issuing_unit_id=unit))
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"issuing_unit_id": "unknown"})
        self.assertEqual(plan_rows(), before)

    def test_leader_creates_for_a_unit_below_the_commune(self):
        p = create(body(issuing_unit_id=U["thon-2"]))
        self.assertEqual(p["issuing_unit_id"], U["thon-2"])
        # The officer of thon-1 does not see a plan of thon-2.
        harness.expect_problem(
            self, call("officer", "GET", "/api/v1/plans/" + p["id"]), 404,
            "not_found")

    def test_parent_plan_must_be_visible(self):
        # The leader cannot see the Sở Nội vụ plan, so cannot name it.
        before = plan_rows()
        r = call("leader", "POST", "/api/v1/plans",
                 body=body(parent_plan_id=so_plan["id"]))
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"parent_plan_id": "unknown"})
        self.assertEqual(plan_rows(), before)


class Create(unittest.TestCase):

    def test_create_with_every_field(self):
        b = body(code="05/KH-UBND", issued_on="2026-02-01",
                 signer_name="Võ Văn Tâm", signer_title="Chủ tịch",
                 parent_plan_id=PROVINCE_PLAN,
                 legal_bases=[{"code": "33/CT-TTg", "date": "2021-11-26",
                               "issuer": "Thủ tướng Chính phủ",
                               "title": "về công tác dân vận"},
                              {"title": "Luật Thực hiện dân chủ ở cơ sở",
                               "note": None}],
                 purposes="Mục đích", requirements="Yêu cầu",
                 funding="Ngân sách xã",
                 recipients=[{"name": "Sở Nội vụ",
                              "unit_id": U["so-noi-vu"], "note": "báo cáo"},
                             {"name": "Lưu: VT"}])
        before = plan_rows()
        r = call("leader", "POST", "/api/v1/plans", body=b)
        self.assertEqual(r.status, 201, r.describe())
        doc = r.json()
        for k, v in b.items():
            self.assertEqual(doc[k], v, k)
        self.assertEqual(doc["status"], "draft")
        self.assertEqual(doc["version"], 1)
        self.assertEqual(r.headers["ETag"], '"1"')
        self.assertEqual(r.headers["Location"], "/api/v1/plans/" + doc["id"])
        self.assertEqual(get(doc["id"]).json(), doc)
        self.assertEqual(plan_rows(), before + 1)
        row = db().psql("SELECT title, status, issuing_unit_id, year FROM "
                        "plans WHERE id = '%s'" % doc["id"])
        self.assertEqual(row, [(b["title"], "draft", U["commune"], "2026")])

    def test_minimal_create_fills_defaults(self):
        doc = create(body(code=None))
        self.assertIsNone(doc["code"])
        self.assertEqual((doc["legal_bases"], doc["recipients"],
                          doc["purposes"], doc["funding"]), ([], [], "", ""))
        self.assertIsNone(doc["parent_plan_id"])

    def test_admin_creates_for_any_unit(self):
        p = create(body(issuing_unit_id=U["thon-4"]), role="admin")
        self.assertEqual(get(p["id"], "leader").json()["id"], p["id"])

    def test_wrong_types_name_the_field(self):
        cases = [
            ({"title": 5}, {"title": "type"}),
            ({"year": "2026"}, {"year": "type"}),
            ({"year": 1999}, {"year": "range"}),
            ({"year": 2026.5}, {"year": "type"}),
            ({"issuing_unit_id": "binh-chuong"},
             {"issuing_unit_id": "format"}),
            ({"issued_on": "19/01/2026"}, {"issued_on": "format"}),
            ({"parent_plan_id": 7}, {"parent_plan_id": "type"}),
            ({"code": ""}, {"code": "length"}),
            ({"title": ""}, {"title": "length"}),
            ({"title": "x" * 501}, {"title": "length"}),
            ({"signer_name": ["a"]}, {"signer_name": "type"}),
            ({"legal_bases": "33/CT-TTg"}, {"legal_bases": "type"}),
            ({"legal_bases": [{"code": 33, "title": "x"}]},
             {"legal_bases[0].code": "invalid"}),
            ({"legal_bases": [{"issuer": "Chính phủ"}]},
             {"legal_bases[0].title": "required"}),
            ({"legal_bases": ["33/CT-TTg"]}, {"legal_bases[0]": "type"}),
            ({"legal_bases": [{"title": "a", "pages": "3"}]},
             {"legal_bases[0].pages": "invalid"}),
            ({"recipients": [{"note": "báo cáo"}]},
             {"recipients[0].name": "required"}),
            ({"recipients": {"name": "Sở"}}, {"recipients": "type"}),
            ({"funding": "x" * 20001}, {"funding": "length"}),
            ({"title": None}, {"title": "null"}),
        ]
        before = plan_rows()
        for changes, errors in cases:
            with self.subTest(changes=str(changes)[:60]):
                r = call("leader", "POST", "/api/v1/plans",
                         body=body(**changes))
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        self.assertEqual(plan_rows(), before)

    def test_an_impossible_date_names_the_field(self):
        before = plan_rows()
        r = call("leader", "POST", "/api/v1/plans",
                 body=body(issued_on="2026-02-30"))
        self.assertEqual(r.status, 422, r.describe())
        fields = [e.get("field") for e in r.json().get("errors") or []]
        self.assertEqual(fields, ["issued_on"], r.describe())
        self.assertEqual(plan_rows(), before)

    def test_missing_fields_are_required(self):
        r = call("leader", "POST", "/api/v1/plans", body={})
        harness.expect_problem(self, r, 422, "invalid_body", {
            "title": "required", "year": "required",
            "issuing_unit_id": "required"})
        r = call("leader", "POST", "/api/v1/plans", body={"title": "x"})
        harness.expect_problem(self, r, 422, "invalid_body", {
            "year": "required", "issuing_unit_id": "required"})

    def test_unknown_fields_422(self):
        before = plan_rows()
        for extra, errors in (
                ({"colour": "đỏ"}, {"colour": "unknown"}),
                ({"id": str(uuid.uuid4())}, {"id": "unknown"}),
                ({"status": "issued"}, {"status": "unknown"}),
                ({"amendment_reason": "x", "owner": 1},
                 {"owner": "unknown"}),
                ({"id": str(uuid.uuid4()), "status": "issued"},
                 {"id": "unknown", "status": "unknown"})):
            with self.subTest(extra=list(extra)):
                r = call("leader", "POST", "/api/v1/plans",
                         body=body(**extra))
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        self.assertEqual(plan_rows(), before)

    def test_unknown_parent_plan_422(self):
        before = plan_rows()
        r = call("leader", "POST", "/api/v1/plans",
                 body=body(parent_plan_id=str(uuid.uuid4())))
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"parent_plan_id": "unknown"})
        self.assertEqual(plan_rows(), before)

    def test_bad_requests(self):
        path = "/api/v1/plans"
        valid = json.dumps(body()).encode()
        big = json.dumps(body(purposes="x" * (256 * 1024))).encode()
        self.assertGreater(len(big), 256 * 1024)
        before = plan_rows()
        cases = [
            (b'{"title": "x",', "application/json", 400, "malformed_json"),
            (b'{"title": "x"} {}', "application/json", 400,
             "malformed_json"),
            (b'[]', "application/json", 400, "body_not_object"),
            (b'', "application/json", 400, "body_required"),
            (valid, "text/plain", 415, "unsupported_media_type"),
            (valid, "application/x-www-form-urlencoded", 415,
             "unsupported_media_type"),
            (valid, None, 415, "unsupported_media_type"),
            (big, "application/json", 413, "payload_too_large"),
        ]
        for raw, ctype, status, problem in cases:
            with self.subTest(problem=problem, ctype=ctype):
                headers = {"Content-Type": ctype} if ctype else {}
                if status == 413:
                    r = harness.send_unread("leader", path, raw, headers)
                else:
                    r = call("leader", "POST", path, raw=raw,
                             headers=headers)
                doc = harness.expect_problem(self, r, status, problem)
                if problem == "malformed_json":
                    self.assertRegex(doc["detail"], r"line \d+")
        self.assertEqual(plan_rows(), before)
        # A valid plan just under the cap is accepted.
        b = body(legal_bases=[{"title": "x" * 2000} for _ in range(100)],
                 purposes="p" * 20000, requirements="r" * 20000)
        b["funding"] = "f" * (255 * 1024 - len(json.dumps(b)))
        under = json.dumps(b).encode()
        self.assertTrue(250 * 1024 < len(under) <= 256 * 1024, len(under))
        r = call("leader", "POST", path, raw=under,
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r.describe())
        self.assertEqual(len(r.json()["legal_bases"]), 100)

    def test_no_credentials_401(self):
        r = call(None, "POST", "/api/v1/plans", body=body())
        harness.expect_problem(self, r, 401, "unauthenticated")
        r = call(None, "GET", "/api/v1/plans")
        harness.expect_problem(self, r, 401, "unauthenticated")


class Roles(unittest.TestCase):

    def test_only_leader_and_admin_write(self):
        draft = create()
        before = plan_rows()
        for role in NON_WRITERS:
            with self.subTest(role=role):
                r = call(role, "POST", "/api/v1/plans", body=body())
                harness.expect_problem(self, r, 403, "forbidden")
                r = call(role, "PATCH", "/api/v1/plans/" + draft["id"],
                         body={"title": "x"}, headers={"If-Match": '"1"'})
                harness.expect_problem(self, r, 403, "forbidden")
                for to in ("issue", "close"):
                    r = call(role, "POST", "/api/v1/plans/%s/%s"
                             % (draft["id"], to), headers={"If-Match": '"1"'})
                    harness.expect_problem(self, r, 403, "forbidden")
                r = call(role, "POST", "/api/v1/plans/import",
                         body={"plan": body()})
                harness.expect_problem(self, r, 403, "forbidden")
        self.assertEqual(plan_rows(), before)
        self.assertEqual(get(draft["id"]).json(), draft)

    def test_every_role_reads(self):
        for role in NON_WRITERS + ("leader", "admin"):
            with self.subTest(role=role):
                for path in ("/api/v1/plans",
                             "/api/v1/plans/" + COMMUNE_PLAN,
                             "/api/v1/plans/%s/versions" % COMMUNE_PLAN):
                    r = call(role, "GET", path)
                    self.assertEqual(r.status, 200, r.describe())


class Update(unittest.TestCase):

    def test_draft_changes_directly(self):
        p = create()
        r = patch(p["id"], {"title": "Tên mới", "funding": "Ngân sách",
                            "legal_bases": [{"code": "1/QĐ"}]})
        self.assertEqual(r.status, 200, r.describe())
        doc = r.json()
        self.assertEqual((doc["title"], doc["funding"], doc["version"]),
                         ("Tên mới", "Ngân sách", 2))
        self.assertEqual(doc["legal_bases"], [{"code": "1/QĐ"}])
        self.assertEqual(doc["year"], p["year"])
        self.assertEqual(r.headers["ETag"], '"2"')
        self.assertEqual(get(p["id"]).json(), doc)
        r = call("leader", "GET", "/api/v1/plans/%s/versions" % p["id"])
        self.assertEqual(r.json()["items"], [])

    def test_if_match(self):
        p = create()
        path = "/api/v1/plans/" + p["id"]
        r = call("leader", "PATCH", path, body={"title": "x"})
        harness.expect_problem(self, r, 428, "precondition_required")
        for stale in ('"2"', '"0"', "1", '"abc"'):
            with self.subTest(if_match=stale):
                r = call("leader", "PATCH", path, body={"title": "x"},
                         headers={"If-Match": stale})
                harness.expect_problem(self, r, 412, "precondition_failed")
        self.assertEqual(get(p["id"]).json(), p)
        self.assertEqual(patch(p["id"], {"title": "y"}, tag_='"1"').status,
                         200)
        r = patch(p["id"], {"title": "z"}, tag_='"1"')
        harness.expect_problem(self, r, 412, "precondition_failed")
        self.assertEqual(get(p["id"]).json()["title"], "y")

    def test_concurrent_patches_of_one_version_one_wins(self):
        # The version is compared under the plan's lock: of eight changes
        # made from the same version, one is applied and seven are stale.
        p = create()
        path, tag_ = "/api/v1/plans/" + p["id"], '"%d"' % p["version"]
        got = harness.locked_race(
            "plans", p["id"], 8, lambda i: call(
                "leader", "PATCH", path, body={"title": "Cùng lúc %d" % i},
                headers={"If-Match": tag_}))
        harness.expect_one_winner(self, got)
        won = next(r.json() for r in got if r.status == 200)
        self.assertEqual(won["version"], p["version"] + 1)
        self.assertEqual(get(p["id"]).json(), won)

    def test_invalid_patches(self):
        p = create()
        cases = [
            ({}, "empty_patch", None),
            ({"amendment_reason": "Chỉ có lý do"}, "empty_patch", None),
            ({"issuing_unit_id": U["thon-1"]}, "invalid_body",
             {"issuing_unit_id": "unknown"}),
            ({"status": "closed"}, "invalid_body", {"status": "unknown"}),
            ({"title": None}, "invalid_body", {"title": "null"}),
            ({"code": None}, "invalid_body", {"code": "null"}),
            ({"year": 3000}, "invalid_body", {"year": "range"}),
            ({"nickname": "x"}, "invalid_body", {"nickname": "unknown"}),
        ]
        for changes, problem, errors in cases:
            with self.subTest(changes=changes):
                r = patch(p["id"], changes)
                harness.expect_problem(self, r, 422, problem, errors)
        self.assertEqual(get(p["id"]).json(), p)

    def test_unknown_plan_404(self):
        r = call("leader", "PATCH", "/api/v1/plans/%s" % uuid.uuid4(),
                 body={"title": "x"}, headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")

    def test_unknown_parent_on_patch_422(self):
        p = create()
        r = patch(p["id"], {"parent_plan_id": str(uuid.uuid4())})
        harness.expect_problem(self, r, 422, "invalid_reference",
                               {"parent_plan_id": "unknown"})
        self.assertEqual(get(p["id"]).json(), p)

    def test_parent_makes_no_cycle(self):
        a = create()
        b = create(body(parent_plan_id=a["id"]))
        c = create(body(parent_plan_id=b["id"]))
        for parent in (a["id"], b["id"], c["id"]):
            with self.subTest(parent=parent):
                r = patch(a["id"], {"parent_plan_id": parent})
                harness.expect_problem(self, r, 422, "invalid_reference",
                                       {"parent_plan_id": "unknown"})
        self.assertEqual(get(a["id"]).json(), a)
        r = patch(c["id"], {"parent_plan_id": a["id"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["parent_plan_id"], a["id"])

    def test_issued_plan_changes_only_by_amendment(self):
        p = issued_plan(purposes="Cũ")
        before = get(p["id"]).json()
        r = patch(p["id"], {"purposes": "Mới"})
        doc = harness.expect_problem(self, r, 422, "amendment_required",
                                     {"amendment_reason": "required"})
        self.assertEqual(get(p["id"]).json(), before)
        self.assertEqual(db().psql("SELECT count(*) FROM plan_versions "
                                   "WHERE plan_id = '%s'" % p["id"]),
                         [("0",)])
        self.assertIn("amendment", doc["detail"])

        reason = "Điều chỉnh theo chỉ đạo của UBND tỉnh"
        r = patch(p["id"], {"purposes": "Mới", "amendment_reason": reason})
        self.assertEqual(r.status, 200, r.describe())
        after = r.json()
        self.assertEqual(after["purposes"], "Mới")
        self.assertEqual(after["status"], "issued")
        self.assertGreater(after["version"], before["version"])
        self.assertEqual(r.headers["ETag"], '"%d"' % after["version"])
        self.assertEqual(get(p["id"]).json(), after)

        r = call("viewer", "GET", "/api/v1/plans/%s/versions" % p["id"])
        self.assertEqual(r.status, 200, r.describe())
        items = r.json()["items"]
        self.assertEqual(len(items), 1, items)
        v = items[0]
        self.assertEqual(v["reason"], reason)
        self.assertEqual(v["changes"], {"purposes": "Mới"})
        self.assertEqual(v["entity_type"], "plan")
        self.assertEqual(v["entity_id"], p["id"])
        self.assertEqual(v["version"], after["version"])
        self.assertEqual(v["before"]["purposes"], "Cũ")
        self.assertEqual(v["before"]["version"], before["version"])
        leader_id = db().psql("SELECT id FROM users WHERE username = '%s'"
                              % harness.demo_account("leader")["username"])
        self.assertEqual(v["actor_id"], leader_id[0][0])

        # A second amendment comes after the first, oldest first.
        r = patch(p["id"], {"title": "Tên sửa", "amendment_reason": "Lần 2"})
        self.assertEqual(r.status, 200, r.describe())
        items = call("leader", "GET", "/api/v1/plans/%s/versions"
                     % p["id"]).json()["items"]
        self.assertEqual([i["reason"] for i in items], [reason, "Lần 2"])
        self.assertEqual(items[1]["before"]["title"], p["title"])
        self.assertLess(items[0]["version"], items[1]["version"])
        r = call("leader", "GET", "/api/v1/plans/%s/versions?limit=1"
                 % p["id"])
        self.assertEqual(len(r.json()["items"]), 1)
        cursor = r.json()["next_cursor"]
        self.assertIsNotNone(cursor)
        r = call("leader", "GET", "/api/v1/plans/%s/versions?limit=1&"
                 "cursor=%s" % (p["id"], cursor))
        self.assertEqual([i["reason"] for i in r.json()["items"]], ["Lần 2"])
        self.assertIsNone(r.json()["next_cursor"])

    def test_draft_ignores_amendment_reason(self):
        p = create()
        r = patch(p["id"], {"title": "Bản nháp", "amendment_reason": "x"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["version"], 2)
        self.assertEqual(db().psql("SELECT count(*) FROM plan_versions "
                                   "WHERE plan_id = '%s'" % p["id"]),
                         [("0",)])

    def test_closed_plan_409(self):
        p = issued_plan()
        self.assertEqual(transition(p["id"], "close").status, 200)
        closed = get(p["id"]).json()
        for changes in ({"title": "Sau khi đóng"},
                        {"title": "Sau khi đóng", "amendment_reason": "x"}):
            with self.subTest(changes=changes):
                r = patch(p["id"], changes)
                harness.expect_problem(self, r, 409, "plan_closed")
        self.assertEqual(get(p["id"]).json(), closed)


class Transitions(unittest.TestCase):

    def test_draft_issued_closed(self):
        p = create()
        r = transition(p["id"], "issue", b={"code": "07/KH-UBND",
                                            "issued_on": "2026-02-03"})
        self.assertEqual(r.status, 200, r.describe())
        doc = r.json()
        self.assertEqual((doc["status"], doc["code"], doc["issued_on"]),
                         ("issued", "07/KH-UBND", "2026-02-03"))
        self.assertEqual(doc["version"], 2)
        self.assertEqual(r.headers["ETag"], '"2"')
        self.assertEqual(get(p["id"]).json(), doc)
        r = transition(p["id"], "close")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["status"], "closed")
        self.assertEqual(r.json()["version"], 3)
        self.assertEqual(db().psql("SELECT status FROM plans WHERE id = '%s'"
                                   % p["id"]), [("closed",)])
        # Both transitions are in the audit trail.
        rows = db().psql("SELECT action FROM audit_events WHERE entity_id = "
                         "'%s' ORDER BY at, id" % p["id"])
        self.assertEqual([r[0] for r in rows], ["create", "issue", "close"])

    def test_issue_without_a_body_keeps_the_fields(self):
        p = create(body(code="08/KH-UBND"))
        r = transition(p["id"], "issue")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.json()["code"], r.json()["issued_on"]),
                         ("08/KH-UBND", None))

    def test_wrong_transitions_409(self):
        draft = create()
        r = transition(draft["id"], "close")
        harness.expect_problem(self, r, 409, "invalid_transition")
        self.assertEqual(get(draft["id"]).json()["status"], "draft")

        issued = issued_plan()
        r = transition(issued["id"], "issue")
        harness.expect_problem(self, r, 409, "invalid_transition")
        self.assertEqual(get(issued["id"]).json()["status"], "issued")

        self.assertEqual(transition(issued["id"], "close").status, 200)
        closed = get(issued["id"]).json()
        for to in ("issue", "close"):
            with self.subTest(to=to):
                r = transition(issued["id"], to)
                harness.expect_problem(self, r, 409, "plan_closed")
        self.assertEqual(get(issued["id"]).json(), closed)
        # The seeded commune plan is issued already.
        r = transition(COMMUNE_PLAN, "issue")
        harness.expect_problem(self, r, 409, "invalid_transition")

    def test_preconditions(self):
        p = create()
        for to in ("issue", "close"):
            with self.subTest(to=to):
                r = call("leader", "POST", "/api/v1/plans/%s/%s"
                         % (p["id"], to))
                harness.expect_problem(self, r, 428, "precondition_required")
                r = transition(p["id"], to, tag_='"7"')
                harness.expect_problem(self, r, 412, "precondition_failed")
        self.assertEqual(get(p["id"]).json(), p)
        r = call("leader", "POST", "/api/v1/plans/%s/issue" % uuid.uuid4(),
                 headers={"If-Match": '"1"'})
        harness.expect_problem(self, r, 404, "not_found")

    def test_bad_bodies(self):
        p = create()
        for to, b, errors in (
                ("issue", {"status": "issued"}, {"status": "unknown"}),
                ("issue", {"issued_on": "3/2/2026"}, {"issued_on": "format"}),
                ("issue", {"code": 14}, {"code": "type"}),
                ("close", {"code": "x"}, {"code": "unknown"})):
            with self.subTest(to=to, body=b):
                r = transition(p["id"], to, b=b)
                harness.expect_problem(self, r, 422, "invalid_body", errors)
        r = call("leader", "POST", "/api/v1/plans/%s/issue" % p["id"],
                 raw=b"{", headers={"If-Match": '"1"',
                                    "Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")
        r = call("leader", "POST", "/api/v1/plans/%s/issue" % p["id"],
                 raw=b"{}", headers={"If-Match": '"1"',
                                     "Content-Type": "text/plain"})
        harness.expect_problem(self, r, 415, "unsupported_media_type")
        self.assertEqual(get(p["id"]).json(), p)


class Idempotency(unittest.TestCase):

    def post(self, b, key):
        return call("leader", "POST", "/api/v1/plans", body=b,
                    headers={"Idempotency-Key": key})

    def test_replay_creates_one_plan(self):
        b, key = body(), "plan-" + tag()
        first = self.post(b, key)
        self.assertEqual(first.status, 201, first.describe())
        self.assertIsNone(first.headers.get("Idempotent-Replayed"))
        second = self.post(b, key)
        self.assertEqual(second.status, 201, second.describe())
        self.assertEqual(second.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(second.json()["id"], first.json()["id"])
        self.assertEqual(second.body, first.body)
        self.assertEqual(second.headers.get("Location"),
                         first.headers["Location"])
        self.assertEqual(second.headers.get("ETag"), first.headers["ETag"])
        self.assertEqual(plan_rows("title = " + sql_str(b["title"])), 1)

    def test_same_key_other_body_422(self):
        b, key = body(), "plan-" + tag()
        self.assertEqual(self.post(b, key).status, 201)
        other = body()
        r = self.post(other, key)
        harness.expect_problem(self, r, 422, "idempotency_key_reused")
        self.assertEqual(plan_rows("title = " + sql_str(other["title"])), 0)
        self.assertEqual(plan_rows("title = " + sql_str(b["title"])), 1)

    def test_without_a_key_each_post_creates(self):
        b = body()
        self.assertEqual(call("leader", "POST", "/api/v1/plans",
                              body=b).status, 201)
        self.assertEqual(call("leader", "POST", "/api/v1/plans",
                              body=b).status, 201)
        self.assertEqual(plan_rows("title = " + sql_str(b["title"])), 2)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
