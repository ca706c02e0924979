#!/usr/bin/env python3
"""Embeds build inputs in the danvan binary as C arrays.

usage: embed.py OUT.c NAME=PATH ... [NAME=yaml2json:PATH ...] [migrations=DIR]
A yaml2json: input is converted to compact JSON first (the OpenAPI contract is kept
as YAML and served as JSON). An offline: input is the Redoc bundle, whose one asset
from outside (the menu footer's logo, from a CDN) is pointed at the server's own
/favicon.ico, so the docs page loads nothing from another host. migrations=DIR embeds DIR/NNNN_*.sql in order.
"""
import json
import os
import re
import sys

import yaml

# What the Redoc bundle would fetch from outside, and the local stand-in.
OFFLINE = {b"https://cdn.redoc.ly/redoc/logo-mini.svg": b"/favicon.ico"}


def c_bytes(data):
    out, line = [], []
    for i, b in enumerate(data):
        line.append(str(b))
        if len(line) == 32:
            out.append(",".join(line))
            line = []
    if line:
        out.append(",".join(line))
    return ",\n".join(out) + ("," if out else "") + "0"


def main():
    out_path, specs = sys.argv[1], sys.argv[2:]
    parts = ['#include <stddef.h>', '#include "core/core.h"', ""]
    for spec in specs:
        name, path = spec.split("=", 1)
        if name == "migrations":
            files = sorted(f for f in os.listdir(path) if re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", f))
            rows = []
            for i, f in enumerate(files):
                if int(f[:4]) != i + 1:
                    sys.exit(f"embed.py: migrations must be numbered 0001.. without gaps: {f}")
                with open(os.path.join(path, f), "rb") as fh:
                    data = fh.read()
                parts.append(f"static const unsigned char mig_{i}[] = {{\n{c_bytes(data)}}};")
                rows.append(f'\t{{"{f[:-4]}", mig_{i}, {len(data)}}},')
            parts.append("const struct asset migrations[] = {\n" + "\n".join(rows) + "\n\t{NULL, NULL, 0}\n};")
            parts.append(f"const size_t migrations_count = {len(files)};")
            continue
        convert = path.startswith("yaml2json:")
        if convert:
            path = path[len("yaml2json:"):]
        offline = path.startswith("offline:")
        if offline:
            path = path[len("offline:"):]
        with open(path, "rb") as fh:
            data = fh.read()
        if offline:
            for url, local in OFFLINE.items():
                data = data.replace(url, local)
            left = re.findall(rb'src:"https?://[^"]*"|https://cdn\.[^"\s]*', data)
            if left:
                sys.exit(f"embed.py: {path} would load from outside: {left[0].decode()}")
        if convert:
            data = json.dumps(yaml.safe_load(data), ensure_ascii=False,
                              separators=(",", ":"), default=str).encode()
        parts.append(f"static const unsigned char {name}_data[] = {{\n{c_bytes(data)}}};")
        parts.append(f'const struct asset {name} = {{"{os.path.basename(path)}", {name}_data, {len(data)}}};')
    with open(out_path + ".tmp", "w") as fh:
        fh.write("\n".join(parts) + "\n")
    os.replace(out_path + ".tmp", out_path)


if __name__ == "__main__":
    main()
