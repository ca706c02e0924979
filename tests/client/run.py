"""The typed-client test: generates TypeScript types from openapi/openapi.yaml
(openapi-typescript), compiles story.ts under tsc --strict, and runs it with
node against a server started as the API tests start theirs (a clone of the
template database, the real binary); then checks every response the client got
against the contract with the API harness. A contract change that breaks the
client fails the compile step, and so this test.

The npm packages come from package-lock.json (`npm ci`, from npm's cache once
it has been filled: --prefer-offline)."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "api"))
import harness  # noqa: E402

NPX = ["npx", "--no-install"]


def run(cmd, **kw):
    p = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True,
                       timeout=600, stdin=subprocess.DEVNULL, **kw)
    if p.returncode != 0:
        raise AssertionError("%s exited %d\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    return p.stdout


def install():
    """node_modules from the lock file, unless it is there already."""
    stamp = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund",
             "--loglevel=error"])


class TypedClient(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        install()
        (HERE / "gen").mkdir(exist_ok=True)
        # Request members with a default stay optional (`submit`).
        run(NPX + ["openapi-typescript", str(harness.OPENAPI_PATH),
                   "--default-non-nullable", "false",
                   "-o", str(HERE / "gen" / "api.d.ts")])
        run(NPX + ["tsc", "-p", "tsconfig.json"])
        harness.setup_module()

    @classmethod
    def tearDownClass(cls):
        harness.teardown_module()

    def test_village_report_story(self):
        officer = harness.demo_account("cungung")
        reviewer = harness.demo_account("vhxh")
        srv = harness._server
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
            env = dict(os.environ,
                       DANVAN_CLIENT_BASE_URL="http://127.0.0.1:%d" % srv.port,
                       DANVAN_CLIENT_LOG=log.name,
                       DANVAN_CLIENT_OFFICER=officer["username"],
                       DANVAN_CLIENT_OFFICER_PASSWORD=officer["password"],
                       DANVAN_CLIENT_REVIEWER=reviewer["username"],
                       DANVAN_CLIENT_REVIEWER_PASSWORD=reviewer["password"])
            out = run(["node", str(HERE / "out" / "story.js")], env=env)
            self.assertIn("accepted, 2 ranges", out)
            entries = [json.loads(line) for line in log if line.strip()]
        self.assertGreaterEqual(len(entries), 15, "too few responses logged")
        for e in entries:
            # fetch asks for gzip and hands over the body decoded.
            headers = [(k, v) for k, v in e["headers"]
                       if k.lower() != "content-encoding"]
            u = urlsplit(e["url"])
            path = u.path + ("?" + u.query if u.query else "")
            resp = harness.Response(e["status"], "", harness.Headers(headers),
                                    base64.b64decode(e["body"]),
                                    e["method"], path)
            with self.subTest(request="%s %s" % (e["method"], path)):
                harness.check_contract(resp)


if __name__ == "__main__":
    harness.main(require=harness.IDENTITY_ENV)
