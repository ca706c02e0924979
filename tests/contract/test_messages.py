"""The Vietnamese message table (api/core/lang.c) against the sources: each
message id (the English format) is one that the C sources pass, so the
table holds no message that is no longer said, and no id is there twice.
Needs no database and no server."""

import re
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANG_C = ROOT / "api" / "core" / "lang.c"
LIT = r'"(?:[^"\\]|\\.)*"'
PAIR_RE = re.compile(r"\{\s*((?:%s\s*)+),\s*((?:%s\s*)+)\}" % (LIT, LIT))


def joined(lits):
    """Adjacent C string literals as the one string they make."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', lits))


def source_strings():
    """Every string the C sources write, adjacent literals joined."""
    token = re.compile(r"/\*.*?\*/|//[^\n]*|'(?:[^'\\]|\\.)*'|((?:%s\s*)+)"
                       % LIT, re.S)
    out = set()
    for f in (ROOT / "api").rglob("*.c"):
        if f != LANG_C:
            for m in token.finditer(f.read_text(encoding="utf-8")):
                if m.group(1):
                    out.add(joined(m.group(1)))
    return out


class TestMessages(unittest.TestCase):
    def test_every_id_is_said_by_the_code(self):
        ids = [joined(m.group(1)) for m in
               PAIR_RE.finditer(LANG_C.read_text(encoding="utf-8"))]
        self.assertGreater(len(ids), 50)
        said = source_strings()
        self.assertEqual([i for i in ids if i not in said], [],
                         "message ids no C source passes")
        self.assertEqual(len(ids), len(set(ids)), "an id is there twice")


if __name__ == "__main__":
    unittest.main(verbosity=2)
