"""Black-box harness for the danvan API tests.

Each test module gets a fresh database cloned from the migrated `danvan`
template and runs the real binary against it on a free local port. Every
response that goes through Server.request() is checked against
openapi/openapi.yaml, so a test that passes also proves the contract true.

Environment (set by tests/run.sh): DANVAN_BIN, DANVAN_TEST_PG_HOST,
DANVAN_TEST_PG_PORT, DANVAN_SUPER_DATABASE_URL, and for the tests that sign
in DANVAN_DEMO_CREDENTIALS (the demo accounts the seed wrote).

Every test module starts the same way:

    import unittest                  # and the standard modules it needs

    import harness
    from harness import CHECK, U, call, db, ok, srv, tag   # what it uses

    setUpModule, tearDownModule = harness.fixtures()   # or fixtures(build)

and ends with `harness.main()` (`harness.main(harness.IDENTITY_ENV)` when
it signs in). It reaches the database as db() and the server as srv(),
makes its users with new_user() and sends every request with call().
"""

import atexit
import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_PATH = ROOT / "openapi" / "openapi.yaml"

API_ENV = ("DANVAN_BIN", "DANVAN_TEST_PG_HOST", "DANVAN_TEST_PG_PORT",
           "DANVAN_SUPER_DATABASE_URL")
# The API tests that sign in also need the seed's credentials file.
IDENTITY_ENV = API_ENV + ("DANVAN_DEMO_CREDENTIALS",)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
                "trace")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
GENERATED_ID_RE = re.compile(r"^[0-9a-f]{32}$")
PROBLEM_TYPE_PREFIX = "urn:danvan:problem:"
PSQL = next((p for p in ("/usr/lib/postgresql/15/bin/psql",
                         shutil.which("psql")) if p and os.path.exists(p)),
            "psql")
# Text that must never reach a client: SQL, server error text, the database.
LEAK_MARKERS = (re.compile(r"SELECT"), re.compile(r"ERROR:"),
                re.compile(r"FATAL:"), re.compile(r"postgres", re.I),
                re.compile(r"PGSQL"), re.compile(r"libpq"))


def require_env(names=API_ENV):
    """Exit 1 (not skip) when the environment from tests/run.sh is missing."""
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        sys.stderr.write("error: %s not set: run the API tests through "
                         "tests/run.sh\n" % ", ".join(missing))
        sys.exit(1)


def main(require=API_ENV):
    """Entry point of every test module."""
    require_env(require)
    unittest.main(module="__main__", verbosity=2)


# --- the OpenAPI document -------------------------------------------------

