# Sourced by lab scripts: the pinned venv on PATH, and this checkout visible
# to Ansible as the collection clustered.mail (build/collections links here).
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH="$ROOT/.venv/bin:$PATH"
mkdir -p "$ROOT/build/collections/ansible_collections/clustered"
ln -sfn "$ROOT" "$ROOT/build/collections/ansible_collections/clustered/mail"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
export ANSIBLE_ROLES_PATH="$ROOT/roles"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1
# Every host of a tier converges at once (the demo has 9 hosts; forks beyond
# the host count cost nothing).
export ANSIBLE_FORKS=${ANSIBLE_FORKS:-25}
# Pipelining sends each module on the connection's stdin instead of copying it
# to a temporary file first: a no-change rerun of example shape 5 took 182 s
# instead of 222 s (community.docker.docker; over SSH it saves more).
export ANSIBLE_PIPELINING=${ANSIBLE_PIPELINING:-True}
