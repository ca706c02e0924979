#!/usr/bin/env python3
"""Writes the bodies that the API tests received into openapi.yaml as the
examples of the operations' 2xx responses (JSON and CSV), in place, as text
edits that keep the document as written: record them, run it, review the
diff.

  DANVAN_RECORD_EXAMPLES=/tmp/examples tests/run.sh --quick -L api
  python3 openapi/examples.py /tmp/examples [--missing]

- a response that has an `example` or `examples` keeps it;
- a shared response (`$ref: '#/components/responses/...'`) gets its example
  on the component, from the first operation that uses it and was recorded;
- a body is trimmed (lists to 2 items, free-content objects to 2 members,
  long free text shortened, a CSV table to its header and 2 rows) and
  masked (access and refresh tokens, service keys: placeholders that keep
  their pattern), and must still match its schema;
- --missing lists the responses that no recording covers and changes
  nothing.

Recorded bodies are ids and timestamps of a test run: real traffic of the
server, not made up."""

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from sweep import DOC, METHODS, apply_edits, child, end_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "api"))
import harness  # noqa: E402

MEDIA = ("application/json", "text/csv")
ITEMS = 2
TEXT = 80  # free text longer than this is cut to it
FREE_DEPTH = 3  # free content deeper than this is left empty

PLACEHOLDER = "EXAMPLE"
JWT = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
KEY = re.compile(r"^(dv[rk]_)([A-Za-z0-9_-]+)$")
# A JWT's usual header ({"alg":"HS256","typ":"JWT"}) and a payload and
# signature that say what they are.
JWT_PLACEHOLDER = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
                   ".eyJleGFtcGxlIjp0cnVlfQ.EXAMPLE-SIGNATURE")


def fill(n):
    return (PLACEHOLDER + "x" * n)[:n]


def mask(value):
    """Tokens and keys as placeholders of the same shape."""
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        if JWT.match(value):
            return JWT_PLACEHOLDER
        m = KEY.match(value)
        if m:
            return m.group(1) + fill(len(m.group(2)))
    return value


def valid(instance, schema):
    return harness.schema_validator(schema).is_valid(instance)


def effective(instance, schema):
    """The schema that holds the instance: $refs followed, and of `anyOf`
    or `oneOf` the first branch that it matches."""
    schema = harness.resolve(schema)
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            if valid(instance, branch):
                return effective(instance, branch)
    return schema


def trim(value, schema, free=0):
    """A shorter value that schema still holds (free counts the levels of
    content without a schema)."""
    schema = effective(value, schema) if schema else {}
    props = schema.get("properties")
    if isinstance(value, list):
        if free >= FREE_DEPTH:
            return []
        keep = max(ITEMS, schema.get("minItems", 0))
        return [trim(v, schema.get("items"), free + (not schema))
                for v in value[:keep]]
    if isinstance(value, dict):
        if props is None:
            if free >= FREE_DEPTH:
                return {}
            more = schema.get("additionalProperties")
            more = more if isinstance(more, dict) else None
            return {k: trim(v, more, free + (more is None))
                    for k, v in list(value.items())[:ITEMS]}
        # Members the schema does not name are left out (where it closes
        # with allOf, all are kept).
        return {k: trim(v, props.get(k), free) for k, v in value.items()
                if k in props or "allOf" in schema}
    if isinstance(value, str) and len(value) > TEXT and not any(
            k in schema for k in ("pattern", "format", "enum", "const")):
        return value[:max(TEXT - 1, schema.get("minLength", 0))] + "…"
    return value


def csv_rows(text):
    """The rows of a CSV text, each with its line end (CRLF or LF outside
    quotes)."""
    rows, start, quoted = [], 0, False
    for i, c in enumerate(text):
        if c == '"':
            quoted = not quoted
        elif c == "\n" and not quoted:
            rows.append(text[start:i + 1])
            start = i + 1
    if start < len(text):
        rows.append(text[start:])
    return rows


def example_of(entry, schema):
    """The example made of one recorded entry, or None when trimmed and
    masked it would not match the schema."""
    body = mask(entry["body"])
    if entry["media"] == "text/csv":
        body = "".join(csv_rows(body)[:1 + ITEMS])
    else:
        body = trim(body, schema)
    return body if valid(body, schema) else None


def recorded(directory):
    """{(operationId, status, media): entry} of every DIR/*.json: of the
    same, the better ranked, else the first module's (by file name)."""
    best = {}
    for f in sorted(Path(directory).glob("*.json")):
        for e in json.loads(f.read_text(encoding="utf-8")):
            key = (e["operation"], e["status"], e["media"])
            if key not in best or e["rank"] > best[key]["rank"]:
                best[key] = e
    return best


