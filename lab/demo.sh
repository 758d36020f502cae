#!/usr/bin/env bash
# `make demo` / `make lab-down`: a whole cluster in local containers.
#   lab/demo.sh up    create (or reuse) the lab, run clustered.mail.site, then clustered.mail.verify
#   lab/demo.sh down  remove the lab's containers, network and volume
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
INV="$ROOT/lab/demo/inventory"

case "${1:-up}" in
  up)
    "$ROOT/lab/setup" all
    . "$ROOT/lab/env.sh"
    echo "=== lab: containers (reused when they already run)"
    ansible-playbook -i "$INV" lab/demo/up.yml
    echo "=== ansible-playbook -i lab/demo/inventory clustered.mail.site"
    ansible-playbook -i "$INV" clustered.mail.site
    echo "=== ansible-playbook -i lab/demo/inventory clustered.mail.verify"
    ansible-playbook -i "$INV" clustered.mail.verify
    "$ROOT/lab/demo/transcript.sh"
    cat "$ROOT/lab/demo/USAGE.txt"
    ;;
  down)
    "$ROOT/lab/setup" venv
    . "$ROOT/lab/env.sh"
    "$ROOT/lab/setup" engine
    ansible-playbook -i "$INV" lab/demo/down.yml
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