class _Loader(yaml.SafeLoader):
    """YAML 1.1 loader without the timestamp type: OpenAPI 3.1 is YAML 1.2
    and JSON Schema sees dates as strings."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}

_openapi = None


def openapi():
    """The contract, parsed once."""
    global _openapi
    if _openapi is None:
        with open(OPENAPI_PATH, encoding="utf-8") as f:
            # Through JSON, as the build embeds it: `200:` keys become "200".
            _openapi = json.loads(json.dumps(yaml.load(f, Loader=_Loader)))
    return _openapi


def resolve(node, doc=None):
    """Follow local `$ref`s (`#/components/...`) until a concrete object."""
    doc = doc or openapi()
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise AssertionError("non-local $ref in openapi.yaml: %s" % ref)
        node = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[part]
        seen += 1
        if seen > 20:
            raise AssertionError("$ref loop at %s" % ref)
    return node


_validators = {}


def schema_validator(schema):
    """A cached 2020-12 validator whose `#/components/...` refs resolve
    against the whole document."""
    entry = _validators.get(id(schema))
    if entry is None:
        resolver = jsonschema.RefResolver(base_uri="", referrer=openapi())
        entry = (jsonschema.Draft202012Validator(
            schema, resolver=resolver,
            format_checker=jsonschema.FormatChecker()), schema)
        _validators[id(schema)] = entry
    return entry[0]


def validate_schema(instance, schema, what):
    errors = sorted(schema_validator(schema).iter_errors(instance),
                    key=lambda e: list(e.absolute_path))
    if errors:
        lines = ["%s does not match its schema:" % what]
        for e in errors[:10]:
            lines.append("  at /%s: %s" % (
                "/".join(str(p) for p in e.absolute_path), e.message[:300]))
        raise AssertionError("\n".join(lines))


def problem_schema():
    return openapi()["components"]["schemas"]["Problem"]


def _template_regex(template):
    parts = re.split(r"(\{[^}/]+\})", template)
    rx = "".join("[^/]+" if p.startswith("{") and p.endswith("}")
                 else re.escape(p) for p in parts)
    return re.compile("^" + rx + "$")


_path_table = None


def match_path(path):
    """The OpenAPI path template for a concrete path, or None. Literal
    segments beat parameters (`/plans/export` before `/plans/{id}`)."""
    global _path_table
    if _path_table is None:
        table = []
        for template in openapi().get("paths", {}):
            nparams = template.count("{")
            table.append((nparams, -len(template), template,
                          _template_regex(template)))
        table.sort()
        _path_table = table
    path = path.split("?", 1)[0].split("#", 1)[0]
    for _, _, template, rx in _path_table:
        if rx.match(path):
            return template
    return None


def find_operation(method, path):
    """(template, operation) for a request, operation None when the path
    or the method is not in the contract. HEAD uses the GET operation."""
    template = match_path(path)
    if template is None:
        return None, None
    item = resolve(openapi()["paths"][template])
    m = method.lower()
    op = item.get(m)
    if op is None and m == "head":
        op = item.get("get")
    return template, op


def _pick_response(responses, status):
    for key in (str(status), "%dXX" % (status // 100),
                "%dxx" % (status // 100), "default"):
        if key in responses:
            return key, resolve(responses[key])
    return None, None


def _media_type(content_type):
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media):
    return media == "application/json" or media.endswith("+json")


def _pick_content(content, media):
    if media in content:
        return content[media]
    major = media.split("/", 1)[0]
    for key in (major + "/*", "*/*"):
        if key in content:
            return content[key]
    return None


# --- responses ---------------------------------------------------------------

class Headers:
    """Case-insensitive response headers; repeated fields are joined."""

    def __init__(self, pairs):
        self._pairs = list(pairs)
        self._map = {}
        for k, v in self._pairs:
            lk = k.lower()
            self._map[lk] = self._map[lk] + ", " + v if lk in self._map else v

    def get(self, name, default=None):
        return self._map.get(name.lower(), default)

    def get_all(self, name):
        return [v for k, v in self._pairs if k.lower() == name.lower()]

    def __getitem__(self, name):
        return self._map[name.lower()]

    def __contains__(self, name):
        return name.lower() in self._map

    def items(self):
        return list(self._pairs)

    def __repr__(self):
        return repr(self._pairs)


class Response:
    def __init__(self, status, reason, headers, body, method="GET", path=""):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.method = method
        self.path = path

    @property
    def content_type(self):
        return _media_type(self.headers.get("Content-Type"))

    def decoded(self):
        """The body with any gzip content coding removed."""
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            return gzip.decompress(self.body)
        return self.body

    def text(self):
        return self.decoded().decode("utf-8")

    def json(self):
        return json.loads(self.decoded().decode("utf-8"))

    def describe(self):
        body = self.body[:600]
        try:
            body = self.decoded()[:600].decode("utf-8", "replace")
        except Exception:
            pass
        return "%s %s -> %d %s\n  headers: %r\n  body: %s" % (
            self.method, self.path[:200], self.status, self.reason,
            self.headers.items(), body)


def parse_raw_response(data, method="GET", path=""):
    """Parse one HTTP/1.1 response from bytes read off a socket."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("incomplete HTTP response: %r" % data[:300])
    lines = head.decode("iso-8859-1").split("\r\n")
    m = re.match(r"^HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0])
    if not m:
        raise AssertionError("bad status line: %r" % lines[0])
    pairs = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        pairs.append((k.strip(), v.strip()))
    headers = Headers(pairs)
    body = rest
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        body, pos = b"", 0
        while True:
            eol = rest.index(b"\r\n", pos)
            size = int(rest[pos:eol].split(b";")[0], 16)
            if size == 0:
                break
            body += rest[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2
    elif headers.get("Content-Length") is not None:
        body = rest[:int(headers.get("Content-Length"))]
    return Response(int(m.group(1)), m.group(2), headers, body, method, path)


def check_problem(resp, validate=True):
    """Assertions every problem document meets (RFC 9457 as danvan uses it)."""
    if resp.content_type != "application/problem+json":
        raise AssertionError("error response is not application/problem+json"
                             "\n" + resp.describe())
    if resp.method == "HEAD":
        return None
    try:
        doc = resp.json()
    except ValueError as e:
        raise AssertionError("problem body is not JSON (%s)\n%s"
                             % (e, resp.describe()))
    if validate:
        validate_schema(doc, problem_schema(),
                        "problem document of %s %s" % (resp.method, resp.path))
    rid = resp.headers.get("X-Request-Id")
    if not isinstance(doc, dict) or doc.get("request_id") != rid:
        raise AssertionError("problem request_id %r != X-Request-Id %r\n%s" % (
            doc.get("request_id") if isinstance(doc, dict) else None, rid,
            resp.describe()))
    if doc.get("status") != resp.status:
        raise AssertionError("problem status %r != HTTP status %d\n%s" % (
            doc.get("status"), resp.status, resp.describe()))
    if not str(doc.get("type", "")).startswith(PROBLEM_TYPE_PREFIX):
        raise AssertionError("problem type %r does not start with %s\n%s" % (
            doc.get("type"), PROBLEM_TYPE_PREFIX, resp.describe()))
    check_no_leaks(resp)
    return doc


_schema_names = None


def schema_names():
    """The names of the schema's constraints and indexes (those with an
    underscore, which is all of them), read once from the module's
    database: no answer may carry one."""
    global _schema_names
    if _schema_names is None and _db is not None:
        _schema_names = [n for (n,) in _db.psql(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace s"
            " ON s.oid = c.connamespace WHERE s.nspname = 'public'"
            " UNION SELECT indexname FROM pg_indexes"
            " WHERE schemaname = 'public'") if "_" in n]
    return _schema_names or []


def check_no_leaks(resp):
    text = resp.decoded().decode("utf-8", "replace")
    for rx in LEAK_MARKERS:
        if rx.search(text):
            raise AssertionError("response body leaks internal text %r\n%s"
                                 % (rx.pattern, resp.describe()))
    for name in schema_names():
        if re.search(r"\b%s\b" % re.escape(name), text):
            raise AssertionError("response body names the constraint or "
                                 "index %s\n%s" % (name, resp.describe()))


def _fields_param(path):
    """The names of a fields= query parameter, or None."""
    from urllib.parse import parse_qs, urlsplit
    values = parse_qs(urlsplit(path).query).get("fields")
    return set(values[0].split(",")) if values else None


def _check_trimmed(doc, fields, where, resp):
    """A fields= response holds only the named members (of each item)."""
    items = doc.get("items") if "next_cursor" in doc else None
    for obj in (items if isinstance(items, list) else [doc]):
        extra = set(obj) - fields
        if extra:
            raise AssertionError("%s with fields=%s returned other members %s"
                                 "\n%s" % (where, ",".join(sorted(fields)),
                                           sorted(extra), resp.describe()))


def _branch(schema, trimmed):
    """A response that fields= may trim is `anyOf` the whole schema and its
    `<Name>Fields` (none required): the one that applies, so that a whole
    response is held to the whole schema."""
    branches = schema.get("anyOf")
    if not branches or len(branches) != 2 or \
            not branches[1].get("$ref", "").endswith("Fields"):
        return schema
    return branches[1] if trimmed else branches[0]


def check_contract(resp, request_headers=None):
    """Validate one response against openapi.yaml and the rules that hold
    for every danvan response. Raises AssertionError."""
    rid = resp.headers.get("X-Request-Id")
    if not rid or not REQUEST_ID_RE.match(rid):
        raise AssertionError("missing or malformed X-Request-Id\n"
                             + resp.describe())
    if resp.headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        raise AssertionError("missing X-Content-Type-Options: nosniff\n"
                             + resp.describe())
    coding = (resp.headers.get("Content-Encoding") or "").lower()
    if coding:
        accepted = ""
        for k, v in (request_headers or {}).items():
            if k.lower() == "accept-encoding":
                accepted = v.lower()
        if coding != "gzip" or "gzip" not in accepted:
            raise AssertionError("Content-Encoding %r the client did not ask "
                                 "for\n%s" % (coding, resp.describe()))
    if resp.status == 304 and resp.body:
        raise AssertionError("304 with a body\n" + resp.describe())

    template, op = find_operation(resp.method, resp.path)
    if resp.method == "OPTIONS" and resp.status == 204:
        # CORS preflight and OPTIONS, answered by the server for every
        # path (the contract's info says how), never with a body.
        if resp.body or not resp.headers.get("Allow"):
            raise AssertionError("OPTIONS 204 with a body or without "
                                 "Allow\n" + resp.describe())
        return
    if op is None:
        if resp.status not in (404, 405):
            raise AssertionError(
                "%s %s is not in openapi.yaml but answered %d (expected 404 "
                "or 405)\n%s" % (resp.method, resp.path, resp.status,
                                 resp.describe()))
        check_problem(resp)
        return

    where = "%s %s" % (resp.method.upper(), template)
    key, robj = _pick_response(op.get("responses", {}), resp.status)
    if robj is None:
        raise AssertionError("status %d is not documented for %s\n%s" % (
            resp.status, where, resp.describe()))
    for name, hobj in (robj.get("headers") or {}).items():
        hobj = resolve(hobj)
        value = resp.headers.get(name)
        if value is None:
            if hobj.get("required"):
                raise AssertionError("%s %s requires header %s\n%s"
                                     % (where, key, name, resp.describe()))
            continue
        schema = hobj.get("schema")
        if schema:
            instance = value
            if resolve(schema).get("type") == "integer":
                try:
                    instance = int(value)
                except ValueError:
                    pass
            validate_schema(instance, schema, "header %s of %s %s"
                            % (name, where, key))
    if resp.status >= 400:
        check_problem(resp, validate=False)
    if resp.status == 304 or resp.method == "HEAD":
        return
    content = robj.get("content")
    if not content:
        if resp.body:
            raise AssertionError("%s %s documents no body but one came\n%s"
                                 % (where, key, resp.describe()))
        return
    media = resp.content_type
    mobj = _pick_content(content, media)
    if mobj is None:
        raise AssertionError(
            "content type %r is not documented for %s %s (documented: %s)\n%s"
            % (resp.headers.get("Content-Type"), where, key,
               ", ".join(content), resp.describe()))
    if _is_json(media):
        try:
            doc = resp.json()
        except ValueError as e:
            raise AssertionError("%s body is not JSON (%s)\n%s"
                                 % (where, e, resp.describe()))
        fields = _fields_param(resp.path)
        trimmed = fields is not None and resp.status == 200
        if trimmed:
            _check_trimmed(doc, fields, where, resp)
        if "schema" in mobj:
            validate_schema(doc, _branch(mobj["schema"], trimmed),
                            "response %s of %s" % (key, where))
        record_example(resp, op, key, media, doc, trimmed)
    elif media == "text/csv":
        record_example(resp, op, key, media, resp.text(), False)


# --- examples ----------------------------------------------------------------

# DANVAN_RECORD_EXAMPLES=DIR (an absolute path): each test module writes
# DIR/<module>.json, the best body it saw of every 2xx operation, status and
# media type (a whole one over one that fields= trimmed, a page with items
# over an empty one, else the first); openapi/examples.py writes them into
# openapi.yaml as the operations' examples.
RECORD_DIR = os.environ.get("DANVAN_RECORD_EXAMPLES")
_examples = {}


def _example_rank(body, trimmed):
    empty = isinstance(body, dict) and body.get("items") == []
    return (not trimmed, not empty)


def record_example(resp, op, status, media, body, trimmed):
    """Keep a body that held to the contract as the example of its
    operation (see RECORD_DIR); nothing without DANVAN_RECORD_EXAMPLES."""
    if not RECORD_DIR or not status.startswith("2"):
        return
    if not _examples:
        atexit.register(_write_examples)
    key = (op["operationId"], status, media)
    rank = _example_rank(body, trimmed)
    have = _examples.get(key)
    if have is None or rank > have["rank"]:
        _examples[key] = {"operation": key[0], "status": status,
                          "media": media, "rank": rank,
                          "request": "%s %s" % (resp.method, resp.path),
                          "body": body}


def _write_examples():
    os.makedirs(RECORD_DIR, exist_ok=True)
    out = os.path.join(RECORD_DIR, Path(sys.argv[0]).stem + ".json")
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        json.dump([_examples[k] for k in sorted(_examples)], f,
                  ensure_ascii=False, indent=1)
    os.replace(out + ".tmp", out)


# --- the database ------------------------------------------------------------

class PsqlError(Exception):
    def __init__(self, returncode, stderr, sql):
        super().__init__("psql exited %d: %s (sql: %s)"
                         % (returncode, stderr.strip(), sql))
        self.returncode = returncode
        self.stderr = stderr


def _psql_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "5"
    return env


def run_psql(url, statements):
    """Run statements (one `-c` each, so each is its own transaction) and
    return the rows of their output as tuples of strings."""
    if isinstance(statements, str):
        statements = [statements]
    cmd = [PSQL, url, "-X", "-v", "ON_ERROR_STOP=1",
           "-qAt", "-F", "\x1f"]
    for s in statements:
        cmd += ["-c", s]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=_psql_env())
    if p.returncode != 0:
        raise PsqlError(p.returncode, p.stderr, "; ".join(statements))
    return [tuple(line.split("\x1f")) for line in p.stdout.splitlines()]


def _with_path(url, dbname):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query,
                                    u.fragment))


