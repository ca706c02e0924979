"""Signing in and being recognised: access and refresh tokens, every defect
a bearer token can have, deactivated accounts, equal answers for wrong,
unknown and deactivated sign-ins, throttling, GET /me, and the table of
which role may call which identity route."""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import time
import unittest
import uuid

import harness
from harness import CHECK, U, Bearer, call, db, srv, strong_password

ISSUER = "danvan"
AUDIENCE = "danvan-api"
KID = "k1"
INVALID_TOKEN_CHALLENGE = 'Bearer realm="danvan", error="invalid_token"'
INVALID_REQUEST_CHALLENGE = 'Bearer realm="danvan", error="invalid_request"'


# Many deliberate failed sign-ins from 127.0.0.1 happen here; the throttle
# itself is tested on servers of its own below.
setUpModule, tearDownModule = harness.fixtures(
    env={"DANVAN_LOGIN_LIMIT": "1000"})


def new_name(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def patch_user(test, uid, changes, expect=200):
    cur = call("admin", "GET", "/api/v1/users/" + uid)
    test.assertEqual(cur.status, 200, cur.describe())
    r = call("admin", "PATCH", "/api/v1/users/" + uid, body=changes,
             headers={"If-Match": cur.headers["ETag"]})
    test.assertEqual(r.status, expect, r.describe())
    return r


def refresh(refresh_token, server=None):
    return call(None, "POST", "/api/v1/auth/refresh", srv=server,
                body={"refresh_token": refresh_token})


def me(credential):
    return call(Bearer(credential), "GET", "/api/v1/me")


def probe(credential, unit=U["commune"]):
    """A call that needs a valid credential (any role of the commune)."""
    return call(Bearer(credential), "GET", "/api/v1/units/" + unit)


def sha256_hex(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


# --- JWTs made by hand -----------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(tok):
    h, p, s = tok.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
           "HS512": hashlib.sha512}


def forge(claims, header=None, key=None, sign_with="HS256"):
    """A JWT with exactly this header and these claims, signed HMAC
    `sign_with` with `key` (default: the secret the server was given);
    sign_with None gives an empty signature."""
    if header is None:
        header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    key = harness.JWT_SECRET.encode() if key is None else key
    signing = (b64url(json.dumps(header, separators=(",", ":")).encode())
               + "." +
               b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = b""
    if sign_with is not None:
        sig = hmac.new(key, signing.encode(), DIGESTS[sign_with]).digest()
    return signing + "." + b64url(sig)


DROP = object()


def claims(uid, role, unit, /, **over):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": uid,
         "jti": secrets.token_hex(16), "role": role, "unit": unit,
         "iat": now, "nbf": now, "exp": now + 600}
    for k, v in over.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return c


# --- tests -----------------------------------------------------------------

class SignIn(unittest.TestCase):

    def test_token_response(self):
        acct = harness.demo_account("admin")
        before = int(time.time())
        r = harness.login(acct["username"], acct["password"])
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertEqual(r.headers.get("Pragma"), "no-cache")
        self.assertIsNone(r.headers.get("ETag"))
        doc = r.json()
        self.assertEqual(set(doc), {"access_token", "token_type",
                                    "expires_in", "refresh_token",
                                    "refresh_expires_in"})
        self.assertEqual(doc["token_type"], "Bearer")
        self.assertEqual(doc["expires_in"], 900)
        self.assertEqual(doc["refresh_expires_in"], 30 * 86400)
        self.assertRegex(doc["refresh_token"], r"^dvr_[A-Za-z0-9_-]{43}$")
        header, body, sig = jwt_parts(doc["access_token"])
        self.assertEqual(header.get("alg"), "HS256")
        self.assertEqual(header.get("kid"), KID)
        self.assertEqual(body["iss"], ISSUER)
        self.assertEqual(body["aud"], AUDIENCE)
        self.assertEqual(body["sub"], harness.user_id("admin"))
        self.assertEqual(body["role"], "admin")
        self.assertEqual(body["unit"], U["province"])
        self.assertEqual(body["exp"] - body["iat"], 900)
        self.assertLessEqual(abs(body["iat"] - before), 5)
        # Signed HS256 with the configured secret: the same bytes again.
        signing = doc["access_token"].rsplit(".", 1)[0]
        self.assertEqual(sig, b64url(hmac.new(
            harness.JWT_SECRET.encode(), signing.encode(),
            hashlib.sha256).digest()))
        # Only a hash of the refresh token is stored.
        rows = db().psql("SELECT user_id, expires_at > now() + interval "
                         "'29 days' FROM refresh_tokens WHERE token_hash = "
                         "'%s'" % sha256_hex(doc["refresh_token"]))
        self.assertEqual(rows, [(harness.user_id("admin"), "t")])
        leaked = db().psql("SELECT count(*) FROM refresh_tokens WHERE "
                           "token_hash = '%s'" % doc["refresh_token"])
        self.assertEqual(leaked, [("0",)])

    def test_access_token_works(self):
        acct = harness.demo_account("viewer")
        doc = harness.sign_in(acct["username"], acct["password"])
        r = probe(doc["access_token"])
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["id"], U["commune"])

    def test_username_is_case_insensitive(self):
        acct = harness.demo_account("inspector")
        doc = harness.sign_in(acct["username"].upper(), acct["password"])
        self.assertEqual(jwt_parts(doc["access_token"])[1]["sub"],
                         harness.user_id("kiemtra"))

    def test_password_is_case_sensitive(self):
        acct = harness.demo_account("inspector")
        pw = acct["password"]
        flipped = pw.swapcase()
        self.assertNotEqual(flipped, pw)
        r = harness.login(acct["username"], flipped)
        harness.expect_problem(self, r, 401, "invalid_grant")

    def test_unknown_fields_are_ignored(self):
        acct = harness.demo_account("viewer")
        r = call(None, "POST", "/api/v1/auth/token", body={
            "username": acct["username"], "password": acct["password"],
            "grant_type": "password", "remember": True})
        self.assertEqual(r.status, 200, r.describe())

    def test_malformed_credentials_400(self):
        cases = [
            ({"password": "x" * 12}, "username"),
            ({"username": "admin"}, "password"),
            ({"username": 7, "password": "x" * 12}, "username"),
            ({"username": "admin", "password": ["x"]}, "password"),
            ({"username": "", "password": "x" * 12}, "username"),
            ({"username": "admin", "password": ""}, "password"),
            ({"username": "a" * 65, "password": "x" * 12}, "username"),
            ({"username": "admin", "password": "x" * 257}, "password"),
            ({"username": None, "password": "x" * 12}, "username"),
        ]
        for body, field in cases:
            with self.subTest(body=str(body)[:60]):
                r = call(None, "POST", "/api/v1/auth/token", body=body)
                doc = harness.expect_problem(self, r, 400, "invalid_request")
                self.assertIn(field, [e["field"] for e in doc["errors"]])

    def test_longest_credentials_accepted_as_input(self):
        r = harness.login("a" * 64, "x" * 256)
        harness.expect_problem(self, r, 401, "invalid_grant")

    def test_bad_bodies(self):
        path = "/api/v1/auth/token"
        r = call(None, "POST", path, raw=b'{"username": "admin",',
                 headers={"Content-Type": "application/json"})
        doc = harness.expect_problem(self, r, 400, "malformed_json")
        self.assertRegex(doc["detail"], r"line \d+")
        r = call(None, "POST", path, raw=b'["admin", "x"]',
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "body_not_object")
        r = call(None, "POST", path, raw=b"",
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "body_required")
        r = call(None, "POST", path, raw=b"username=admin&password=x",
                 headers={"Content-Type":
                          "application/x-www-form-urlencoded"})
        harness.expect_problem(self, r, 415, "unsupported_media_type")
        big = json.dumps({"username": "admin", "password": "x" * 5000})
        r = call(None, "POST", path, raw=big.encode(),
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 413, "payload_too_large")

    def test_sign_in_routes_ignore_idempotency_key(self):
        acct = harness.demo_account("viewer")
        h = {"Idempotency-Key": "same-key-" + secrets.token_hex(4)}
        a = harness.login(acct["username"], acct["password"], headers=h)
        b = harness.login(acct["username"], acct["password"], headers=h)
        self.assertEqual((a.status, b.status), (200, 200))
        self.assertIsNone(b.headers.get("Idempotent-Replayed"))
        self.assertNotEqual(a.json()["refresh_token"],
                            b.json()["refresh_token"])


