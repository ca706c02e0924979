"""CORS (DANVAN_CORS_ORIGINS): preflight OPTIONS on every route, answered
without credentials; the allowed origin echoed (never "*"), the headers a
client must read exposed, Vary: Origin; an origin off the list, or a
server with no list, gets no Access-Control-* header."""

import unittest

import harness
from harness import SEED_UNITS, call, ok, srv

FRONT = "https://front.example"
OTHER = "https://evil.example"
setUpModule, tearDownModule = harness.fixtures(
    env={"DANVAN_CORS_ORIGINS": "https://a.example  " + FRONT + ",https://b.example"})


def preflight(path, origin=FRONT, method="GET", headers="authorization"):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return srv().request("OPTIONS", path, headers=h)


def acao(resp):
    return [k for k, _ in resp.headers.items()
            if k.lower().startswith("access-control-")]


class TestPreflight(unittest.TestCase):
    def test_allowed_origin(self):
        r = ok(preflight("/api/v1/units/" + SEED_UNITS["commune"], method="PATCH",
                         headers="authorization,content-type,if-match"), 204)
        self.assertEqual(r.headers["Access-Control-Allow-Origin"], FRONT)
        # The methods this path has, nothing else.
        self.assertEqual(r.headers["Access-Control-Allow-Methods"],
                         "GET, HEAD, PATCH, DELETE")
        allowed = {h.strip().lower() for h in
                   r.headers["Access-Control-Allow-Headers"].split(",")}
        self.assertEqual(allowed, {"authorization", "content-type", "if-match",
                                   "if-none-match", "idempotency-key",
                                   "x-request-id", "range"})
        self.assertEqual(r.headers["Access-Control-Max-Age"], "600")
        self.assertIn("Origin", r.headers.get_all("Vary"))
        self.assertNotIn("Access-Control-Allow-Credentials", r.headers)
        self.assertEqual(r.headers["Allow"], "GET, HEAD, PATCH, DELETE, OPTIONS")

    def test_every_route_answers_without_credentials(self):
        for path, methods in (("/api/v1/auth/token", "POST"),
                              ("/api/v1/plans", "GET, HEAD, POST"),
                              ("/api/v1/me", "GET, HEAD"),
                              ("/healthz", "GET, HEAD")):
            r = ok(preflight(path, method=methods.split(",")[0]), 204)
            self.assertEqual(r.headers["Access-Control-Allow-Methods"],
                             methods, path)

    def test_origin_not_on_the_list(self):
        for origin in (OTHER, FRONT + "/", "https://FRONT.example",
                       FRONT + ":443", "null", "https://a.example.evil"):
            r = ok(preflight("/api/v1/units", origin=origin), 204)
            self.assertEqual(acao(r), [], origin)

    def test_plain_options_and_unknown_path(self):
        r = ok(srv().request("OPTIONS", "/api/v1/plans"), 204)
        self.assertEqual(acao(r), [])
        self.assertEqual(r.headers["Allow"], "GET, HEAD, POST, OPTIONS")
        r = ok(preflight("/api/v1/nothing"), 404)
        self.assertEqual(r.headers["Access-Control-Allow-Origin"], FRONT)


class TestResponses(unittest.TestCase):
    def test_allowed_origin_reads_exposed_headers(self):
        r = ok(call("admin", "GET", "/api/v1/units", headers={"Origin": FRONT}))
        self.assertEqual(r.headers["Access-Control-Allow-Origin"], FRONT)
        exposed = {h.strip() for h in
                   r.headers["Access-Control-Expose-Headers"].split(",")}
        self.assertEqual(exposed, {"ETag", "Location", "X-Request-Id",
                                   "Idempotent-Replayed", "Content-Range",
                                   "Content-Disposition", "Retry-After"})
        self.assertIn("Origin", r.headers.get_all("Vary"))

    def test_errors_carry_them_too(self):
        # A browser must read a 401 to know it has to sign in again.
        r = ok(call(None, "GET", "/api/v1/units", headers={"Origin": FRONT}), 401)
        self.assertEqual(r.headers["Access-Control-Allow-Origin"], FRONT)

    def test_other_origin_gets_nothing(self):
        r = ok(call("admin", "GET", "/api/v1/units", headers={"Origin": OTHER}))
        self.assertEqual(acao(r), [])
        self.assertIn("Origin", r.headers.get_all("Vary"))


class TestNoList(unittest.TestCase):
    """Without DANVAN_CORS_ORIGINS: same origin only."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(harness.db()).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_nothing_allowed(self):
        r = ok(self.server.request("OPTIONS", "/api/v1/units", headers={
            "Origin": FRONT, "Access-Control-Request-Method": "GET"}), 204)
        self.assertEqual(acao(r), [])
        r = ok(self.server.request("GET", "/healthz", headers={"Origin": FRONT}))
        self.assertEqual(acao(r), [])
        self.assertNotIn("Origin", r.headers.get_all("Vary"))


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