class _Dumper(yaml.SafeDumper):
    """Block style as openapi.yaml writes it: multi-line text as a literal
    block, sequences under their key as the text around writes them."""

    indentless = False

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, indentless and self.indentless)


class _Indentless(_Dumper):
    indentless = True


def _str(dumper, s):
    style = "|" if "\n" in s and "\r" not in s and \
        not any(x != x.rstrip() for x in s.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


_Dumper.add_representer(str, _str)


def indentless(lines):
    """Whether more sequences of lines are written at the column of their
    key (`key:` then `- item`) than indented under it."""
    same = under = 0
    for above, line in zip(lines, lines[1:]):
        key = above.strip()
        if line.lstrip().startswith("- ") and key.endswith(":") and \
                not key.startswith("- "):
            col = len(line) - len(line.lstrip(" "))
            above_col = len(above) - len(above.lstrip(" "))
            same += col == above_col
            under += col == above_col + 2
    return same > under


def block(value, col, flat=False):
    """`example:` and the value, as YAML at column col (sequences at the
    column of their key when flat)."""
    text = yaml.dump({"example": value},
                     Dumper=_Indentless if flat else _Dumper,
                     allow_unicode=True, sort_keys=False,
                     default_flow_style=False, indent=2,
                     # A CSV table folded, as the document's own; text in
                     # objects on one line.
                     width=100 if isinstance(value, str) else 1 << 30)
    return "".join(" " * col + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


def targets(root):
    """[operationId, status, media, media node, its schema as data, the
    (operationId, status, media) of all that share it, the operation or
    shared response node it is in] for every 2xx JSON or CSV response, a
    shared one once (for its first operation), in document order."""
    data = harness.openapi()
    comps = child(child(root, "components"), "responses")
    seen = {}
    for path_key, item in child(root, "paths").value:
        for mkey, op in item.value:
            if mkey.value not in METHODS:
                continue
            opid = child(op, "operationId").value
            for skey, resp in child(op, "responses").value:
                if not skey.value.startswith("2"):
                    continue
                ref = child(resp, "$ref")
                if ref is not None:
                    resp = child(comps, ref.value.rsplit("/", 1)[1])
                for media in MEDIA:
                    node = child(child(resp, "content"), media)
                    if node is None:
                        continue
                    robj = harness.resolve(data["paths"][path_key.value]
                                           [mkey.value]["responses"]
                                           [skey.value])
                    schema = robj["content"][media].get("schema", {})
                    if id(node) in seen:
                        seen[id(node)][5].append((opid, skey.value, media))
                        continue
                    seen[id(node)] = [opid, skey.value, media, node, schema,
                                      [(opid, skey.value, media)],
                                      op if ref is None else resp]
    return list(seen.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="the directory of DANVAN_RECORD_EXAMPLES")
    ap.add_argument("--missing", action="store_true",
                    help="list the responses without example or recording")
    args = ap.parse_args()
    text = DOC.read_text(encoding="utf-8")
    root = yaml.compose(text)
    have = recorded(args.dir)
    edits, missing, refused = [], [], []
    lines = text.splitlines(keepends=True)
    for opid, status, media, node, schema, users, around in targets(root):
        if child(node, "example") is not None or \
                child(node, "examples") is not None:
            continue
        entry = next((have[u] for u in users if u in have), None)
        if entry is None:
            missing.append("%s %s %s" % (opid, status, media))
            continue
        example = example_of(entry, schema)
        if example is None:
            refused.append("%s %s %s (%s)" % (opid, status, media,
                                              entry["request"]))
            continue
        key = next(k for k, _ in node.value if k.value == "schema")
        edits.append((end_line(child(node, "schema")),
                      block(example, key.start_mark.column, indentless(
                          lines[around.start_mark.line:end_line(around)]))))
    for what, names in (("no recording", missing),
                        ("no longer matching once trimmed", refused)):
        if names:
            sys.stderr.write("%s:\n  %s\n" % (what, "\n  ".join(names)))
    if args.missing:
        return 1 if missing else 0
    out = apply_edits(lines, edits)
    if out != text:
        yaml.safe_load(out)  # still a document
        DOC.write_text(out, encoding="utf-8")
    print("examples: %d written, %d without recording, %d refused"
          % (len(edits), len(missing), len(refused)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