class Database:
    """A fresh database cloned from the migrated `danvan` template."""

    TEMPLATE = "danvan"

    def __init__(self):
        self.host = os.environ["DANVAN_TEST_PG_HOST"]
        self.port = os.environ["DANVAN_TEST_PG_PORT"]
        self.super_url = os.environ["DANVAN_SUPER_DATABASE_URL"]
        self.name = "t_" + secrets.token_hex(6)
        self.dropped = False
        self._create()
        atexit.register(self.drop)

    def _create(self):
        stmt = ("CREATE DATABASE %s TEMPLATE %s OWNER danvan_owner"
                % (self.name, self.TEMPLATE))
        for attempt in range(40):
            try:
                self.super_psql(stmt)
                break
            except PsqlError as e:
                if "being accessed by other users" not in e.stderr or \
                        attempt == 39:
                    raise
                time.sleep(0.25)
        self.super_psql([
            "REVOKE ALL ON DATABASE %s FROM PUBLIC" % self.name,
            "GRANT CONNECT, TEMP ON DATABASE %s TO danvan_app" % self.name])

    def url(self, role):
        """libpq URL of `role` on this database."""
        return "postgresql://%s@/%s?host=%s&port=%s" % (
            role, self.name, urllib.parse.quote(self.host, safe="/"),
            self.port)

    @property
    def app_url(self):
        return self.url("danvan_app")

    @property
    def owner_url(self):
        return self.url("danvan_owner")

    def super_psql(self, sql):
        """As the superuser, in the cluster's maintenance database."""
        return run_psql(self.super_url, sql)

    def psql(self, sql, role="danvan_owner"):
        """Rows of `sql` run in this database as `role` ("super" for the
        superuser)."""
        if role == "super":
            url = _with_path(self.super_url, self.name)
        else:
            url = self.url(role)
        return run_psql(url, sql)

    def drop(self):
        if self.dropped:
            return
        self.dropped = True
        run_psql(self.super_url,
                 "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)


# --- the server ------------------------------------------------------------

# The HS256 key the server signs tokens with during the tests.
JWT_SECRET = secrets.token_hex(32)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Server:
    """`danvan serve` on a free local port against `db`."""

    START_TIMEOUT = 15.0
    STOP_TIMEOUT = 10.0

    def __init__(self, db, env=None):
        self.db = db
        self.extra_env = dict(env or {})
        self.proc = None
        self.port = None
        self.dir = tempfile.mkdtemp(prefix="danvan-api-")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.failed = False

    def _env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DANVAN_")}
        env["DANVAN_DATABASE_URL"] = self.db.app_url
        env["DANVAN_LISTEN"] = "127.0.0.1:%d" % self.port
        env["DANVAN_JWT_SECRET"] = JWT_SECRET
        env.update(self.extra_env)
        return env

    def start(self):
        for attempt in range(3):
            self.port = free_port()
            with open(self.stdout_path, "wb") as out, \
                    open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    [os.environ["DANVAN_BIN"], "serve"], env=self._env(),
                    cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=err)
            if self._wait_ready():
                return self
            if self.proc.poll() is not None and \
                    "in use" in self.stderr().lower() and attempt < 2:
                continue
            break
        self.failed = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        raise AssertionError(
            "danvan serve did not answer /healthz within %.0f s (exit %r)\n"
            "logs in %s\n--- stderr ---\n%s" % (
                self.START_TIMEOUT, self.proc.returncode, self.dir,
                self.stderr()))

    def _wait_ready(self):
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=1)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Send `sig`, wait, and fail unless the process exits 0 in time
        (a sanitizer report makes the exit code non-zero)."""
        if self.proc is None or self.proc.returncode == 0:
            return 0
        timeout = self.STOP_TIMEOUT if timeout is None else timeout
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.failed = True
            raise AssertionError(
                "danvan did not exit within %.0f s of signal %d (logs in %s)"
                "\n--- stderr ---\n%s" % (timeout, sig, self.dir,
                                          self.stderr()))
        if rc != 0:
            self.failed = True
            sys.stderr.write("--- danvan stderr (exit %d) ---\n%s\n"
                             % (rc, self.stderr()))
            raise AssertionError("danvan exited %d after signal %d (stderr "
                                 "printed above, logs in %s)"
                                 % (rc, sig, self.dir))
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def stderr(self):
        try:
            with open(self.stderr_path, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self.stdout_path, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def access_log(self):
        """Every stdout line as a JSON object (fails on a line that is not)."""
        entries = []
        for n, line in enumerate(self.stdout().splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                raise AssertionError("stdout line %d is not JSON: %r"
                                     % (n, line[:300]))
            if not isinstance(obj, dict):
                raise AssertionError("stdout line %d is not a JSON object: %r"
                                     % (n, line[:300]))
            entries.append(obj)
        return entries

    def request(self, method, path, body=None, headers=None, raw=None,
                timeout=10):
        """Send one request on a new connection and check the response
        against the contract. `body` is sent as JSON, `raw` as bytes."""
        headers = dict(headers or {})
        lower = {k.lower() for k in headers}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json"
        elif raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        if data is None and method.upper() in ("POST", "PUT", "PATCH"):
            data = b""
        if data is not None and "content-length" not in lower:
            headers["Content-Length"] = str(len(data))
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders(data)
            r = conn.getresponse()
            payload = r.read()
            resp = Response(r.status, r.reason, Headers(r.getheaders()),
                            payload, method.upper(), path)
        finally:
            conn.close()
        check_contract(resp, headers)
        return resp

    def raw(self, data, timeout=5):
        """Send bytes as they are and return what comes back (until the
        response is complete, the server closes, or `timeout`)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        buf = b""
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                buf += chunk
                head, sep, rest = buf.partition(b"\r\n\r\n")
                if sep:
                    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
                    if m and len(rest) >= int(m.group(1)):
                        break
        finally:
            s.close()
        return buf

    def send_and_close(self, data):
        """Send bytes and close the connection without reading a byte of
        the answer (a client that hangs up)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            s.sendall(data)
        finally:
            s.close()

    def raw_response(self, data, timeout=5):
        """raw() parsed into a Response (not checked against the contract)."""
        out = self.raw(data, timeout)
        if not out:
            raise AssertionError("no response at all to %r..." % data[:80])
        first = data.split(b"\r\n", 1)[0].decode("iso-8859-1")
        parts = first.split(" ")
        return parse_raw_response(out, parts[0], parts[1] if len(parts) > 1
                                  else "")


# --- module fixtures ---------------------------------------------------------

_db = None
_server = None
# For assertions outside a test method (fixtures, helpers of a module).
CHECK = unittest.TestCase()
CHECK.maxDiff = None


def db():
    """This module's Database (made by setUpModule)."""
    return _db


