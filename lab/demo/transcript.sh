#!/usr/bin/env bash
# A short, real transcript of the demo cluster, taken from demo-client:
# what DNS answers, which MX took a mail, and that another primary serves it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ns=172.30.50.11
run() { printf '$ %s\n' "$*"; docker exec demo-client "$@" | sed 's/^/  /'; }

echo "=== what a sender sees (asked from demo-client, directly at ns1)"
run dig +short @"$ns" MX example.test
run dig +short @"$ns" A mail.example.test
run dig +short @"$ns" A mail.example.test
first=$(docker exec demo-client dig +short @"$ns" A mail.example.test | head -n 1)
other=$(docker exec demo-client dig +short @"$ns" A mail.example.test | grep -vx "$first" | head -n 1)
run dig +short @"$ns" -x "$first"

echo "=== a mail to alice@example.test through $first, read back through $other"
# (not docker cp: /tmp is a tmpfs in the container, which docker cp cannot see)
docker exec -i demo-client sh -c 'cat >/usr/local/share/clustered-mail-ca.crt' \
  <"$HERE/inventory/.clustered_mail_ca/ca.crt"
docker exec -i demo-client python3 - "$first" "$other" alice@example.test demo-password \
  /usr/local/share/clustered-mail-ca.crt <"$HERE/mailcheck.py"
