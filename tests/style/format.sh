#!/usr/bin/env bash
# The formatting pass, mechanical and safe to rerun: wraps the SQL string
# blocks of api/ in clang-format off/on markers (tests/style/sqlguard.py),
# then formats the C sources of api/, tests/unit/ and tests/fuzz/ in place with the
# repository's .clang-format. Afterwards tests/style/checkformat.sh passes.
# CLANG_FORMAT names another binary (the options are tuned for version 14).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cf=${CLANG_FORMAT:-clang-format}
mapfile -t api < <(find api -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
mapfile -t unit < <(find tests/unit tests/fuzz -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
python3 tests/style/sqlguard.py "${api[@]}"
"$cf" --style=file -i "${api[@]}" "${unit[@]}"
