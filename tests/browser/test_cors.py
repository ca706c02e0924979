"""A real browser against the real server: headless Chromium, driven over
its DevTools pipe, loads a page from another local origin that signs in
and reads a list through CORS; the same page from an origin that is not on
DANVAN_CORS_ORIGINS is refused; and /docs loads with no request to any
other host (a proxy that answers nothing records what would have left the
machine: the browser's own update and sign-in services try it too, so
the page's requests are told apart by the DevTools Network events).
"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

import harness  # noqa: E402

CHROMIUM = "/usr/bin/chromium"

# The front end under test: signs in, then lists units, and says what it
# could read (the exposed headers included).
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>front end</title></head><body>
<script>
window.result = (async () => {
  const api = %(api)s, creds = %(creds)s;
  try {
    const t = await fetch(api + "/api/v1/auth/token", {method: "POST",
      headers: {"Content-Type": "application/json", "X-Request-Id": "cors-1"},
      body: JSON.stringify(creds)});
    const tok = await t.json();
    const u = await fetch(api + "/api/v1/units?limit=2", {headers:
      {"Authorization": "Bearer " + tok.access_token, "If-None-Match": "\\"x\\""}});
    const body = await u.json();
    return {status: u.status, items: body.items.length,
            etag: u.headers.get("ETag"),
            request_id: t.headers.get("X-Request-Id")};
  } catch (e) {
    return {error: String(e)};
  }
})();
</script></body></html>
"""


class Static(http.server.ThreadingHTTPServer):
    """A tiny origin that serves one page; as a proxy (any absolute URL or
    CONNECT) it records the request and answers 502."""

    daemon_threads = True

    def __init__(self):
        self.page = b""
        self.outside = []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.startswith("/"):
            self.server.outside.append(self.path)
            self.send_error(502)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)

    def do_CONNECT(self):
        self.server.outside.append("CONNECT " + self.path)
        self.send_error(502)

    do_POST = do_HEAD = do_GET


class Browser:
    """Headless Chromium over --remote-debugging-pipe: one page, its
    network requests recorded."""

    def __init__(self, proxy):
        self.profile = tempfile.mkdtemp(prefix="danvan-chromium-")
        to_child, self.cmd_w = os.pipe()
        self.evt_r, from_child = os.pipe()

        def fds():
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile,
             # Everything not on loopback (which bypasses any proxy)
             # goes to the recording proxy.
             "--proxy-server=" + proxy,
             "about:blank"],
            # 3 and 4 are the pipe's ends in the child (set by fds()).
            pass_fds=(3, 4), preexec_fn=fds,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self.buf = b""
        self.next_id = 0
        self.events = []
        target = self.send("Target.createTarget", url="about:blank")
        self.session = self.send("Target.attachToTarget",
                                 targetId=target["targetId"],
                                 flatten=True)["sessionId"]
        self.send("Network.enable", session=True)
        self.send("Page.enable", session=True)

    def _read(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise AssertionError("chromium did not answer in time")
            chunk = os.read(self.evt_r, 65536)
            if not chunk:
                raise AssertionError("chromium exited")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, session=False, timeout=30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError("%s: %s" % (method, m["error"]))
                return m["result"]
            self.events.append(m)

    def wait_event(self, name, timeout=30):
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == name:
                    del self.events[i]
                    return m
            self.events.append(self._read(timeout))

    def open(self, url):
        """Loads url and waits for its load event."""
        self.events.clear()
        self.send("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")

    def eval(self, expr):
        r = self.send("Runtime.evaluate", session=True, expression=expr,
                      awaitPromise=True, returnByValue=True)
        return r["result"].get("value")

    def requested(self):
        """The URLs of the requests the page made since it was opened."""
        return [m["params"]["request"]["url"] for m in self.events
                if m.get("method") == "Network.requestWillBeSent"]

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.evt_r)
        shutil.rmtree(self.profile, ignore_errors=True)


allowed = refused = proxy = browser = None


def setUpModule():
    global allowed, refused, proxy, browser
    if not os.access(CHROMIUM, os.X_OK):
        raise AssertionError(CHROMIUM + " is missing: deploy/deps.sh "
                             "installs it")
    allowed, refused, proxy = Static(), Static(), Static()
    harness.setup_module({"DANVAN_CORS_ORIGINS": "https://front.example, "
                          + allowed.origin})
    browser = Browser(proxy.origin)


def tearDownModule():
    try:
        if browser is not None:
            browser.close()
    finally:
        for s in (allowed, refused, proxy):
            if s is not None:
                s.shutdown()
        harness.teardown_module()


def front_end():
    acct = harness.demo_account("admin")
    return (PAGE % {"api": json.dumps("http://127.0.0.1:%d"
                                      % harness.srv().port),
                    "creds": json.dumps({"username": acct["username"],
                                         "password": acct["password"]})}
            ).encode()


class TestBrowser(unittest.TestCase):
    def test_allowed_origin_signs_in_and_lists(self):
        allowed.page = front_end()
        browser.open(allowed.origin + "/")
        got = browser.eval("window.result")
        self.assertEqual(got.get("status"), 200, got)
        self.assertEqual(got["items"], 2)
        self.assertTrue(got["etag"], "ETag is not exposed: %r" % got)
        self.assertEqual(got["request_id"], "cors-1")

    def test_other_origin_is_refused(self):
        refused.page = front_end()
        browser.open(refused.origin + "/")
        got = browser.eval("window.result")
        self.assertIn("error", got)
        self.assertIn("Failed to fetch", got["error"])

    def test_docs_page_is_self_contained(self):
        base = "http://127.0.0.1:%d" % harness.srv().port
        browser.open(base + "/docs")
        # Redoc has rendered the contract (its title) and the menu's
        # footer, whose logo came from a CDN.
        for _ in range(100):
            title = browser.eval(
                "document.querySelector('a[href*=\"redocly.com\"]') "
                "? document.querySelector('h1').textContent : ''")
            if title:
                break
            time.sleep(0.1)
        self.assertIn("danvan", title.lower())
        browser.eval("new Promise(r => setTimeout(r, 300))")
        urls = browser.requested()
        self.assertIn(base + "/openapi.json", urls)
        # The footer's logo, pointed at the server's own icon.
        self.assertIn(base + "/favicon.ico", urls)
        outside = [u for u in urls if not u.startswith(base + "/")
                   and not u.startswith(("data:", "blob:" + base + "/"))]
        self.assertEqual(outside, [])


if __name__ == "__main__":
    harness.main(harness.IDENTITY_ENV)