def srv():
    """This module's Server (started by setUpModule)."""
    return _server


def setup_module(env=None):
    """Create this module's database and server (extra server environment
    in `env`)."""
    global _db, _server
    require_env()
    _db = Database()
    try:
        _server = Server(_db, env).start()
    except BaseException:
        _db.drop()
        raise


def teardown_module():
    """Stop the server (asserting a clean exit) and drop the database."""
    global _db, _server
    try:
        if _server is not None:
            _server.stop()
    finally:
        _server = None
        _principals.clear()
        if _db is not None:
            _db.drop()
            _db = None


def fixtures(build=None, env=None):
    """setUpModule and tearDownModule for a test module: its database and
    server (with `env`), then `build()` (what the module's tests share);
    when that fails, the server and the database go at once."""
    def set_up():
        setup_module(env)
        if build is not None:
            try:
                build()
            except BaseException:
                teardown_module()
                raise
    return set_up, teardown_module


def tag():
    """A short random suffix that keeps names, codes and titles apart."""
    return secrets.token_hex(4)


def ok(resp, status=200):
    """Assert the status of a response (its description on failure) and
    return the response."""
    CHECK.assertEqual(resp.status, status, resp.describe())
    return resp


# --- demo data, accounts and tokens -----------------------------------------

# The seeded organisation (db/seed/0001_units.sql): fixed ids.
SEED_UNITS = {
    "province": "5eed0000-0000-4000-8000-000000000001",
    "so-noi-vu": "5eed0000-0000-4000-8000-000000000002",
    "commune": "5eed0000-0000-4000-8000-000000000010",
    "vp-hdnd-ubnd": "5eed0000-0000-4000-8000-000000000011",
    "phong-kinh-te": "5eed0000-0000-4000-8000-000000000012",
    "phong-vh-xh": "5eed0000-0000-4000-8000-000000000013",
    "tt-phuc-vu-hcc": "5eed0000-0000-4000-8000-000000000014",
    "tt-cung-ung-dvc": "5eed0000-0000-4000-8000-000000000015",
    "ban-xay-dung-dang": "5eed0000-0000-4000-8000-000000000016",
    "mttq": "5eed0000-0000-4000-8000-000000000017",
    "thon-1": "5eed0000-0000-4000-8000-000000000021",
    "thon-2": "5eed0000-0000-4000-8000-000000000022",
    "thon-3": "5eed0000-0000-4000-8000-000000000023",
    "thon-4": "5eed0000-0000-4000-8000-000000000024",
    "mat-tran-thon-1": "5eed0000-0000-4000-8000-000000000031",
    "mat-tran-thon-2": "5eed0000-0000-4000-8000-000000000032",
    "mat-tran-thon-3": "5eed0000-0000-4000-8000-000000000033",
    "mat-tran-thon-4": "5eed0000-0000-4000-8000-000000000034",
}
U = SEED_UNITS
# The seeded plans: the province's (db/seed/0002) and the commune's (0003).
PROVINCE_PLAN = "5eed0000-0000-4000-8000-0000000000a1"
COMMUNE_PLAN = "5eed0000-0000-4000-8000-0000000000a2"
# The units the owing groups "agencies" and "villages" stand for (sorted).
AGENCIES = sorted(U[k] for k in ("vp-hdnd-ubnd", "phong-kinh-te",
                                 "phong-vh-xh", "tt-phuc-vu-hcc",
                                 "tt-cung-ung-dvc"))
