#!/usr/bin/env bash
# Run the driver's unit tests and the end-to-end tests under valgrind's memcheck: any invalid read or write, use of
# uninitialised memory, or definite leak fails the run. Usage: scripts/valgrind.sh [test-name-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq valgrind; }

filter="${1:-}"
run() {
  local bin="$1"; shift
  echo "== valgrind $(basename "$bin") $*"
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-origins=yes --fair-sched=yes "$bin" --test-threads=2 "$@"
}

mapfile -t bins < <(cargo test -p asqlite -p asqlite-tests --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])')
for bin in "${bins[@]}"; do
  if [ -n "$filter" ]; then run "$bin" "$filter"; else run "$bin"; fi
done
echo "valgrind: no errors"
