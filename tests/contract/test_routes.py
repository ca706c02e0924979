"""The route table of the binary against openapi/openapi.yaml, whole: each
route is a documented operation, its handler is the operationId and its
permission the operation's x-permission, whose roles the description's table
gives as api/auth/perm.c does. Every list of values the server accepts
equals the enum of the contract that carries its name (x-vocabulary). And
the rules every operation of the contract follows. Needs no database."""

import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import harness  # noqa: E402

import jsonschema  # noqa: E402

METHODS = harness.HTTP_METHODS
PROBLEM_REF = "#/components/schemas/Problem"


def operations(doc):
    """(METHOD, path, operation, path item) for every operation."""
    for path, item in doc.get("paths", {}).items():
        item = harness.resolve(item, doc)
        for key, op in item.items():
            if key in METHODS:
                yield key.upper(), path, op, item


def danvan(command):
    """The standard output of `danvan COMMAND`, run without configuration."""
    p = subprocess.run([os.environ["DANVAN_BIN"], command],
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items()
                            if not k.startswith("DANVAN_")})
    if p.returncode != 0:
        raise AssertionError("danvan %s exited %d: %s"
                             % (command, p.returncode, p.stderr))
    return p.stdout


def route_table():
    return danvan("routes")


ROUTE_LINE = re.compile(r"^([A-Z]+)\t(/\S*)\t([a-z_][a-z0-9_]*)\t([a-z_]+)\t"
                        r"(\d+)$")


def routes():
    """{(METHOD, path): (handler, permission, body cap)} of `danvan routes`."""
    out = {}
    for line in route_table().splitlines():
        m = ROUTE_LINE.match(line)
        if m:
            out[(m.group(1), m.group(2))] = (m.group(3), m.group(4),
                                             int(m.group(5)))
    return out


def named_lists(command):
    """{name: [value, ...]} of `danvan enums` or `danvan permissions`."""
    out = {}
    for line in danvan(command).splitlines():
        name, _, values = line.partition("\t")
        out[name] = values.split(",") if values else []
    return out


