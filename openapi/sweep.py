#!/usr/bin/env python3
"""Applies the contract's sweeping rules to openapi.yaml, in place, as text
edits that keep the document as written (comments, order, quoting): run it
after adding operations or schemas, then review the diff.

  python3 openapi/sweep.py [--check] [--bin build/danvan]

- every operation documents 429 and 503 through the shared responses
  `TooManyRequests` and `ServiceUnavailable` (which carry `Retry-After`);
- every integer schema has a `format` (int32 when its bounds fit, else int64);
- the `items` of every page hold at most the largest `limit`;
- a response that `fields=` trims is `anyOf` its schema and `<Name>Fields`,
  the same members (by reference) with none required;
- Problem.type and FieldError.code enumerate `danvan codes` and
  `danvan codes fields` (the one list, api/http/codes.c): the code is the
  source, the contract is written from it, never the other way.

--check changes nothing and exits 1 when a rule would change the document
(tests/contract/test_openapi_rules.py runs it so)."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "openapi" / "openapi.yaml"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
SHARED = (("429", "TooManyRequests"), ("503", "ServiceUnavailable"))
PREFIX = "urn:danvan:problem:"
INT32 = (-2**31, 2**31 - 1)


def child(node, key):
    """The value node of key in a mapping node, or None."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def line_indent(lines, lineno):
    text = lines[lineno]
    return len(text) - len(text.lstrip(" "))


def end_line(node):
    """The line after the last line of a block node: that of its last
    scalar (a collection's own end mark is the next token's place)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) \
            and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    mark = node.end_mark
    return mark.line + (1 if mark.column > 0 else 0)


def shared_responses(root, lines, edits):
    for path_key, item in child(root, "paths").value:
        for mkey, op in item.value:
            if mkey.value not in METHODS:
                continue
            responses = child(op, "responses")
            if responses is None or responses.flow_style:
                continue
            have = {k.value for k, _ in responses.value}
            missing = [(s, n) for s, n in SHARED if s not in have]
            if not missing:
                continue
            col = responses.value[0][0].start_mark.column
            for status, name in missing:
                # Before the first status above it, else at the end.
                after = [k for k, _ in responses.value
                         if k.value.isdigit() and k.value > status]
                at = (after[0].start_mark.line if after
                      else end_line(responses))
                edits.append((at, "%s'%s':\n%s  $ref: '#/components/"
                              "responses/%s'\n"
                              % (" " * col, status, " " * col, name)))


def integer_formats(node, lines, edits):
    if isinstance(node, yaml.MappingNode):
        t = child(node, "type")
        types = []
        if isinstance(t, yaml.ScalarNode):
            types = [t.value]
        elif isinstance(t, yaml.SequenceNode):
            types = [x.value for x in t.value]
        if "integer" in types and child(node, "format") is None \
                and not node.flow_style:
            lo, hi = child(node, "minimum"), child(node, "maximum")
            fits = (lo is not None and hi is not None
                    and int(lo.value) >= INT32[0] and int(hi.value) <= INT32[1])
            key = node.value[0][0]
            col = key.start_mark.column
            edits.append((end_line(t) if t.end_mark.line > t.start_mark.line
                          else t.start_mark.line + 1,
                          "%sformat: %s\n" % (" " * col,
                                              "int32" if fits else "int64")))
        for _, v in node.value:
            integer_formats(v, lines, edits)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            integer_formats(v, lines, edits)


def page_limits(root, edits):
    """A page's `items` holds at most the largest `limit`."""
    comps = child(root, "components")
    limit = child(child(child(comps, "parameters"), "Limit"), "schema")
    top = child(limit, "maximum").value
    for name, schema in child(comps, "schemas").value:
        if not name.value.endswith("Page"):
            continue
        items = child(child(schema, "properties"), "items")
        if items is None or child(items, "maxItems") is not None \
                or items.flow_style:
            continue
        t = child(items, "type")
        col = items.value[0][0].start_mark.column
        edits.append((t.start_mark.line + 1,
                      "%smaxItems: %s\n" % (" " * col, top)))


