"""The one list of problem codes (`danvan codes`, api/http/codes.c) against
the sources and the contract: every code literal that the C sources pass to
req_fail, failure_set or auth_fail, and every code of the SQLSTATE map, is
in the list with the status it is passed with; every listed code is used;
and the Problem type of openapi/openapi.yaml enumerates exactly the list.
The same for the codes of errors[] entries (`danvan codes fields`, passed to
failure_field and req_field_error) and the FieldError code of the contract.
Needs no database."""

import json
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "urn:danvan:problem:"
# Function -> (index of the status argument or None, index of the code).
CALLS = {"req_fail": (1, 2), "failure_set": (2, 3), "failure_vset": (2, 3),
         "auth_fail": (None, 2)}
CALL_RE = re.compile(r"\b(%s)\s*\(" % "|".join(CALLS))
# Function -> index of the code of an errors[] entry.
FIELD_CALLS = {"failure_field": 3, "failure_vfield": 3, "req_field_error": 2}
FIELD_CALL_RE = re.compile(r"\b(%s)\s*\(" % "|".join(FIELD_CALLS))


def danvan_codes(*args):
    p = subprocess.run([os.environ["DANVAN_BIN"], "codes", *args],
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items()
                            if not k.startswith("DANVAN_")})
    if p.returncode != 0:
        raise AssertionError("danvan codes exited %d: %s"
                             % (p.returncode, p.stderr))
    return p.stdout


def nginx_problems():
    """(status, language, document) of each problem document nginx writes
    itself: the values of `map $danvan_lang $danvan_problem_STATUS`."""
    conf = (ROOT / "deploy" / "nginx" / "danvan.conf").read_text(
        encoding="utf-8")
    out = []
    for m in re.finditer(r"map \$danvan_lang \$danvan_problem_(\d{3}) \{(.*?)\n\}",
                         conf, flags=re.S):
        for v in re.finditer(r"^\s*(default|vi)\s+'(.*)';$", m.group(2),
                             flags=re.M):
            body = v.group(2).replace("\\n", "\n")
            out.append((int(m.group(1)), "en" if v.group(1) == "default"
                        else "vi", json.loads(body)))
    return out