VILLAGES = sorted(U["thon-%d" % i] for i in range(1, 5))
USER_ROLES = ("admin", "leader", "coordinator", "inspector", "officer",
              "viewer")
ROLES = USER_ROLES + ("service",)

_demo = None


def demo_accounts():
    """The seed's credentials file (DANVAN_DEMO_CREDENTIALS): a list of
    {role, username, password | api_key, unit_id}."""
    global _demo
    if _demo is None:
        path = os.environ.get("DANVAN_DEMO_CREDENTIALS")
        if not path:
            raise AssertionError("DANVAN_DEMO_CREDENTIALS is not set: run "
                                 "the API tests through tests/run.sh")
        with open(path, encoding="utf-8") as f:
            _demo = json.load(f)
    return _demo


def demo_account(who):
    """The demo account of the role `who` (the first one the seed lists;
    "service" is the province's API key), else the one named `who`
    ("kinhte", "bxdd", ...)."""
    for key in ("role", "username"):
        for entry in demo_accounts():
            if entry.get(key) == who:
                return dict(entry)
    raise AssertionError("no demo account with role or username %r in %s"
                         % (who, os.environ.get("DANVAN_DEMO_CREDENTIALS")))


def is_demo(who):
    """Whether `who` is a demo role or a demo account's username."""
    return isinstance(who, str) and any(
        who in (entry.get("role"), entry.get("username"))
        for entry in demo_accounts())


