"""The query parameters of the contract against the code that reads them.
The server takes the parameters of each operation from the contract
compiled into it (api/http/query.c) and refuses any other; this test holds
the other direction: every filter an operation declares is read by the
file that defines its handler (operationId), so a documented filter is
never silently ignored. The parameters read for every route (fields,
limit, cursor, and q of a sublist, format of a table) are read by the
shared code in api/http/ and api/resources/reply.c, validate.c, export.c,
and filename of an upload by attachments.c.
Needs no database and no server."""

import re
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"fields", "limit", "cursor"}
SHARED_FILES = ("reply.c", "validate.c", "export.c", "attachments.c")


def operations():
    doc = yaml.load((ROOT / "openapi" / "openapi.yaml").read_text(),
                    Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    params = doc["components"].get("parameters", {})
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            names = set()
            for p in item.get("parameters", []) + op.get("parameters", []):
                if "$ref" in p:
                    p = params[p["$ref"].rsplit("/", 1)[1]]
                if p["in"] == "query":
                    names.add(p["name"])
            yield method.upper(), path, op["operationId"], names


def handler_files():
    """operationId -> the text of the file that defines it."""
    out = {}
    for f in (ROOT / "api" / "resources").glob("*.c"):
        text = f.read_text(encoding="utf-8")
        for m in re.finditer(r"^([a-z_]+)\(struct req \*r\)\n\{", text, re.M):
            out[m.group(1)] = text
    return out


class TestQueryParameters(unittest.TestCase):
    def test_declared_filters_are_read(self):
        files = handler_files()
        shared = "".join((ROOT / "api" / "resources" / f).read_text(
            encoding="utf-8") for f in SHARED_FILES)
        missing = []
        for method, path, op_id, names in operations():
            text = files.get(op_id)
            self.assertIsNotNone(text, "no handler %s for %s %s"
                                 % (op_id, method, path))
            for name in sorted(names - SHARED):
                if '"%s"' % name not in text and '"%s"' % name not in shared:
                    missing.append("%s %s: %s" % (method, path, name))
        self.assertEqual(missing, [], "declared but read by no code")


if __name__ == "__main__":
    unittest.main(verbosity=2)