def blank_comments(src):
    """Comments become spaces (newlines kept, so line numbers hold)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*",
                  lambda m: re.sub(r"[^\n]", " ", m.group()), src, flags=re.S)


def skip_quoted(src, j):
    """Index after the string or character literal that starts at j."""
    q, k = src[j], j + 1
    while src[k] != q:
        k += 2 if src[k] == "\\" else 1
    return k + 1


def arguments(src, i):
    """The top-level arguments of the call whose '(' ends just before i."""
    depth, args, start, j = 0, [], i, i
    while j < len(src):
        c = src[j]
        if c in "\"'":
            j = skip_quoted(src, j)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append(src[start:j].strip())
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append(src[start:j].strip())
            start = j + 1
        j += 1
    raise AssertionError("unterminated call")


def code_literals(arg):
    """The string literals an argument can evaluate to: those outside any
    parentheses, so `strcmp(s, "a") == 0 ? "b" : "c"` gives b and c."""
    out, depth, j = [], 0, 0
    while j < len(arg):
        c = arg[j]
        if c == '"':
            k = skip_quoted(arg, j)
            if depth == 0:
                out.append(arg[j + 1:k - 1])
            j = k
            continue
        depth += c == "("
        depth -= c == ")"
        j += 1
    return out


def code_uses():
    """(code, status or None, where) for every code literal passed."""
    uses = []
    for path in sorted((ROOT / "api").rglob("*.c")):
        src = blank_comments(path.read_text(encoding="utf-8"))
        for m in CALL_RE.finditer(src):
            args = arguments(src, m.end())
            si, ci = CALLS[m.group(1)]
            if len(args) <= ci:
                continue
            status = None
            if si is not None and re.fullmatch(r"\d{3}", args[si]):
                status = int(args[si])
            where = "%s:%d" % (path.relative_to(ROOT),
                               src.count("\n", 0, m.start()) + 1)
            for code in code_literals(args[ci]):
                uses.append((code, status, where))
    # nginx answers some problems itself (rate limits, body cap, danvan
    # unreachable), in each language.
    for status, lang, doc in nginx_problems():
        uses.append((doc["type"][len(PREFIX):], status,
                     "deploy/nginx/danvan.conf"))
    sqlstate = (ROOT / "api" / "db" / "sqlstate.c").read_text()
    for m in re.finditer(r'\{\s*"[0-9A-Z]{2,5}",\s*(\d{3}),\s*"([a-z_]+)"',
                         sqlstate):
        uses.append((m.group(2), int(m.group(1)), "api/db/sqlstate.c"))
    return uses


def field_code_uses():
    """(code, where) for every errors[] code literal passed."""
    uses = []
    for path in sorted((ROOT / "api").rglob("*.c")):
        src = blank_comments(path.read_text(encoding="utf-8"))
        for m in FIELD_CALL_RE.finditer(src):
            args = arguments(src, m.end())
            ci = FIELD_CALLS[m.group(1)]
            if len(args) <= ci:
                continue
            where = "%s:%d" % (path.relative_to(ROOT),
                               src.count("\n", 0, m.start()) + 1)
            for code in code_literals(args[ci]):
                uses.append((code, where))
    return uses


class FieldCodes(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.lines = danvan_codes("fields").splitlines()
        cls.codes = [line.split(" ", 1)[0] for line in cls.lines]

    def test_nginx_problems_say_what_danvan_says(self):
        # The same type has the same title wherever it is answered (RFC
        # 9457), in English and in Vietnamese.
        titles = {"en": {}, "vi": {}}
        for lang, args in (("en", ()), ("vi", ("vi",))):
            for line in danvan_codes(*args).splitlines():
                code, status, title = line.split(" ", 2)
                titles[lang][code] = (int(status), title)
        docs = nginx_problems()
        self.assertEqual(sorted({(s, lang) for s, lang, _ in docs}),
                         [(s, lang) for s in (403, 413, 429, 503)
                          for lang in ("en", "vi")])
        for status, lang, doc in docs:
            code = doc["type"][len(PREFIX):]
            self.assertEqual((doc["status"], doc["title"]),
                             titles[lang][code], (status, lang))
            self.assertEqual(doc["status"], status)
            self.assertEqual(doc["request_id"], "$danvan_request_id")

    def test_problem_examples_say_what_danvan_says(self):
        titles = {}
        for line in danvan_codes().splitlines():
            code, status, title = line.split(" ", 2)
            titles[code] = (int(status), title)
        wrong = []

        def walk(node, where):
            if isinstance(node, dict):
                t = node.get("type")
                if isinstance(t, str) and t.startswith(PREFIX) and \
                        "title" in node:
                    got = (node.get("status"), node["title"])
                    if titles.get(t[len(PREFIX):]) != got:
                        wrong.append((where, t, got))
                for k, v in node.items():
                    walk(v, where + "/" + str(k))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, where + "/" + str(i))
        walk(harness.openapi(), "")
        self.assertEqual(wrong, [], "problem examples whose status and "
                         "title are not their code's (`danvan codes`)")

    def test_list_is_well_formed(self):
        bad = [line for line in self.lines
               if not re.fullmatch(r"[a-z][a-z0-9_]* \S.*", line)]
        self.assertEqual(bad, [], "lines not `code meaning`")
        self.assertEqual(len(self.codes), len(set(self.codes)), "duplicates")

    def test_every_code_passed_is_listed(self):
        uses = field_code_uses()
        self.assertGreater(len(uses), 50, "the scanner found too few calls")
        missing = ["%s (%s)" % (c, w) for c, w in uses
                   if c not in self.codes]
        self.assertEqual(missing, [], "errors[] codes not in `danvan codes "
                         "fields` (add them to api/http/codes.c)")

    def test_every_listed_code_is_used(self):
        used = {c for c, _ in field_code_uses()}
        self.assertEqual(sorted(set(self.codes) - used), [],
                         "listed errors[] codes the server never answers")

    def test_openapi_field_error_code_enumerates_the_list(self):
        schema = harness.openapi()["components"]["schemas"]["FieldError"]
        enum = schema["properties"]["code"].get("enum")
        self.assertEqual(enum, self.codes, "FieldError.code is not the list "
                         "(python3 openapi/sweep.py writes it)")


class Codes(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.table = {}
        cls.bad_lines = []
        for line in danvan_codes().splitlines():
            m = re.fullmatch(r"([a-z][a-z0-9_]*) ([1-5]\d\d) (\S.*)", line)
            if not m:
                cls.bad_lines.append(line)
                continue
            cls.table.setdefault(m.group(1), []).append(int(m.group(2)))

    def test_list_is_well_formed(self):
        self.assertEqual(self.bad_lines, [], "lines not `code status title`")
        self.assertGreater(len(self.table), 20)
        dup = sorted(c for c, s in self.table.items() if len(s) > 1)
        self.assertEqual(dup, [], "codes listed twice")
        low = sorted(c for c, s in self.table.items() if s[0] < 400)
        self.assertEqual(low, [], "a problem code with a status below 400")

    def test_every_code_passed_is_listed(self):
        uses = code_uses()
        self.assertGreater(len(uses), 100, "the scanner found too few calls")
        missing, wrong = [], []
        for code, status, where in uses:
            # A status below 400 is a marker that a caller clears again
            # (import.c rolls a dry run back with one); it is never answered.
            if status is not None and status < 400:
                continue
            if code not in self.table:
                missing.append("%s (%s)" % (code, where))
            elif status is not None and status != self.table[code][0]:
                wrong.append("%s passed with %d, listed with %d (%s)"
                             % (code, status, self.table[code][0], where))
        self.assertEqual(missing, [], "codes not in `danvan codes` "
                         "(add them to api/http/codes.c and openapi.yaml)")
        self.assertEqual(wrong, [], "codes passed with another status")

    def test_every_listed_code_is_used(self):
        used = {code for code, status, _ in code_uses()
                if status is None or status >= 400}
        # auth_fail answers any other OAuth error as invalid_token.
        used.add("invalid_token")
        # The proxy in front answers some (its rate limit, an absent server).
        for conf in (ROOT / "deploy" / "nginx").glob("*.conf"):
            used |= set(re.findall(re.escape(PREFIX) + r"([a-z][a-z0-9_]*)",
                                   conf.read_text(encoding="utf-8")))
        unused = sorted(set(self.table) - used)
        self.assertEqual(unused, [], "listed codes the server never answers")

    def test_openapi_problem_type_enumerates_the_list(self):
        doc = harness.openapi()
        schema = doc["components"]["schemas"]["Problem"]["properties"]["type"]
        self.assertIn("enum", schema, "Problem.type has no enum")
        enum = schema["enum"]
        self.assertEqual(len(enum), len(set(enum)), "duplicates in the enum")
        documented = {t[len(PREFIX):] for t in enum if t.startswith(PREFIX)}
        self.assertEqual(len(documented), len(enum),
                         "enum values not of the form %s<code>" % PREFIX)
        self.assertEqual(sorted(documented - set(self.table)), [],
                         "in openapi.yaml but not in `danvan codes`")
        self.assertEqual(sorted(set(self.table) - documented), [],
                         "in `danvan codes` but not in openapi.yaml")

    def test_examples_use_listed_codes(self):
        text = (ROOT / "openapi" / "openapi.yaml").read_text(encoding="utf-8")
        named = set(re.findall(re.escape(PREFIX) + r"([a-z][a-z0-9_]*)", text))
        self.assertEqual(sorted(named - set(self.table)), [],
                         "openapi.yaml names problem types not in the list")


if __name__ == "__main__":
    harness.main(require=("DANVAN_BIN",))
