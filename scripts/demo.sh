#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
#
# The README demo, run by `make demo`:
#   1. set up: tools venv on PATH, a symlink collection tree, a localhost inventory;
#   2. start the emulator (tests/emulator) in the background and wait for its endpoints file;
#   3. run tests/demo/playbook.yml against localhost with the endpoints as extra vars
#      (`endpoints` = the emulator's map of cloud name to URL, `endpoints_file` = its path); then the inventory
#      demo: `ansible-inventory --graph` of tests/demo/demo.instances.yml and tests/demo/inventory_play.yml on it
#      (DEMO_ENDPOINTS_FILE = the endpoints file);
#   4. print a summary; the emulator is always stopped on exit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

VENV=${VENV:-$REPO/.venv}
PLAYBOOK=tests/demo/playbook.yml
INVENTORY_DEMO=tests/demo/demo.instances.yml
INVENTORY_PLAY=tests/demo/inventory_play.yml
EMULATOR=tests/emulator/__main__.py
START_TIMEOUT=${DEMO_EMULATOR_TIMEOUT:-30}

# The emulator is on loopback; two cloud SDKs mishandle NO_PROXY for 127.0.0.1.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY no_proxy ALL_PROXY all_proxy

log() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

# --- set-up ----------------------------------------------------------------------
[ -x "$VENV/bin/ansible-playbook" ] || die "no venv with ansible-playbook at $VENV (run: make venv-demo)"
export PATH="$VENV/bin:$PATH"
PYTHON=$VENV/bin/python

TMP=$(mktemp -d "${TMPDIR:-/tmp}/multicloud-secgroup-demo.XXXXXX")
EMULATOR_PID=

cleanup() {
    local rc=$?
    if [ -n "$EMULATOR_PID" ] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        kill -TERM "$EMULATOR_PID" 2>/dev/null || true
        # give it up to 5 s to shut down cleanly, then force it
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$EMULATOR_PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
        log "emulator stopped"
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$TMP/collections/ansible_collections/multicloud"
ln -s "$REPO" "$TMP/collections/ansible_collections/multicloud/secgroup"
printf '%s\n' 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"' > "$TMP/inventory"
export ANSIBLE_COLLECTIONS_PATH=$TMP/collections
export ANSIBLE_LOCALHOST_WARNING=False
export ANSIBLE_RETRY_FILES_ENABLED=False
log "set up: $("$PYTHON" -c 'import ansible; print("ansible-core " + ansible.__version__)'), collection tree $ANSIBLE_COLLECTIONS_PATH"

shopt -s nullglob
providers=(plugins/modules/*_sg_binding.py)
shopt -u nullglob
if [ ${#providers[@]} -eq 0 ]; then
    log "no provider module yet (no plugins/modules/*_sg_binding.py); set-up works, nothing to demonstrate."
    exit 0
fi
log "provider modules: $(for p in "${providers[@]}"; do basename "$p" .py; done | tr '\n' ' ')"

# --- emulator --------------------------------------------------------------------
ENDPOINTS=$TMP/endpoints.json
if [ -f "$EMULATOR" ]; then
    "$PYTHON" tests/emulator --endpoints-file "$ENDPOINTS" > "$TMP/emulator.log" 2>&1 &
    EMULATOR_PID=$!
    waited=0
    until [ -s "$ENDPOINTS" ]; do
        if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
            cat "$TMP/emulator.log" >&2
            EMULATOR_PID=
            die "the emulator exited before writing $ENDPOINTS"
        fi
        if [ "$waited" -ge $((START_TIMEOUT * 10)) ]; then
            cat "$TMP/emulator.log" >&2
            die "the emulator did not write $ENDPOINTS within ${START_TIMEOUT}s"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    log "emulator running (pid $EMULATOR_PID): $(tr -d ' \n' < "$ENDPOINTS")"
else
    log "no emulator yet ($EMULATOR missing); the playbook gets no endpoints"
    printf '{}\n' > "$ENDPOINTS"
fi

# --- playbook --------------------------------------------------------------------
if [ ! -f "$PLAYBOOK" ]; then
    log "no $PLAYBOOK yet; set-up and emulator start/stop work, nothing more to run."
    exit 0
fi

"$PYTHON" - "$ENDPOINTS" "$TMP/extra-vars.json" <<'PY'
import json
import sys

with open(sys.argv[1]) as handle:
    endpoints = json.load(handle)
with open(sys.argv[2], 'w') as handle:
    json.dump({'endpoints': endpoints, 'endpoints_file': sys.argv[1]}, handle)
PY

started=$(date +%s)
rc=0
ansible-playbook -i "$TMP/inventory" -e "@$TMP/extra-vars.json" "$PLAYBOOK" "$@" || rc=$?
# The inventory demo (issue 24): the four clouds' instances as hosts grouped by security group, then a play on the
# role_web group that binds each cloud's ssh group with the sg_bindings role, no host variable written by hand.
if [ "$rc" -eq 0 ] && [ -f "$INVENTORY_DEMO" ] && [ -n "$EMULATOR_PID" ]; then
    export DEMO_ENDPOINTS_FILE=$ENDPOINTS
    log "inventory: ansible-inventory -i $INVENTORY_DEMO --graph"
    ansible-inventory -i "$INVENTORY_DEMO" --graph || rc=$?
    if [ "$rc" -eq 0 ]; then
        ansible-playbook -i "$INVENTORY_DEMO" "$INVENTORY_PLAY" "$@" || rc=$?
    fi
fi
elapsed=$(($(date +%s) - started))

echo
if [ -n "$EMULATOR_PID" ]; then
    "$PYTHON" - "$ENDPOINTS" <<'PY' || true
import collections
import json
import sys
import urllib.request

with open(sys.argv[1]) as handle:
    admin = json.load(handle).get('admin')
if admin:
    with urllib.request.urlopen(admin + '/requests', timeout=5) as resp:
        log = json.loads(resp.read().decode('utf-8')).get('requests', [])
    counts = collections.Counter(entry.get('provider') for entry in log)
    print('demo: emulator served %d API request(s): %s' % (
        len(log), ', '.join('%s=%d' % item for item in sorted(counts.items())) or 'none'))
PY
fi
if [ "$rc" -ne 0 ]; then
    log "summary: $PLAYBOOK FAILED (ansible-playbook rc=$rc) after ${elapsed}s"
    exit "$rc"
fi
if [ -n "$EMULATOR_PID" ] && [ -f "$INVENTORY_DEMO" ]; then
    log "summary: $PLAYBOOK and the inventory demo ($INVENTORY_DEMO, $INVENTORY_PLAY) passed in ${elapsed}s against the emulator"
else
    log "summary: $PLAYBOOK passed in ${elapsed}s against the emulator"
fi