def login(username, password, srv=None, headers=None):
    """POST /api/v1/auth/token; the response, whatever its status."""
    return (srv or _server).request(
        "POST", "/api/v1/auth/token",
        body={"username": username, "password": password}, headers=headers)


def token(role, srv=None):
    """A bearer credential for a demo role (or a demo account's username,
    see demo_account()) on `srv` (default: the module's server): an access
    token signed in for once and then reused, or for "service" the demo
    API key."""
    srv = srv or _server
    if role == "service":
        return demo_account("service")["api_key"]
    cache = srv.__dict__.setdefault("_tokens", {})
    if role not in cache:
        acct = demo_account(role)
        r = login(acct["username"], acct["password"], srv)
        if r.status != 200:
            raise AssertionError("signing in as the demo %s failed\n%s"
                                 % (role, r.describe()))
        cache[role] = r.json()["access_token"]
    return cache[role]


def forget_token(role, srv=None):
    """Drop a cached token (after a change that invalidates it)."""
    (srv or _server).__dict__.setdefault("_tokens", {}).pop(role, None)


def bearer(credential, headers=None):
    """Headers with `Authorization: Bearer <credential>` added."""
    out = dict(headers or {})
    out["Authorization"] = "Bearer " + credential
    return out


def _find_key(doc, name):
    if isinstance(doc, dict):
        return name in doc or any(_find_key(v, name) for v in doc.values())
    if isinstance(doc, list):
        return any(_find_key(v, name) for v in doc)
    return False


