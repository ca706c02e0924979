"""Every 2xx response of openapi/openapi.yaml with a JSON or CSV body has an
example (openapi/examples.py writes them from the bodies the API tests
received), and every example of a response matches its schema, by the
validator that checks the server's answers in the API tests. Needs no
database."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import harness  # noqa: E402

MEDIA = ("application/json", "text/csv")


def responses(doc):
    """(where, status, response) for every response of every operation,
    shared ones resolved."""
    for path, item in doc["paths"].items():
        for method, op in harness.resolve(item, doc).items():
            if method in harness.HTTP_METHODS:
                for status, resp in op["responses"].items():
                    yield ("%s %s" % (method.upper(), path), status,
                           harness.resolve(resp, doc))


def examples(mobj):
    """(name, value) of the example or the examples of a media type."""
    if "example" in mobj:
        yield "example", mobj["example"]
    for name, ex in (mobj.get("examples") or {}).items():
        yield "examples/" + name, harness.resolve(ex).get("value")


class Examples(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.doc = harness.openapi()

    def test_every_success_body_has_an_example(self):
        bad = []
        for where, status, resp in responses(self.doc):
            for media, mobj in (resp.get("content") or {}).items():
                if status.startswith("2") and media in MEDIA and \
                        not any(examples(mobj)):
                    bad.append("%s %s %s" % (where, status, media))
        self.assertEqual(bad, [], "record the API tests' bodies and run "
                         "python3 openapi/examples.py (see its header)")

    def test_examples_match_their_schema(self):
        bad, seen = [], 0
        for where, status, resp in responses(self.doc):
            for media, mobj in (resp.get("content") or {}).items():
                for name, value in examples(mobj):
                    seen += 1
                    try:
                        harness.validate_schema(
                            value, mobj.get("schema", {}), "%s of %s %s %s"
                            % (name, where, status, media))
                    except AssertionError as e:
                        bad.append(str(e))
        self.assertGreater(seen, 0)
        self.assertEqual(bad, [], "\n".join(bad))


if __name__ == "__main__":
    harness.main(require=())