def enum_nodes(node, where):
    """(where, schema) for every schema with `enum` or `const`, outside the
    conditions of `if` (which test a value, they do not accept one)."""
    if isinstance(node, dict):
        if "enum" in node or "const" in node:
            yield where, node
        for k, v in node.items():
            if k != "if":
                yield from enum_nodes(v, where + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from enum_nodes(v, where + "/" + str(i))


def request_enums(doc):
    """(where, schema) for every enum a request may send: in the parameters
    and request bodies of the operations, following $ref."""
    seen = set()

    def walk(node, where):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref not in seen:
                    seen.add(ref)
                    yield from walk(harness.resolve({"$ref": ref}, doc), ref)
            if "enum" in node or "const" in node:
                yield where, node
            for k, v in node.items():
                if k not in ("if", "$ref", "examples", "example"):
                    yield from walk(v, where + "/" + str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, where + "/" + str(i))

    for method, path, op, item in operations(doc):
        where = "%s %s" % (method, path)
        for i, prm in enumerate(list(item.get("parameters", [])) +
                                list(op.get("parameters", []))):
            yield from walk(prm, "%s parameter %d" % (where, i))
        yield from walk(op.get("requestBody", {}), where + " requestBody")


def uses_problem(schema, doc):
    """True when a schema is the Problem schema or extends it."""
    if not isinstance(schema, dict):
        return False
    if schema.get("$ref") == PROBLEM_REF:
        return True
    return any(uses_problem(s, doc) for s in schema.get("allOf", []))


class RouteTable(unittest.TestCase):

    def test_routes_match_openapi(self):
        out = route_table()
        served, bad, dup = set(), [], []
        for line in out.splitlines():
            if not line.strip():
                continue
            m = ROUTE_LINE.match(line)
            if not m:
                bad.append(line)
                continue
            key = (m.group(1), m.group(2))
            if key in served:
                dup.append(line)
            served.add(key)
        self.assertEqual(bad, [], "lines not `METHOD<TAB>PATH<TAB>HANDLER"
                         "<TAB>PERMISSION<TAB>BODY CAP`")
        self.assertEqual(dup, [], "duplicate routes")
        self.assertTrue(served, "danvan routes printed nothing")
        documented = {(method, path) for method, path, _, _ in
                      operations(harness.openapi())}
        only_served = sorted(served - documented)
        only_documented = sorted(documented - served)
        msg = []
        if only_served:
            msg.append("served but not in openapi.yaml:\n  " + "\n  ".join(
                "%s %s" % r for r in only_served))
        if only_documented:
            msg.append("in openapi.yaml but not served:\n  " + "\n  ".join(
                "%s %s" % r for r in only_documented))
        if msg:
            self.fail("\n".join(msg))

    def test_handler_is_the_operation_id(self):
        table = routes()
        problems = []
        for method, path, op, _ in operations(harness.openapi()):
            if (method, path) not in table:
                continue  # reported by test_routes_match_openapi
            handler = table[(method, path)][0]
            if op.get("operationId") != handler:
                problems.append("%s %s: handler %s, operationId %s"
                                % (method, path, handler,
                                   op.get("operationId")))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_permission_is_documented(self):
        table = routes()
        known = named_lists("permissions")
        problems = []
        for method, path, op, _ in operations(harness.openapi()):
            if (method, path) not in table:
                continue
            perm = table[(method, path)][1]
            if perm not in known:
                problems.append("%s %s: permission %s is not one of perm.c"
                                % (method, path, perm))
            if op.get("x-permission") != perm:
                problems.append("%s %s: the route needs %s, x-permission "
                                "says %s" % (method, path, perm,
                                             op.get("x-permission")))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_permission_table_gives_the_roles_of_perm_c(self):
        # The table of "Who may do what": | what | `permission` | ✓ per role |.
        text = harness.openapi()["info"]["description"]
        lines = [ln.strip() for ln in text.splitlines()
                 if ln.strip().startswith("|")]
        self.assertTrue(lines, "no permission table in info.description")
        head = [c.strip() for c in lines[0].strip("|").split("|")]
        roles = head[2:]
        granted = named_lists("permissions")
        self.assertEqual(set(roles), {r for rs in granted.values()
                                      for r in rs}, "the table's role columns")
        problems, rows = [], set()
        for line in lines[2:]:
            cells = [c.strip() for c in line.strip("|").split("|")]
            m = re.fullmatch(r"`([a-z_]+)`", cells[1])
            if not m or len(cells) != len(head):
                problems.append("malformed row: " + line)
                continue
            perm = m.group(1)
            rows.add(perm)
            ticked = {r for r, c in zip(roles, cells[2:]) if c == "✓"}
            if perm not in granted:
                problems.append("%s: no such permission in perm.c" % perm)
            elif ticked != set(granted[perm]):
                problems.append("%s (%s): the table ticks %s, perm.c allows "
                                "%s" % (perm, cells[0], sorted(ticked),
                                        sorted(granted[perm])))
        for perm in sorted({v[1] for v in routes().values()} - rows):
            problems.append("permission %s of a route is not in the table"
                            % perm)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_body_cap_matches_request_body(self):
        table = routes()
        problems = []
        for method, path, op, _ in operations(harness.openapi()):
            if (method, path) not in table:
                continue
            cap = table[(method, path)][2]
            if "requestBody" in op and cap == 0:
                problems.append("%s %s documents a body the route refuses "
                                "(cap 0)" % (method, path))
            if "requestBody" not in op and cap > 0 and method in ("GET",
                                                                  "DELETE"):
                problems.append("%s %s accepts a body of %d bytes that is "
                                "not documented" % (method, path, cap))
        self.assertEqual(problems, [], "\n".join(problems))


class Vocabularies(unittest.TestCase):
    """Each list of values the server accepts (api/resources/vocab.c, user
    roles in api/auth/perm.c) against the enums of the contract."""

    def setUp(self):
        self.doc = harness.openapi()
        self.lists = named_lists("enums")

    def test_server_prints_its_lists(self):
        self.assertIn("unit_kind", self.lists)
        for name, values in self.lists.items():
            self.assertRegex(name, r"^[a-z][a-z_]*$")
            self.assertTrue(values, name)
            self.assertEqual(len(values), len(set(values)),
                             "%s lists a value twice" % name)

    def test_every_enum_a_request_sends_names_its_list(self):
        problems = set()
        for where, schema in request_enums(self.doc):
            if "x-vocabulary" not in schema and \
                    "x-vocabulary-part" not in schema:
                problems.add("%s: enum %s names no x-vocabulary"
                             % (where, schema.get("enum",
                                                  [schema.get("const")])))
        self.assertEqual(sorted(problems), [], "\n".join(sorted(problems)))

    def test_every_named_enum_equals_the_servers_list(self):
        problems, named = [], set()
        for where, schema in enum_nodes(self.doc, "#"):
            values = schema.get("enum", [schema.get("const")])
            name = schema.get("x-vocabulary")
            part = schema.get("x-vocabulary-part")
            if part is not None:
                # One branch of a oneOf takes some values of a list (the
                # kinds of a submission, by what each needs).
                if not set(values) <= set(self.lists.get(part, ())):
                    problems.append("%s: %s is not part of %s"
                                    % (where, values, part))
                continue
            if name is None:
                continue  # written by the server only, or reported above
            named.add(name)
            if name not in self.lists:
                problems.append("%s: x-vocabulary %s is not a list of "
                                "`danvan enums`" % (where, name))
            elif set(values) != set(self.lists[name]) or \
                    len(values) != len(set(values)):
                problems.append("%s (%s): the contract says %s, the server "
                                "accepts %s" % (where, name, values,
                                                self.lists[name]))
        for name in sorted(set(self.lists) - named):
            problems.append("the server's list %s is in no enum of the "
                            "contract" % name)
        self.assertEqual(problems, [], "\n".join(problems))


class Contract(unittest.TestCase):

    def setUp(self):
        self.doc = harness.openapi()

    def test_openapi_version(self):
        self.assertRegex(str(self.doc.get("openapi")), r"^3\.1\.\d+$")

    def test_operation_ids_unique(self):
        seen, problems = {}, []
        for method, path, op, _ in operations(self.doc):
            oid = op.get("operationId")
            if not oid:
                problems.append("%s %s has no operationId" % (method, path))
            elif oid in seen:
                problems.append("operationId %s used by %s and %s %s"
                                % (oid, seen[oid], method, path))
            else:
                seen[oid] = "%s %s" % (method, path)
        self.assertEqual(problems, [])

    def test_errors_use_problem_schema(self):
        problems = []
        for method, path, op, _ in operations(self.doc):
            responses = op.get("responses") or {}
            if not responses:
                problems.append("%s %s documents no responses" % (method, path))
            for code, robj in responses.items():
                code = str(code)
                if not (code[0] in "45" or code == "default"):
                    continue
                where = "%s %s response %s" % (method, path, code)
                ref = robj.get("$ref")
                if ref is not None and \
                        not ref.startswith("#/components/responses/"):
                    problems.append("%s: $ref %s is not to "
                                    "components.responses" % (where, ref))
                content = harness.resolve(robj, self.doc).get("content") or {}
                if set(content) != {"application/problem+json"}:
                    problems.append("%s: content types %s, expected only "
                                    "application/problem+json"
                                    % (where, sorted(content)))
                    continue
                schema = content["application/problem+json"].get("schema")
                if not uses_problem(schema, self.doc):
                    problems.append("%s: schema is not %s" % (where,
                                                              PROBLEM_REF))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_path_parameters_declared(self):
        problems = []
        for method, path, op, item in operations(self.doc):
            in_template = set(re.findall(r"\{([^}/]+)\}", path))
            declared = {}
            for p in list(item.get("parameters", [])) + \
                    list(op.get("parameters", [])):
                p = harness.resolve(p, self.doc)
                if p.get("in") == "path":
                    declared[p.get("name")] = p
            where = "%s %s" % (method, path)
            for name in sorted(in_template - set(declared)):
                problems.append("%s: path parameter {%s} not declared"
                                % (where, name))
            for name in sorted(set(declared) - in_template):
                problems.append("%s: declares path parameter %s that is not "
                                "in the path" % (where, name))
            for name, p in declared.items():
                if p.get("required") is not True:
                    problems.append("%s: path parameter %s is not required"
                                    % (where, name))
                if "schema" not in p:
                    problems.append("%s: path parameter %s has no schema"
                                    % (where, name))
        self.assertEqual(problems, [], "\n".join(problems))

    def test_component_schemas_are_valid_json_schema(self):
        problems = []
        for name, schema in (self.doc.get("components", {})
                             .get("schemas", {}).items()):
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as e:
                problems.append("%s: %s" % (name, e.message))
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertIn("Problem", self.doc["components"]["schemas"])

    def test_local_refs_resolve(self):
        broken = []

        def walk(node, where):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    try:
                        harness.resolve({"$ref": ref}, self.doc)
                    except (KeyError, TypeError, AssertionError) as e:
                        broken.append("%s: %s (%s)" % (where, ref, e))
                for k, v in node.items():
                    walk(v, where + "/" + str(k))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, where + "/" + str(i))

        walk(self.doc, "#")
        self.assertEqual(broken, [], "\n".join(broken))


if __name__ == "__main__":
    harness.main(require=("DANVAN_BIN",))
