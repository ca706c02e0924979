"""The rules every operation of openapi/openapi.yaml keeps, so that a new
operation that breaks one fails here: 429 and 503 through the shared
responses (with Retry-After), integers with a format, response arrays with
maxItems (or named in openapi/.spectral.yaml as unbounded), free-content
objects that say so, and nothing that openapi/sweep.py would still change
(it writes the code enums from `danvan codes`). Needs no database."""

import subprocess
import sys
import unittest
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "patch", "delete")


def operations(doc):
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                yield "%s %s" % (m.upper(), path), item[m]


def schemas_of(node, path=""):
    """(json pointer, schema) for every schema-like mapping under node."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from schemas_of(v, "%s/%s" % (path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from schemas_of(v, "%s/%d" % (path, i))


def types(schema):
    t = schema.get("type")
    return t if isinstance(t, list) else [t]


class Rules(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.doc = harness.openapi()

    def test_every_operation_documents_429_and_503(self):
        bad = []
        for where, op in operations(self.doc):
            for status, name in (("429", "TooManyRequests"),
                                 ("503", "ServiceUnavailable")):
                ref = op["responses"].get(status, {}).get("$ref")
                if ref != "#/components/responses/" + name:
                    bad.append("%s %s" % (where, status))
        self.assertEqual(bad, [], "run python3 openapi/sweep.py")
        for name in ("TooManyRequests", "ServiceUnavailable"):
            headers = self.doc["components"]["responses"][name]["headers"]
            self.assertIn("Retry-After", headers, name)
            self.assertTrue(harness.resolve(headers["Retry-After"])
                            ["required"], name)

    def test_integers_carry_a_format(self):
        bad = [p for p, s in schemas_of(self.doc)
               if "integer" in types(s) and s.get("format")
               not in ("int32", "int64")]
        self.assertEqual(bad, [], "run python3 openapi/sweep.py")

    def test_response_arrays_carry_max_items(self):
        spectral = yaml.safe_load(
            (ROOT / "openapi" / ".spectral.yaml").read_text())
        unbounded = {f.split("#", 1)[1]
                     for o in spectral.get("overrides", [])
                     # YAML 1.1 reads `off` as false.
                     if o.get("rules", {}).get("owasp:api4:2023-array-limit")
                     in ("off", False) for f in o["files"]}
        bad = [p for p, s in schemas_of(self.doc["components"]["schemas"],
                                         "/components/schemas")
               if "array" in types(s) and "maxItems" not in s
               and not any(p == u or p.startswith(u + "/")
                           for u in unbounded)]
        self.assertEqual(bad, [], "arrays without maxItems (a page's: run "
                         "python3 openapi/sweep.py)")

    def test_free_content_objects_say_so(self):
        bad = []
        for p, s in schemas_of(self.doc):
            props = s.get("properties")
            if not isinstance(props, dict):
                continue
            for name in ("data", "changes", "before", "after"):
                sub = props.get(name)
                if isinstance(sub, dict) and "object" in types(sub) \
                        and "properties" not in sub \
                        and "additionalProperties" not in sub:
                    bad.append("%s/properties/%s" % (p, name))
        self.assertEqual(bad, [], "say additionalProperties: true or give "
                         "a schema")

    def test_submission_kinds_are_the_vocabulary(self):
        schemas = self.doc["components"]["schemas"]
        create = schemas["SubmissionCreate"]
        mapping = create["discriminator"]["mapping"]
        self.assertEqual(sorted(mapping),
                         sorted(schemas["SubmissionKind"]["enum"]))
        for kind, ref in mapping.items():
            variant = harness.resolve({"$ref": ref})
            self.assertIn({"$ref": ref}, create["oneOf"], kind)
            self.assertIn(kind, variant["properties"]["kind"]["enum"], kind)

    def test_sweep_changes_nothing(self):
        p = subprocess.run(
            [sys.executable, str(ROOT / "openapi" / "sweep.py"), "--check",
             "--bin", harness.os.environ["DANVAN_BIN"]],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    harness.main(require=("DANVAN_BIN",))