class RefreshAndRevoke(unittest.TestCase):

    def test_rotation_and_reuse_revokes_the_family(self):
        acct = harness.demo_account("leader")
        first = harness.sign_in(acct["username"], acct["password"])
        self.assertEqual(probe(first["access_token"]).status, 200)

        r = refresh(first["refresh_token"])
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        second = r.json()
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assertNotEqual(second["access_token"], first["access_token"])
        self.assertEqual(second["expires_in"], 900)
        got = probe(second["access_token"])
        self.assertEqual(got.status, 200, got.describe())
        self.assertEqual(jwt_parts(second["access_token"])[1]["sub"],
                         harness.user_id("lanhdao"))
        fam = db().psql(
            "SELECT family_id, used_at IS NOT NULL FROM refresh_tokens "
            "WHERE token_hash IN ('%s', '%s') ORDER BY created_at"
            % (sha256_hex(first["refresh_token"]),
               sha256_hex(second["refresh_token"])))
        self.assertEqual(len(fam), 2)
        self.assertEqual(fam[0][0], fam[1][0], "rotation keeps the family")
        self.assertEqual([f[1] for f in fam], ["t", "f"])

        # Another sign-in of the same user is another family.
        other = harness.sign_in(acct["username"], acct["password"])

        # The used token again: refused, and the family ends.
        r = refresh(first["refresh_token"])
        harness.expect_problem(self, r, 401, "invalid_grant")
        r = refresh(second["refresh_token"])
        harness.expect_problem(self, r, 401, "invalid_grant")
        live = db().psql("SELECT count(*) FROM refresh_tokens WHERE "
                         "family_id = '%s' AND revoked_at IS NULL"
                         % fam[0][0])
        self.assertEqual(live, [("0",)])

        # The other family is untouched.
        r = refresh(other["refresh_token"])
        self.assertEqual(r.status, 200, r.describe())

    def test_refresh_issues_the_current_role(self):
        made = harness.new_user(role="viewer")
        patch_user(self, made.id, {"role": "inspector"})
        r = refresh(made.session["refresh_token"])
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(jwt_parts(r.json()["access_token"])[1]["role"],
                         "inspector")

    def test_unknown_refresh_token(self):
        r = refresh("dvr_" + secrets.token_urlsafe(32))
        harness.expect_problem(self, r, 401, "invalid_grant")
        r = refresh("not even the right shape")
        harness.expect_problem(self, r, 401, "invalid_grant")

    def test_refresh_bad_bodies(self):
        for body in ({}, {"refresh_token": 5}, {"refresh_token": ""},
                     {"refresh_token": "x" * 129}):
            with self.subTest(body=str(body)[:40]):
                r = call(None, "POST", "/api/v1/auth/refresh", body=body)
                doc = harness.expect_problem(self, r, 400, "invalid_request")
                self.assertEqual([e["field"] for e in doc["errors"]],
                                 ["refresh_token"])
        r = call(None, "POST", "/api/v1/auth/refresh", raw=b"{",
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")
        r = call(None, "POST", "/api/v1/auth/refresh", raw=b"x",
                 headers={"Content-Type": "text/plain"})
        harness.expect_problem(self, r, 415, "unsupported_media_type")

    def test_revoke_ends_the_family(self):
        acct = harness.demo_account("viewer")
        doc = harness.sign_in(acct["username"], acct["password"])
        r = call(None, "POST", "/api/v1/auth/revoke",
                 body={"refresh_token": doc["refresh_token"]})
        self.assertEqual(r.status, 204, r.describe())
        self.assertEqual(r.body, b"")
        r = refresh(doc["refresh_token"])
        harness.expect_problem(self, r, 401, "invalid_grant")

    def test_revoke_of_an_older_token_ends_the_newest(self):
        acct = harness.demo_account("viewer")
        first = harness.sign_in(acct["username"], acct["password"])
        r = refresh(first["refresh_token"])
        self.assertEqual(r.status, 200, r.describe())
        second = r.json()
        r = call(None, "POST", "/api/v1/auth/revoke",
                 body={"refresh_token": first["refresh_token"]})
        self.assertEqual(r.status, 204, r.describe())
        r = refresh(second["refresh_token"])
        harness.expect_problem(self, r, 401, "invalid_grant")

    def test_revoke_unknown_token_is_204(self):
        before = db().psql("SELECT count(*) FROM refresh_tokens "
                           "WHERE revoked_at IS NOT NULL")
        r = call(None, "POST", "/api/v1/auth/revoke",
                 body={"refresh_token": "dvr_unknown"})
        self.assertEqual(r.status, 204, r.describe())
        after = db().psql("SELECT count(*) FROM refresh_tokens "
                          "WHERE revoked_at IS NOT NULL")
        self.assertEqual(before, after)

    def test_revoke_bad_bodies(self):
        r = call(None, "POST", "/api/v1/auth/revoke", body={})
        harness.expect_problem(self, r, 400, "invalid_request",
                               {"refresh_token": "invalid"})
        r = call(None, "POST", "/api/v1/auth/revoke", raw=b"[1,",
                 headers={"Content-Type": "application/json"})
        harness.expect_problem(self, r, 400, "malformed_json")


class BearerTokens(unittest.TestCase):
    """Every way an access token can be wrong gets 401 invalid_token with
    the Bearer challenge; a well-made one gets in."""

    @classmethod
    def setUpClass(cls):
        cls.viewer_id = harness.user_id("xem")

    def valid(self, **over):
        return claims(self.viewer_id, "viewer", U["commune"], **over)

    def assert_ok(self, tok):
        r = probe(tok)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json()["id"], U["commune"])

    def assert_invalid(self, tok):
        r = probe(tok)
        harness.expect_problem(self, r, 401, "invalid_token")
        self.assertEqual(r.headers.get("WWW-Authenticate"),
                         INVALID_TOKEN_CHALLENGE, r.describe())
        return r

    def test_forged_with_the_right_key_is_accepted(self):
        # The control for every case below: only the one defect differs.
        self.assert_ok(forge(self.valid()))
        self.assert_ok(forge(self.valid(aud=["other", AUDIENCE])))
        self.assert_ok(forge(self.valid(nbf=DROP, iat=DROP)))
        # Expired a moment ago, within the 30 s leeway.
        self.assert_ok(forge(self.valid(exp=int(time.time()) - 5)))

    def test_expired(self):
        now = int(time.time())
        self.assert_invalid(forge(self.valid(iat=now - 4000, nbf=now - 4000,
                                             exp=now - 3600)))
        self.assert_invalid(forge(self.valid(exp=now - 120)))

    def test_tampered_signature(self):
        tok = forge(self.valid())
        head, sig = tok.rsplit(".", 1)
        i = len(sig) // 2
        bad = sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1:]
        self.assert_invalid(head + "." + bad)
        self.assert_invalid(head + ".")
        self.assert_invalid(head)

    def test_tampered_claims_of_a_real_token(self):
        real = harness.token("viewer")
        self.assert_ok(real)
        h, p, s = real.split(".")
        body = json.loads(b64url_decode(p))
        body["role"] = "admin"
        self.assert_invalid(h + "." + b64url(json.dumps(body).encode()) +
                            "." + s)

    def test_alg_none(self):
        self.assert_invalid(forge(self.valid(), header={
            "alg": "none", "typ": "JWT", "kid": KID}, sign_with=None))
        self.assert_invalid(forge(self.valid(), header={"alg": "none"},
                                  sign_with=None))
        self.assert_invalid(forge(self.valid(), header={
            "alg": "none", "kid": KID}))

    def test_other_algorithms(self):
        for alg in ("HS512", "HS384"):
            with self.subTest(alg=alg):
                self.assert_invalid(forge(self.valid(), header={
                    "alg": alg, "typ": "JWT", "kid": KID}, sign_with=alg))
        # An HMAC made with the secret but a header claiming RS256/ES256.
        for alg in ("RS256", "ES256"):
            with self.subTest(alg=alg):
                self.assert_invalid(forge(self.valid(), header={
                    "alg": alg, "typ": "JWT", "kid": KID}))
        # Header says HS256 but the MAC is HS512.
        self.assert_invalid(forge(self.valid(), sign_with="HS512"))

    def test_wrong_or_missing_kid(self):
        self.assert_invalid(forge(self.valid(), header={
            "alg": "HS256", "typ": "JWT", "kid": "k2"}))
        self.assert_invalid(forge(self.valid(), header={
            "alg": "HS256", "typ": "JWT"}))
        self.assert_invalid(forge(self.valid(), header={
            "alg": "HS256", "typ": "JWT", "kid": 1}))

    def test_wrong_key(self):
        self.assert_invalid(forge(self.valid(),
                                  key=secrets.token_hex(32).encode()))

    def test_wrong_issuer(self):
        self.assert_invalid(forge(self.valid(iss="someone-else")))
        self.assert_invalid(forge(self.valid(iss=DROP)))

    def test_wrong_audience(self):
        self.assert_invalid(forge(self.valid(aud="another-api")))
        self.assert_invalid(forge(self.valid(aud=["a", "b"])))
        self.assert_invalid(forge(self.valid(aud=DROP)))

    def test_missing_or_bad_exp(self):
        self.assert_invalid(forge(self.valid(exp=DROP)))
        self.assert_invalid(forge(self.valid(
            exp=str(int(time.time()) + 600))))

    def test_not_yet_valid(self):
        now = int(time.time())
        self.assert_invalid(forge(self.valid(nbf=now + 3600)))
        self.assert_invalid(forge(self.valid(iat=now + 3600)))

    def test_claims_must_match_the_account(self):
        # Correctly signed, but the role or unit is not the user's.
        self.assert_invalid(forge(self.valid(role="admin")))
        self.assert_invalid(forge(self.valid(unit=U["province"])))
        self.assert_invalid(forge(claims(
            "00000000-0000-4000-8000-00000000dead", "viewer",
            U["commune"])))
        self.assert_invalid(forge(self.valid(role="service")))
        for missing in ("sub", "role", "unit"):
            with self.subTest(missing=missing):
                self.assert_invalid(forge(self.valid(**{missing: DROP})))

    def test_garbage(self):
        for tok in ("abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9",
                    "%%%.%%%.%%%"):
            with self.subTest(token=tok):
                self.assert_invalid(tok)

    def test_oversized_token_400(self):
        base = self.valid()
        # Pad with a claim until the token is exactly 4096, then 4097 bytes.
        found = {}
        for n in range(2600, 2900):
            for k in range(4):
                tok = forge(dict(base, pad="x" * n), header={
                    "alg": "HS256", "typ": "JWT", "kid": KID, "x": "y" * k})
                if len(tok) in (4096, 4097) and len(tok) not in found:
                    found[len(tok)] = tok
            if len(found) == 2:
                break
        self.assertEqual(sorted(found), [4096, 4097])
        self.assert_ok(found[4096])
        r = probe(found[4097])
        harness.expect_problem(self, r, 400, "invalid_request")
        self.assertEqual(r.headers.get("WWW-Authenticate"),
                         INVALID_REQUEST_CHALLENGE)
        r = probe("x" * 6000)
        harness.expect_problem(self, r, 400, "invalid_request")

    def test_malformed_authorization_header_400(self):
        for value in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ",
                      "Token " + harness.token("viewer"),
                      harness.token("viewer"), "Bearer:abc", "Bearerabc"):
            with self.subTest(value=value[:30]):
                r = call(None, "GET", "/api/v1/me",
                         headers={"Authorization": value})
                harness.expect_problem(self, r, 400, "invalid_request")
                self.assertEqual(r.headers.get("WWW-Authenticate"),
                                 INVALID_REQUEST_CHALLENGE, r.describe())

    def test_scheme_is_case_insensitive(self):
        r = call(None, "GET", "/api/v1/units/" + U["commune"], headers={
            "Authorization": "bearer " + harness.token("viewer")})
        self.assertEqual(r.status, 200, r.describe())

    def test_missing_authorization_401(self):
        for path in ("/api/v1/me", "/api/v1/units", "/api/v1/audit",
                     "/api/v1/units/" + U["commune"]):
            with self.subTest(path=path):
                r = call(None, "GET", path)
                harness.expect_problem(self, r, 401, "unauthenticated")
                challenge = r.headers.get("WWW-Authenticate") or ""
                self.assertTrue(challenge.startswith("Bearer "), challenge)
                self.assertIn('realm="danvan"', challenge)
                self.assertNotIn("error=", challenge)

    def test_unknown_service_key_401(self):
        r = probe("dvk_" + secrets.token_urlsafe(32))
        harness.expect_problem(self, r, 401, "invalid_token")
        self.assertEqual(r.headers.get("WWW-Authenticate"),
                         INVALID_TOKEN_CHALLENGE)