def fields_targets(root):
    """The JSON schema nodes of the 200 responses of the operations that
    take `fields=`, which are a plain `$ref` still."""
    comps = child(root, "components")
    out = []
    for _, item in child(root, "paths").value:
        shared = child(item, "parameters")
        for mkey, op in item.value:
            if mkey.value not in METHODS:
                continue
            params = [p for n in (child(op, "parameters"), shared)
                      if n is not None for p in n.value]
            if not any(getattr(child(p, "$ref"), "value", "").endswith(
                    "/parameters/Fields") for p in params):
                continue
            resp = child(child(op, "responses"), "200")
            ref = child(resp, "$ref")
            if ref is not None:
                resp = child(child(comps, "responses"),
                             ref.value.rsplit("/", 1)[1])
            schema = child(child(child(resp, "content"), "application/json"),
                           "schema")
            if schema is not None and len(schema.value) == 1 and \
                    child(schema, "$ref") is not None:
                out.append(schema)
    return out


def fields_block(name, schema, data):
    """The text of the trimmed schema of schema `name` (and its item's, for a
    page), or {} when it has no properties to trim."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    ref = "'#/components/schemas/%s/properties/%s'"
    items = props.get("items", {})
    item_ref = items.get("items", {}).get("$ref", "")
    if "next_cursor" in props and item_ref:
        item = item_ref.rsplit("/", 1)[1]
        blocks = fields_block(item, data[item], data)
        text = ["    %sFields:\n" % name, "      type: object\n",
                "      description: A `%s` whose items `fields=` trimmed.\n"
                % name]
        if schema.get("required"):
            text.append("      required: [%s]\n"
                        % ", ".join(schema["required"]))
        text += ["      additionalProperties: false\n",
                 "      properties:\n"]
        for key in props:
            if key == "items":
                text += ["        items:\n", "          type: array\n"]
                if "maxItems" in items:
                    text.append("          maxItems: %d\n" % items["maxItems"])
                text += ["          items:\n",
                         "            $ref: '#/components/schemas/%sFields'\n"
                         % item]
            else:
                text += ["        %s:\n" % key,
                         "          $ref: %s\n" % (ref % (name, key))]
        blocks[name + "Fields"] = "".join(text)
        return blocks
    text = ["    %sFields:\n" % name, "      type: object\n",
            "      description: The members of `%s` that `fields=` names; "
            "none is required.\n" % name,
            "      additionalProperties: false\n", "      properties:\n"]
    for key in props:
        text += ["        %s:\n" % key,
                 "          $ref: %s\n" % (ref % (name, key))]
    return {name + "Fields": "".join(text)}


def trimmed_schemas(root, text, edits):
    """A response that `fields=` trims is `anyOf` the whole schema and its
    `<Name>Fields` schema: the same members, none required."""
    data = yaml.safe_load(text)["components"]["schemas"]
    schemas = child(child(root, "components"), "schemas")
    blocks = {}
    for node in fields_targets(root):
        ref = child(node, "$ref")
        name = ref.value.rsplit("/", 1)[1]
        made = fields_block(name, data[name], data)
        if not made:
            continue
        blocks.update(made)
        # The column of the `$ref` key, not of its value.
        col = node.value[0][0].start_mark.column
        edits.append((ref.start_mark.line,
                      "%sanyOf:\n%s  - $ref: '#/components/schemas/%s'\n"
                      "%s  - $ref: '#/components/schemas/%sFields'\n"
                      % (" " * col, " " * col, name, " " * col, name),
                      ref.start_mark.line + 1))
    # The trimmed schemas already written are rewritten when their schema
    # changed; the others go at the end of components/schemas.
    for key, value in schemas.value:
        if key.value.endswith("Fields") and key.value[:-6] in data:
            made = fields_block(key.value[:-6], data[key.value[:-6]], data)
            want = made.get(key.value)
            if want is None:
                continue
            start = key.start_mark.line
            if "".join(text.splitlines(keepends=True)[start:end_line(value)]) \
                    != want:
                edits.append((start, want, end_line(value)))
            blocks.pop(key.value, None)
    if blocks:
        edits.append((end_line(schemas),
                      "".join(blocks[k] for k in sorted(blocks))))


def danvan_lines(binary, *args):
    p = subprocess.run([binary, "codes", *args], capture_output=True,
                       text=True, check=True, stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items()
                            if not k.startswith("DANVAN_")})
    return [line.split(" ", 1)[0] for line in p.stdout.splitlines()]


def replace_enum(schema, values, lines, edits):
    """Writes values as the block `enum:` of a schema mapping node (after
    its `type`, or in place of the enum that is there)."""
    enum = child(schema, "enum")
    key = schema.value[0][0]
    col = key.start_mark.column
    text = "%senum:\n" % (" " * col) + "".join(
        "%s  - %s\n" % (" " * col, v if yaml.safe_load(v) == v.strip("'")
                         else "'%s'" % v) for v in values)
    if enum is not None:
        start = next(k for k, v in schema.value if v is enum).start_mark.line
        edits.append((start, text, end_line(enum)))
    else:
        edits.append((child(schema, "type").start_mark.line + 1, text))


def code_enums(root, lines, edits, binary):
    schemas = child(child(root, "components"), "schemas")
    problem = child(child(child(schemas, "Problem"), "properties"), "type")
    field = child(child(child(schemas, "FieldError"), "properties"), "code")
    want = {id(problem): ["'%s%s'" % (PREFIX, c)
                          for c in danvan_lines(binary)],
            id(field): danvan_lines(binary, "fields")}
    for schema in (problem, field):
        enum = child(schema, "enum")
        have = ([v.value if v.tag.endswith(":str") else None
                 for v in enum.value] if enum is not None else None)
        plain = [v.strip("'") for v in want[id(schema)]]
        if have != plain:
            replace_enum(schema, want[id(schema)], lines, edits)


def sweep(text, binary):
    """The document with every rule applied, and how many edits it took:
    passes until one changes nothing (a page given its maxItems changes
    the trimmed page written from it)."""
    total = 0
    for _ in range(5):
        text, n = sweep_once(text, binary)
        total += n
        if n == 0:
            break
    return text, total


def sweep_once(text, binary):
    root = yaml.compose(text)
    lines = text.splitlines(keepends=True)
    edits = []
    shared_responses(root, lines, edits)
    integer_formats(root, lines, edits)
    page_limits(root, edits)
    trimmed_schemas(root, text, edits)
    if binary:
        code_enums(root, lines, edits, binary)
    return apply_edits(lines, edits), len(edits)


def apply_edits(lines, edits):
    """The text of lines with each edit (at, new text[, stop]) made: the
    lines at:stop (none without stop) replaced by the new text."""
    # From the bottom up, so earlier line numbers hold.
    lines = list(lines)
    order = sorted(range(len(edits)), key=lambda i: (edits[i][0], i),
                   reverse=True)
    for e in (edits[i] for i in order):
        at, new = e[0], e[1]
        stop = e[2] if len(e) > 2 else at
        lines[at:stop] = [new]
    return "".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bin", default=str(ROOT / "build" / "danvan"),
                    help="the danvan binary whose `codes` lists are the source")
    args = ap.parse_args()
    text = DOC.read_text(encoding="utf-8")
    out, n = sweep(text, args.bin)
    if args.check:
        if out != text:
            sys.stderr.write("openapi.yaml breaks %d sweeping rule(s); run "
                             "python3 openapi/sweep.py and review the diff\n"
                             % n)
            return 1
        return 0
    if out != text:
        yaml.safe_load(out)  # still a document
        DOC.write_text(out, encoding="utf-8")
    print("sweep: %d edit(s)" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
