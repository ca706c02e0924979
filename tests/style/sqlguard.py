#!/usr/bin/env python3
"""Wraps the SQL string blocks of C files in clang-format off/on markers.

clang-format 14 re-breaks a run of string literals that has a macro in it
(" u ".id, UNIT_JSON("u")), whatever the options, so the blocks that hold SQL
text are kept as written:

  - `[static] const char name[] = "..." MACRO(...) "...";` statements whose
    initialiser is string literals and macros (not a `{` table), and
  - `#define`s whose body holds a string literal (the ..._JSON(...),
    VISIBLE(...), KEY(...) macros), continuation lines included.

Consecutive such items, with only blank lines and comments between them,
form one region. A region is wrapped, `/* clang-format off */` on the line
before and `/* clang-format on */` on the line after, at the indentation of
its first line, when it has an item spanning several lines or a constant
with a macro in it; a lone one-line `#define NAME "text"` or
`static const char hex[] = "...";` is left to the formatter (it does not
touch those). Lines already between markers are left alone, so running it
again changes nothing.

usage: tests/style/sqlguard.py [--check] FILE...
  --check  change nothing; list the regions that would be wrapped and exit 1
           if there is any
"""
import re
import sys

CHAR_ARRAY = re.compile(
    r"^\s*(?:static\s+)?(?:const\s+)?char\s+\w+\s*\[\w*\]\s*=\s*(.*)$")
DEFINE = re.compile(r"^\s*#\s*define\s+\w+")
OFF = re.compile(r"^\s*/\*\s*clang-format off\s*\*/\s*$")
ON = re.compile(r"^\s*/\*\s*clang-format on\s*\*/\s*$")


def code_of(line, in_comment):
    """The line with comments and the contents of string and character
    literals removed (quotes kept); and whether a block comment is still
    open at its end."""
    out = []
    i, n = 0, len(line)
    while i < n:
        if in_comment:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out), True
            i = j + 2
            in_comment = False
            out.append(" ")
        elif line.startswith("/*", i):
            in_comment = True
            i += 2
        elif line.startswith("//", i):
            break
        elif line[i] in "\"'":
            q = line[i]
            j = i + 1
            while j < n and line[j] != q:
                j += 2 if line[j] == "\\" else 1
            out.append(q + q)
            i = j + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_comment


def items(lines):
    """Yields (kind, first, last, wanted) for each candidate item, and
    ('other', i, i, False) for each line that breaks a run. kind is 'item'
    or 'gap' (blank or comment only: may sit inside a region)."""
    i, n = 0, len(lines)
    in_comment = False
    while i < n:
        line = lines[i]
        if OFF.match(line):
            # Already wrapped: skip to the matching marker.
            j = i
            while j < n and not ON.match(lines[j]):
                j += 1
            yield ("other", i, min(j, n - 1), False)
            i = j + 1
            continue
        code, still = code_of(line, in_comment)
        if in_comment or not code.strip():
            in_comment = still
            yield ("gap", i, i, False)
            i += 1
            continue
        m = CHAR_ARRAY.match(code)
        if m and re.match(r'\s*("|[A-Z_][A-Z0-9_]*\b)|\s*$', m.group(1)):
            # Up to the line whose code ends the statement.
            j, body, c, last = i, code, still, code
            while ";" not in last and j + 1 < n:
                j += 1
                last, c = code_of(lines[j], c)
                body += "\n" + last
            init = body.split("=", 1)[1]
            macro = re.search(r"\b[A-Z_][A-Z0-9_]*\b", init) is not None
            if '"' in init:
                in_comment = c
                yield ("item", i, j, j > i or macro)
                i = j + 1
                continue
        if DEFINE.match(code):
            j, body = i, code
            while lines[j].rstrip().endswith("\\") and j + 1 < n:
                j += 1
                body += "\n" + code_of(lines[j], False)[0]
            if '"' in body:
                in_comment = False
                yield ("item", i, j, j > i)
                i = j + 1
                continue
            yield ("other", i, j, False)
            in_comment = False
            i = j + 1
            continue
        in_comment = still
        yield ("other", i, i, False)
        i += 1


def regions(lines):
    """(first, last) line index of each region to wrap."""
    out = []
    run = None  # [first, last, wanted]
    for kind, first, last, wanted in items(lines):
        if kind == "item":
            if run is None:
                run = [first, last, wanted]
            else:
                run[1], run[2] = last, run[2] or wanted
        elif kind == "other":
            if run is not None and run[2]:
                out.append((run[0], run[1]))
            run = None
    if run is not None and run[2]:
        out.append((run[0], run[1]))
    return out


def main(argv):
    args = argv[1:]
    check = "--check" in args
    files = [a for a in args if a != "--check"]
    if not files or any(a.startswith("-") for a in files):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    total = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        found = regions(lines)
        total += len(found)
        for first, last in found:
            if check:
                print(f"{path}:{first + 1}-{last + 1}: SQL block without clang-format off/on")
        if check or not found:
            continue
        for first, last in reversed(found):
            indent = re.match(r"^[ \t]*", lines[first]).group(0)
            lines.insert(last + 1, indent + "/* clang-format on */")
            lines.insert(first, indent + "/* clang-format off */")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"{path}: {len(found)} region(s) wrapped")
    if check:
        return 1 if total else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