class BeforeTheBody(unittest.TestCase):
    """Authentication and the route's permission are decided from the
    headers: a caller who may not send a body is answered while it has sent
    only the headers, and nothing of its body is read or buffered."""

    MiB = 1024 * 1024
    IMPORT = "/api/v1/plans/import"  # a JSON route with a 1 MiB cap

    @staticmethod
    def head(method, path, length, ctype="application/json", token=None):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1",
                 "Content-Type: " + ctype, "Content-Length: %d" % length]
        if token is not None:
            lines.append("Authorization: Bearer " + token)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def refused_at_headers(self, head, status, code):
        t0 = time.monotonic()
        out = srv().raw(head, timeout=3)
        self.assertTrue(out, "no answer while only the headers were sent "
                        "(the server waits for the body): %r" % head[:200])
        self.assertLess(time.monotonic() - t0, 2.5)
        first = head.split(b"\r\n", 1)[0].decode().split(" ")
        r = harness.parse_raw_response(out, first[0], first[1])
        harness.check_contract(r)
        doc = harness.expect_problem(self, r, status, code)
        # The body is not read, so the connection cannot carry another
        # request.
        self.assertEqual((r.headers.get("Connection") or "").lower(), "close",
                         r.describe())
        return r, doc

    def test_anonymous_json_body_401_before_the_body(self):
        r, _ = self.refused_at_headers(
            self.head("POST", self.IMPORT, 1000000), 401, "unauthenticated")
        self.assertTrue((r.headers.get("WWW-Authenticate") or "")
                        .startswith("Bearer "), r.describe())

    def test_bad_token_401_before_the_body(self):
        r, _ = self.refused_at_headers(
            self.head("POST", self.IMPORT, 1000000, token="not.a.token"),
            401, "invalid_token")
        self.assertEqual(r.headers.get("WWW-Authenticate"),
                         INVALID_TOKEN_CHALLENGE)

    def test_anonymous_upload_401_before_the_body(self):
        path = ("/api/v1/submissions/%s/attachments?filename=x.pdf"
                % uuid.uuid4())
        self.refused_at_headers(
            self.head("POST", path, 9 * self.MiB, "application/pdf"), 401,
            "unauthenticated")

    def test_forbidden_role_403_before_the_body(self):
        _, doc = self.refused_at_headers(
            self.head("POST", self.IMPORT, 1000000,
                      token=harness.token("viewer")), 403, "forbidden")
        self.assertIn("viewer", doc["detail"])
        path = "/api/v1/plans/%s" % uuid.uuid4()
        self.refused_at_headers(
            self.head("PATCH", path, 200000, token=harness.token("officer")),
            403, "forbidden")

    def test_allowed_caller_still_sends_its_body(self):
        # The same request with the right role is read and handled.
        body = b'{"plan": {}}'
        r = srv().raw_response(self.head(
            "POST", self.IMPORT + "?dry_run=true", len(body),
            token=harness.token("leader")) + body)
        self.assertEqual(r.status, 422, r.describe())

    @staticmethod
    def rss(pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS for %d" % pid)

    def test_refused_bodies_are_not_buffered(self):
        pid = srv().proc.pid
        before = self.rss(pid)
        chunk = b" " * (900 * 1024)
        socks = []
        try:
            for _ in range(8):
                s = socket.create_connection(("127.0.0.1", srv().port),
                                             timeout=1)
                socks.append(s)
                try:
                    s.sendall(self.head("POST", self.IMPORT, 1000000))
                    s.sendall(chunk)
                except OSError:
                    pass  # the server answered and closed: as it should
            time.sleep(0.5)
            grown = self.rss(pid) - before
        finally:
            for s in socks:
                s.close()
        # Eight bodies of 900 KiB each, had they been buffered.
        self.assertLess(grown, 3 * self.MiB, "the server grew by %d bytes "
                        "while anonymous clients sent bodies" % grown)


class AccountChanges(unittest.TestCase):

    def test_deactivated_user_is_shut_out_at_once(self):
        made = harness.new_user(role="leader")
        user, pw, doc = made.doc, made.password, made.session
        r = probe(doc["access_token"])
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(jwt_parts(doc["access_token"])[1]["sub"],
                         user["id"])

        patch_user(self, user["id"], {"active": False})
        r = probe(doc["access_token"])
        harness.expect_problem(self, r, 401, "invalid_token")
        self.assertEqual(r.headers.get("WWW-Authenticate"),
                         INVALID_TOKEN_CHALLENGE)
        r = call(Bearer(doc["access_token"]), "GET", "/api/v1/units")
        harness.expect_problem(self, r, 401, "invalid_token")
        harness.expect_problem(self, refresh(doc["refresh_token"]), 401,
                               "invalid_grant")
        harness.expect_problem(self, harness.login(user["username"], pw),
                               401, "invalid_grant")
        live = db().psql("SELECT count(*) FROM refresh_tokens WHERE "
                         "user_id = '%s' AND revoked_at IS NULL"
                         % user["id"])
        self.assertEqual(live, [("0",)])

        # Back again: a new sign-in works; the old token stays dead.
        patch_user(self, user["id"], {"active": True})
        again = harness.sign_in(user["username"], pw)
        self.assertEqual(probe(again["access_token"]).status, 200)
        harness.expect_problem(self, refresh(doc["refresh_token"]), 401,
                               "invalid_grant")

    def test_other_nodes_notice_within_the_check_interval(self):
        # A second server on the same database (another API node) learns of
        # a deactivation made elsewhere after DANVAN_USER_CHECK_INTERVAL.
        other = harness.Server(db(), {"DANVAN_USER_CHECK_INTERVAL": "1"})
        try:
            other.start()
            user = harness.new_user(role="viewer")
            tok = user.token
            path = "/api/v1/units/" + U["commune"]
            r = call(Bearer(tok), "GET", path, srv=other)
            self.assertEqual(r.status, 200, r.describe())
            patch_user(self, user.id, {"active": False})
            time.sleep(1.5)
            r = call(Bearer(tok), "GET", path, srv=other)
            harness.expect_problem(self, r, 401, "invalid_token")
        finally:
            other.stop()

    def test_role_or_unit_change_invalidates_tokens(self):
        made = harness.new_user(role="viewer")
        user, pw, doc = made.doc, made.password, made.session
        self.assertEqual(probe(doc["access_token"]).status, 200)
        patch_user(self, user["id"], {"role": "leader"})
        harness.expect_problem(self, probe(doc["access_token"]), 401,
                               "invalid_token")
        doc = harness.sign_in(user["username"], pw)
        self.assertEqual(jwt_parts(doc["access_token"])[1]["role"], "leader")
        self.assertEqual(probe(doc["access_token"]).status, 200)
        patch_user(self, user["id"], {"unit_id": U["thon-3"]})
        harness.expect_problem(self, probe(doc["access_token"]), 401,
                               "invalid_token")

    def test_password_change(self):
        made = harness.new_user(role="viewer")
        user, pw, doc = made.doc, made.password, made.session
        # Tokens carry whole seconds: let this one be from an earlier one.
        time.sleep(1.1)
        new_pw = strong_password()
        patch_user(self, user["id"], {"password": new_pw})
        harness.expect_problem(self, harness.login(user["username"], pw),
                               401, "invalid_grant")
        harness.sign_in(user["username"], new_pw)
        harness.expect_problem(self, refresh(doc["refresh_token"]), 401,
                               "invalid_grant")
        # The sessions of the old password end: its access token too.
        r = probe(doc["access_token"])
        harness.expect_problem(self, r, 401, "invalid_token")


    @staticmethod
    def token_cache():
        """The server's token cache counters: hit, miss, drops."""
        text = call(None, "GET", "/metrics").text()
        got = {}
        for key, pat in (("hit", r'danvan_auth_token_cache_total'
                          r'\{result="hit"\} (\d+)'),
                         ("miss", r'danvan_auth_token_cache_total'
                          r'\{result="miss"\} (\d+)'),
                         ("drops", r"danvan_auth_token_cache_drops_total "
                          r"(\d+)")):
            m = re.search(pat, text)
            CHECK.assertIsNotNone(m, "no %s in /metrics" % key)
            got[key] = int(m.group(1))
        return got

    def test_token_cache_is_dropped_when_the_account_changes(self):
        # Every worker thread keeps the tokens it verified: a password
        # change or a deactivation empties all of them at once, so no
        # thread serves the old token from its cache.
        made = harness.new_user(role="viewer")
        user, doc = made.doc, made.session
        before = self.token_cache()
        for _ in range(12):
            self.assertEqual(probe(doc["access_token"]).status, 200)
        warm = self.token_cache()
        self.assertGreaterEqual(warm["hit"] - before["hit"], 12 - 4,
                                "the token was verified anew each time")
        time.sleep(1.1)
        new_pw = strong_password()
        patch_user(self, user["id"], {"password": new_pw})
        self.assertGreater(self.token_cache()["drops"], warm["drops"])
        for _ in range(12):
            harness.expect_problem(self, probe(doc["access_token"]), 401,
                                   "invalid_token")

        again = harness.sign_in(user["username"], new_pw)
        for _ in range(12):
            self.assertEqual(probe(again["access_token"]).status, 200)
        warm = self.token_cache()
        patch_user(self, user["id"], {"active": False})
        self.assertGreater(self.token_cache()["drops"], warm["drops"])
        for _ in range(12):
            harness.expect_problem(self, probe(again["access_token"]), 401,
                                   "invalid_token")


class SameAnswer(unittest.TestCase):
    """Wrong password, unknown user and deactivated user cannot be told
    apart: by the answer or by the time it takes."""

    @classmethod
    def setUpClass(cls):
        t = CHECK
        cls.wrong_user = harness.new_user(role="viewer", signed_in=False).doc
        made = harness.new_user(role="viewer", signed_in=False)
        cls.deact_user, cls.deact_pw = made.doc, made.password
        patch_user(t, cls.deact_user["id"], {"active": False})

    def attempts(self):
        return {
            "wrong password": (self.wrong_user["username"],
                               strong_password()),
            "unknown user": (new_name("nobody"), strong_password()),
            "deactivated user": (self.deact_user["username"],
                                 self.deact_pw),
        }

    def test_same_problem_document(self):
        docs, heads = {}, {}
        for what, (u, p) in self.attempts().items():
            r = harness.login(u, p)
            doc = harness.expect_problem(self, r, 401, "invalid_grant")
            docs[what] = {k: v for k, v in doc.items() if k != "request_id"}
            heads[what] = sorted(k.lower() for k, _ in r.headers.items()
                                 if k.lower() not in ("date",))
        first = docs["wrong password"]
        self.assertNotIn("errors", first)
        for what, d in docs.items():
            self.assertEqual(d, first, what)
            self.assertEqual(heads[what], heads["wrong password"], what)

    def test_same_time(self):
        times = {k: [] for k in self.attempts()}
        for _ in range(3):
            for what, (u, p) in self.attempts().items():
                t0 = time.monotonic()
                r = harness.login(u, p)
                times[what].append(time.monotonic() - t0)
                self.assertEqual(r.status, 401, r.describe())
        med = {k: statistics.median(v) for k, v in times.items()}
        wrong = med["wrong password"]
        # Argon2id (64 MiB, 3 passes) cannot take under 20 ms.
        self.assertGreater(wrong, 0.02, med)
        for what in ("unknown user", "deactivated user"):
            self.assertGreaterEqual(med[what], 0.3 * wrong, med)
            self.assertGreaterEqual(wrong, 0.3 * med[what], med)


def stop_quietly(s, d):
    try:
        if s is not None:
            s.stop()
    finally:
        d.drop()


class Throttle(unittest.TestCase):
    """On servers of their own, with small limits."""

    def test_username_throttle_and_recovery(self):
        d = harness.Database()
        s = None
        try:
            # A window of a few seconds: long enough for three Argon2id
            # failures on a busy two-core machine, short enough to wait out.
            window = 5
            s = harness.Server(d, {"DANVAN_LOGIN_LIMIT": "3",
                                   "DANVAN_LOGIN_WINDOW": str(window)}).start()
            viewer = harness.demo_account("viewer")
            inspector = harness.demo_account("inspector")
            t0 = time.monotonic()
            for i in range(3):
                r = harness.login(viewer["username"], "wrong-" + str(i) * 8,
                                  srv=s)
                harness.expect_problem(self, r, 401, "invalid_grant")
            r = harness.login(viewer["username"], viewer["password"], srv=s)
            elapsed = time.monotonic() - t0
            self.assertLess(elapsed, window, "three sign-ins took %.1f s: "
                            "the machine is too slow for this window"
                            % elapsed)
            harness.expect_problem(self, r, 429, "too_many_attempts")
            retry = int(r.headers.get("Retry-After"))
            self.assertTrue(1 <= retry <= window, retry)
            self.assertGreaterEqual(retry, window - elapsed - 1)
            # Case does not get around it.
            r = harness.login(viewer["username"].upper(), viewer["password"],
                              srv=s)
            harness.expect_problem(self, r, 429, "too_many_attempts")
            # Refused attempts are not counted.
            rows = d.psql("SELECT key, failures FROM login_failures "
                          "ORDER BY key")
            self.assertEqual(rows, [("fail:127.0.0.1", "3"),
                                    ("fail:xem@127.0.0.1", "3"),
                                    ("try:127.0.0.1", "3"),
                                    ("try:xem", "3")])
            # Another username from the same address still signs in.
            r = harness.login(inspector["username"], inspector["password"],
                              srv=s)
            self.assertEqual(r.status, 200, r.describe())
            time.sleep(retry + 0.3)
            r = harness.login(viewer["username"], viewer["password"], srv=s)
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(d.psql("SELECT count(*) FROM login_failures "
                                    "WHERE key = 'fail:xem@127.0.0.1'"),
                             [("0",)])
            # The count starts again from nothing.
            r = harness.login(viewer["username"], "wrong-password-1", srv=s)
            harness.expect_problem(self, r, 401, "invalid_grant")
        finally:
            stop_quietly(s, d)

    def test_address_throttle(self):
        d = harness.Database()
        s = None
        try:
            s = harness.Server(d, {"DANVAN_LOGIN_LIMIT": "1",
                                   "DANVAN_LOGIN_WINDOW": "60"}).start()
            viewer = harness.demo_account("viewer")
            inspector = harness.demo_account("inspector")
            for i in range(3):
                r = harness.login(new_name("nobody"), "wrong-password", srv=s)
                harness.expect_problem(self, r, 401, "invalid_grant")
            # 3 failures from this address: under 4 x the limit.
            r = harness.login(inspector["username"], inspector["password"],
                              srv=s)
            self.assertEqual(r.status, 200, r.describe())
            r = harness.login(new_name("nobody"), "wrong-password", srv=s)
            harness.expect_problem(self, r, 401, "invalid_grant")
            # 4 failures: every username from this address waits.
            r = harness.login(viewer["username"], viewer["password"], srv=s)
            harness.expect_problem(self, r, 429, "too_many_attempts")
            retry = int(r.headers.get("Retry-After"))
            self.assertTrue(1 <= retry <= 60, retry)
            # Without DANVAN_TRUST_PROXY a client cannot pick its address.
            r = harness.login(viewer["username"], viewer["password"], srv=s,
                              headers={"X-Real-IP": "10.9.8.7",
                                       "X-Forwarded-For": "10.9.8.7"})
            harness.expect_problem(self, r, 429, "too_many_attempts")
            self.assertEqual(d.psql("SELECT count(*) FROM login_failures "
                                    "WHERE key LIKE '%10.9.8.7'"), [("0",)])
        finally:
            stop_quietly(s, d)

    def test_lock_out_is_keyed_on_username_and_address(self):
        # A stranger's wrong passwords do not lock the user out elsewhere.
        d = harness.Database()
        s = None
        try:
            s = harness.Server(d, {"DANVAN_LOGIN_LIMIT": "2",
                                   "DANVAN_TRUST_PROXY": "1"}).start()
            viewer = harness.demo_account("viewer")
            there = {"X-Real-IP": "198.51.100.7"}
            here = {"X-Real-IP": "198.51.100.8"}
            for i in range(2):
                r = harness.login(viewer["username"], "wrong-" + str(i) * 8,
                                  srv=s, headers=there)
                harness.expect_problem(self, r, 401, "invalid_grant")
            r = harness.login(viewer["username"], viewer["password"], srv=s,
                              headers=there)
            harness.expect_problem(self, r, 429, "too_many_attempts")
            r = harness.login(viewer["username"], viewer["password"], srv=s,
                              headers=here)
            self.assertEqual(r.status, 200, r.describe())
        finally:
            stop_quietly(s, d)

    def test_successful_sign_ins_are_rated_too(self):
        # One valid account cannot keep the hashing threads busy: at most
        # 4 x DANVAN_LOGIN_LIMIT attempts per username and window.
        d = harness.Database()
        s = None
        try:
            s = harness.Server(d, {"DANVAN_LOGIN_LIMIT": "1"}).start()
            viewer = harness.demo_account("viewer")
            for _ in range(4):
                r = harness.login(viewer["username"], viewer["password"],
                                  srv=s)
                self.assertEqual(r.status, 200, r.describe())
            r = harness.login(viewer["username"], viewer["password"], srv=s)
            harness.expect_problem(self, r, 429, "too_many_attempts")
            self.assertIsNotNone(r.headers.get("Retry-After"))
            inspector = harness.demo_account("inspector")
            r = harness.login(inspector["username"], inspector["password"],
                              srv=s)
            self.assertEqual(r.status, 200, r.describe())
        finally:
            stop_quietly(s, d)


class Me(unittest.TestCase):

    def test_me_for_every_user_role(self):
        for role in harness.USER_ROLES:
            with self.subTest(role=role):
                acct = harness.demo_account(role)
                r = call(role, "GET", "/api/v1/me")
                self.assertEqual(r.status, 200, r.describe())
                doc = r.json()
                self.assertEqual(doc["username"], acct["username"])
                self.assertEqual(doc["role"], role)
                self.assertEqual(doc["unit_id"], acct["unit_id"])
                self.assertEqual(doc["unit"]["id"], acct["unit_id"])
                self.assertEqual(doc["id"], harness.user_id(acct["username"]))
                self.assertTrue(doc["active"])
                self.assertTrue(r.headers.get("ETag"))
        r = call("officer", "GET", "/api/v1/me")
        self.assertEqual(r.json()["unit"], {
            "id": U["thon-1"], "code": "thon-1", "name": "Thôn 1 (mẫu)",
            "kind": "village"})

    def test_me_304(self):
        r = call("viewer", "GET", "/api/v1/me")
        etag = r.headers["ETag"]
        r2 = call("viewer", "GET", "/api/v1/me",
                  headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304, r2.describe())
        self.assertEqual(r2.headers.get("ETag"), etag)

    def test_me_etag_changes_when_its_unit_is_renamed(self):
        # GET /me shows the unit's name: a renamed unit is a new
        # representation, so the old ETag must not give 304.
        unit = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["commune"], "kind": "office",
            "code": new_name("me-unit"), "name": "Tổ thử"})
        self.assertEqual(unit.status, 201, unit.describe())
        uid = unit.json()["id"]
        tok = harness.new_user(uid).token
        first = me(tok)
        self.assertEqual(first.json()["unit"]["name"], "Tổ thử")
        r = call("admin", "PATCH", "/api/v1/units/" + uid,
                 body={"name": "Tổ thử đổi tên"},
                 headers={"If-Match": unit.headers["ETag"]})
        self.assertEqual(r.status, 200, r.describe())
        again = call(Bearer(tok), "GET", "/api/v1/me",
                     headers={"If-None-Match": first.headers["ETag"]})
        self.assertEqual(again.status, 200, again.describe())
        self.assertEqual(again.json()["unit"]["name"], "Tổ thử đổi tên")