def check_no_secrets(resp):
    """No password hash (nor a field that could hold one) in a response."""
    text = resp.decoded().decode("utf-8", "replace")
    if "$argon2" in text:
        raise AssertionError("response carries an Argon2 hash\n"
                             + resp.describe())
    if resp.content_type.endswith("json") and resp.body:
        doc = resp.json()
        for key in ("password", "password_hash", "key_hash", "token_hash"):
            if _find_key(doc, key):
                raise AssertionError("response carries a %r field\n%s"
                                     % (key, resp.describe()))


# Users a module made with new_user(name=...): name -> access token.
_principals = {}


class Bearer(str):
    """A credential that call() sends as it is: an access token or a
    service key that a test holds (`call(Bearer(key), "GET", ...)`)."""


def credential(who, srv=None):
    """The bearer credential of `who` on `srv`: a demo role or a demo
    account's username (see token()), the name of a user made by
    new_user(name=...), or a Bearer."""
    if isinstance(who, Bearer):
        return str(who)
    if who in ROLES or is_demo(who):
        return token(who, srv)
    if who in _principals:
        return _principals[who]
    raise AssertionError("%r is not a demo role or account, nor a user this "
                         "module named with new_user(name=...)" % (who,))


def call(who, method, path, body=None, headers=None, raw=None, srv=None,
         timeout=10):
    """A request as `who` (see credential(); None sends no credentials) to
    `srv` (default: the module's server), checked against the contract and
    for secrets. `body` goes as JSON, `raw` as it is."""
    srv = srv or _server
    if who is not None:
        headers = bearer(credential(who, srv), headers)
    resp = srv.request(method, path, body=body, headers=headers, raw=raw,
                       timeout=timeout)
    check_no_secrets(resp)
    return resp


def sign_in(username, password, srv=None):
    """The token document of a sign-in that must succeed (access_token,
    refresh_token, ...)."""
    r = login(username, password, srv)
    if r.status != 200:
        raise AssertionError("signing in as %s failed\n%s"
                             % (username, r.describe()))
    return r.json()


class User:
    """A user new_user() made: id, username, password, doc (the created
    user as the API returned it), and when it was signed in session (the
    token document) and token (its access token); else both None."""

    def __init__(self, doc, password):
        self.doc = doc
        self.id = doc["id"]
        self.username = doc["username"]
        self.password = password
        self.session = self.token = None


def strong_password():
    """A fresh password that meets the password rules."""
    return "Pw-" + secrets.token_urlsafe(18)


def new_user(unit_id=SEED_UNITS["commune"], role="viewer", prefix="user",
             full_name=None, name=None, username=None, password=None,
             signed_in=True, by="admin"):
    """A user of `role` in `unit_id`, made through the API by `by` (see
    credential(); default the demo admin) and (unless `signed_in` is
    false) signed in; a User. With `name`, call(name, ...) acts as this
    user until the module ends."""
    if name is not None and (name in ROLES or is_demo(name) or
                             not signed_in):
        raise AssertionError("new_user(name=%r): a name must be no demo "
                             "role or account, and the user signed in"
                             % name)
    username = username or "%s.%s" % (prefix, tag())
    password = password or strong_password()
    r = call(by, "POST", "/api/v1/users", body={
        "unit_id": unit_id, "username": username, "role": role,
        "full_name": full_name or "Cán bộ " + username, "password": password})
    if r.status != 201:
        raise AssertionError("creating %s failed\n%s"
                             % (username, r.describe()))
    user = User(r.json(), password)
    if signed_in:
        user.session = sign_in(username, password)
        user.token = user.session["access_token"]
    if name is not None:
        _principals[name] = user.token
    return user