# --- who may call what -------------------------------------------------------

ALL = set(harness.ROLES)
USERS = set(harness.USER_ROLES)
ADMIN = {"admin"}
PUBLIC = ALL | {None}


class Matrix(unittest.TestCase):
    """Every demo role, the service key and no credentials at all against
    every identity route: the table of README.md / api/auth/perm.c."""

    @classmethod
    def setUpClass(cls):
        viewer = harness.demo_account("viewer")
        cls.refresh = harness.sign_in(viewer["username"],
                                      viewer["password"])["refresh_token"]
        cls.target_user = harness.new_user(role="viewer",
                                           signed_in=False).doc
        cls.self_ids = {r: harness.demo_user_id(r)
                        for r in harness.USER_ROLES}
        cls.seed_sa = db().psql("SELECT id FROM service_accounts")[0][0]

    # Each builder returns (path, body, headers, check of a 2xx answer).

    def b_auth_token(self, role):
        acct = harness.demo_account("viewer")
        return ("/api/v1/auth/token", {"username": acct["username"],
                                       "password": acct["password"]}, {},
                lambda d: self.assertEqual(d["token_type"], "Bearer"))

    def b_auth_refresh(self, role):
        def check(d):
            type(self).refresh = d["refresh_token"]
        return ("/api/v1/auth/refresh", {"refresh_token": self.refresh}, {},
                check)

    def b_auth_revoke(self, role):
        return ("/api/v1/auth/revoke", {"refresh_token": "dvr_nothing"}, {},
                None)

    def b_me(self, role):
        return ("/api/v1/me", None, {},
                lambda d: self.assertEqual(d["id"], self.self_ids[role]))

    def own_unit(self, role):
        if role is None:
            return U["commune"]
        return harness.demo_account(role)["unit_id"]

    def b_units_list(self, role):
        return ("/api/v1/units", None, {}, lambda d: self.assertIn(
            self.own_unit(role), [u["id"] for u in d["items"]]))

    def b_units_get(self, role):
        return ("/api/v1/units/" + self.own_unit(role), None, {},
                lambda d: self.assertEqual(d["id"], self.own_unit(role)))

    def b_units_create(self, role):
        code = new_name("matrix")
        return ("/api/v1/units", {"parent_id": U["thon-4"], "kind": "other",
                                  "code": code, "name": "Ma trận"}, {},
                lambda d: self.assertEqual(d["code"], code))

    def fresh_unit(self):
        r = call("admin", "POST", "/api/v1/units", body={
            "parent_id": U["thon-4"], "kind": "other",
            "code": new_name("target"), "name": "Đích"})
        self.assertEqual(r.status, 201, r.describe())
        return r.json()["id"], r.headers["ETag"]

    def b_units_update(self, role):
        if role != "admin":
            return ("/api/v1/units/" + U["thon-4"], {"name": "Bị cấm"},
                    {"If-Match": '"1"'}, None)
        uid, etag = self.fresh_unit()
        return ("/api/v1/units/" + uid, {"name": "Đã đổi"},
                {"If-Match": etag},
                lambda d: self.assertEqual(d["name"], "Đã đổi"))

    def b_units_delete(self, role):
        if role != "admin":
            return ("/api/v1/units/" + U["mat-tran-thon-4"], None,
                    {"If-Match": '"1"'}, None)
        uid, etag = self.fresh_unit()
        return ("/api/v1/units/" + uid, None, {"If-Match": etag}, None)

    def b_users_list(self, role):
        return ("/api/v1/users", None, {}, lambda d: self.assertIn(
            self.self_ids[role], [u["id"] for u in d["items"]]))

    def b_users_get(self, role):
        uid = self.self_ids.get(role, self.self_ids["viewer"])
        return ("/api/v1/users/" + uid, None, {},
                lambda d: self.assertEqual(d["id"], uid))

    def b_users_create(self, role):
        name = new_name("matrix")
        return ("/api/v1/users", {"unit_id": U["thon-4"], "username": name,
                                  "full_name": "Ma trận", "role": "viewer",
                                  "password": strong_password()}, {},
                lambda d: self.assertEqual(d["username"], name))

    def b_users_update(self, role):
        uid = self.target_user["id"]
        etag = '"1"'
        if role == "admin":
            etag = call("admin", "GET", "/api/v1/users/" + uid).headers[
                "ETag"]
        full = "Tên " + secrets.token_hex(3)
        return ("/api/v1/users/" + uid, {"full_name": full},
                {"If-Match": etag},
                lambda d: self.assertEqual(d["full_name"], full))

    def b_sa_list(self, role):
        return ("/api/v1/service-accounts", None, {}, lambda d: self.assertIn(
            self.seed_sa, [s["id"] for s in d["items"]]))

    def b_sa_create(self, role):
        name = new_name("matrix")
        return ("/api/v1/service-accounts", {"unit_id": U["thon-4"],
                                             "name": name}, {},
                lambda d: self.assertEqual(d["name"], name))

    def b_sa_revoke(self, role):
        if role != "admin":
            return ("/api/v1/service-accounts/" + self.seed_sa, None,
                    {"If-Match": '"1"'}, None)
        r = call("admin", "POST", "/api/v1/service-accounts",
                 body={"unit_id": U["thon-4"], "name": new_name("revoke")})
        self.assertEqual(r.status, 201, r.describe())
        return ("/api/v1/service-accounts/" + r.json()["id"], None,
                {"If-Match": r.headers["ETag"]}, None)

    def b_audit(self, role):
        return ("/api/v1/audit?limit=5", None, {},
                lambda d: self.assertTrue(1 <= len(d["items"]) <= 5))

    # The table: route, builder, who may call it, status when allowed.
    READERS = {"admin", "leader", "coordinator"}
    TABLE = [
        ("POST /api/v1/auth/token", "b_auth_token", PUBLIC, 200),
        ("POST /api/v1/auth/refresh", "b_auth_refresh", PUBLIC, 200),
        ("POST /api/v1/auth/revoke", "b_auth_revoke", PUBLIC, 204),
        ("GET /api/v1/me", "b_me", USERS, 200),
        ("GET /api/v1/units", "b_units_list", ALL, 200),
        ("POST /api/v1/units", "b_units_create", ADMIN, 201),
        ("GET /api/v1/units/{id}", "b_units_get", ALL, 200),
        ("PATCH /api/v1/units/{id}", "b_units_update", ADMIN, 200),
        ("DELETE /api/v1/units/{id}", "b_units_delete", ADMIN, 204),
        ("GET /api/v1/users", "b_users_list", READERS, 200),
        ("POST /api/v1/users", "b_users_create", ADMIN, 201),
        ("GET /api/v1/users/{id}", "b_users_get", READERS, 200),
        ("PATCH /api/v1/users/{id}", "b_users_update", ADMIN, 200),
        ("GET /api/v1/service-accounts", "b_sa_list", ADMIN, 200),
        ("POST /api/v1/service-accounts", "b_sa_create", ADMIN, 201),
        ("DELETE /api/v1/service-accounts/{id}", "b_sa_revoke", ADMIN, 204),
        ("GET /api/v1/audit", "b_audit", {"admin", "leader"}, 200),
    ]

    def fingerprint(self):
        return db().psql(
            "SELECT (SELECT count(*) FROM units), (SELECT sum(version) FROM "
            "units), (SELECT count(*) FROM users), (SELECT sum(version) FROM "
            "users), (SELECT count(*) FROM service_accounts), (SELECT "
            "sum(version) FROM service_accounts), (SELECT count(*) FROM "
            "audit_events)")

    def test_table_covers_every_identity_route(self):
        out = subprocess.run([os.environ["DANVAN_BIN"], "routes"],
                             capture_output=True, text=True,
                             check=True).stdout.splitlines()
        # Each line: method, path, handler, permission, body cap (tabs).
        out = [" ".join(line.split("\t")[:2]) for line in out]
        identity = {line.strip() for line in out if re.match(
            r"^[A-Z]+ /api/v1/(auth/[a-z]+|me|(units|users|service-accounts)"
            r"(/\{id\})?|audit)$", line.strip())}
        self.assertEqual(identity, {t[0] for t in self.TABLE})

    def test_matrix(self):
        callers = list(harness.ROLES) + [None]
        # Refused calls first: together they must change nothing at all.
        before = self.fingerprint()
        refused = 0
        for route, builder, allowed, _ in self.TABLE:
            method = route.split()[0]
            for role in callers:
                if role in allowed:
                    continue
                with self.subTest(route=route, role=role):
                    path, body, headers, _ = getattr(self, builder)(role)
                    r = call(role, method, path, body=body, headers=headers)
                    if role is None:
                        harness.expect_problem(self, r, 401,
                                               "unauthenticated")
                    else:
                        doc = harness.expect_problem(self, r, 403,
                                                     "forbidden")
                        self.assertIn(role, doc["detail"])
                    refused += 1
        self.assertEqual(self.fingerprint(), before)
        self.assertEqual(refused, 76)
        allowed_calls = 0
        for route, builder, allowed, status in self.TABLE:
            method = route.split()[0]
            for role in callers:
                if role not in allowed:
                    continue
                with self.subTest(route=route, role=role):
                    path, body, headers, check = getattr(self, builder)(role)
                    r = call(role, method, path, body=body, headers=headers)
                    self.assertEqual(r.status, status, r.describe())
                    if check is not None:
                        check(r.json())
                    allowed_calls += 1
        self.assertEqual(allowed_calls, 60)


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