def user_id(username):
    """The id of a user, from the database."""
    rows = _db.psql("SELECT id FROM users WHERE username = '%s'" % username)
    if len(rows) != 1:
        raise AssertionError("no user %r in the database" % username)
    return rows[0][0]


def demo_user_id(role):
    """The id of the demo account of a (user) role."""
    return user_id(demo_account(role)["username"])


def pages(who, path, query="", limit=200, max_pages=1000):
    """Every page of a list as `who`: GET path?query with `limit` and then
    the cursors the server gives, until next_cursor is null; the list of
    the pages' items. Each page must answer 200."""
    out, cursor = [], None
    for _ in range(max_pages):
        q = [query] if query else []
        q.append("limit=%d" % limit)
        if cursor:
            q.append("cursor=" + cursor)
        doc = ok(call(who, "GET", path + "?" + "&".join(q))).json()
        out.append(doc["items"])
        cursor = doc["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("the pages of %s never end" % path)


def all_items(who, path, query="", limit=200, max_pages=1000):
    """Every item of a list, all its pages read (see pages())."""
    return [i for page in pages(who, path, query, limit, max_pages)
            for i in page]


def raw_request(who, path, data, headers=None, length=None):
    """The bytes of `POST path` as `who` with body `data`, `headers` (a
    dict), Content-Length len(data) (or `length`) and Connection: close:
    for Server.raw(), raw_response() and send_and_close()."""
    head = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1",
            "Authorization: Bearer " + credential(who)]
    head += ["%s: %s" % kv for kv in (headers or {}).items()]
    head += ["Content-Length: %d" % (len(data) if length is None else length),
             "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def send_unread(who, path, data, headers):
    """POST a body the server may refuse before reading it all (over its
    cap), as `who`: sent on a raw socket so that an early answer is still
    read, and checked against the contract."""
    resp = _server.raw_response(raw_request(who, path, data, headers),
                                timeout=10)
    check_contract(resp, headers)
    return resp


def locked_race(table, row_id, n, fn):
    """fn(i) for i in range(n), each on its own thread, while this test
    holds the row `row_id` of `table` FOR UPDATE, so that the requests meet
    inside the database whatever the timing. The first two are sent one
    after the other, each once the one before waits for a lock (a server
    thread waiting in the database accepts no connection, so they run on
    two threads), then the rest; the row is let go after that. Returns the
    results in order (the first exception is raised again)."""
    holder = subprocess.Popen(
        [PSQL, _db.owner_url, "-X", "-qAt", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=_psql_env())
    results, errors = [None] * n, []

    def go(i):
        try:
            results[i] = fn(i)
        except BaseException as e:  # noqa: B036 - raised again below
            errors.append(e)

    def wait_for(count):
        deadline = time.monotonic() + 10
        while int(_db.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                " current_database() AND usename = 'danvan_app'"
                " AND wait_event_type = 'Lock'", role="super")[0][0]) < count:
            if errors:
                raise errors[0]
            if time.monotonic() > deadline:
                raise AssertionError(
                    "fewer than %d requests waited for a lock in 10 s: "
                    "does the server have 2 worker threads?" % count)
            time.sleep(0.02)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    try:
        holder.stdin.write("BEGIN;\nSELECT 1 FROM %s WHERE id = '%s' FOR "
                           "UPDATE;\n" % (table, row_id))
        holder.stdin.flush()
        if holder.stdout.readline().strip() != "1":
            raise AssertionError("could not lock %s %s: %s"
                                 % (table, row_id, holder.stderr.read()))
        for i, t in enumerate(threads):
            t.start()
            if i < 2:
                wait_for(i + 1)
    finally:
        holder.communicate("COMMIT;\n", timeout=30)
        for t in threads:
            if t.ident is not None:
                t.join(60)
    if errors:
        raise errors[0]
    return results


def expect_one_winner(test, responses):
    """Of changes sent with the same If-Match, exactly one is 200 and every
    other 412."""
    test.assertEqual(sorted(r.status for r in responses),
                     [200] + [412] * (len(responses) - 1),
                     "\n".join(r.describe() for r in responses
                               if r.status not in (200, 412)))
    for r in responses:
        if r.status == 412:
            expect_problem(test, r, 412, "precondition_failed")


def expect_problem(test, resp, status, code, fields=None):
    """Assert a problem document of `status` and `code`; with `fields`
    ({field: error code}), also exactly those errors[] entries. Returns the
    document."""
    test.assertEqual(resp.status, status, resp.describe())
    doc = resp.json()
    test.assertEqual(doc.get("type"), PROBLEM_TYPE_PREFIX + code,
                     resp.describe())
    if fields is not None:
        got = {}
        for e in doc.get("errors") or []:
            got.setdefault(e.get("field"), set()).add(e.get("code"))
        want = {k: ({v} if isinstance(v, str) else set(v))
                for k, v in fields.items()}
        test.assertEqual(got, want, resp.describe())
    return doc
