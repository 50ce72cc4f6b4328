#!/usr/bin/env bash
# Build greenfix's universal (py2.py3) wheel and install it, with its
# dependencies and both frameworks (the extras), into fresh Python 2.7 and Python 3.13 environments; then use
# it there: patch, resolve a name from a hosts file of our own, send.
# Called by .ci/run after the matrix.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { printf '[check-wheel] %s\n' "$*" >&2; }

py311="$PYENV_ROOT/versions/$(ls "$PYENV_ROOT/versions" | grep -E '^3\.11' | sort -V | tail -1)/bin/python"
"$py311" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$WORK/dist" .
wheel="$(ls "$WORK"/dist/greenfix-*.whl)"
log "built $(basename "$wheel")"
case "$(basename "$wheel")" in
    *-py2.py3-none-any.whl) ;;
    *) log "ERROR: not a universal wheel"; exit 1 ;;
esac

cat > "$WORK/use.py" <<'PY'
import sys
if sys.argv[3] == "gevent":
    from gevent import monkey
    monkey.patch_all()
else:
    import eventlet
    eventlet.monkey_patch()
import socket
import greenfix
assert not greenfix.__file__.startswith(sys.argv[1]), greenfix.__file__  # the installed copy
hosts = sys.argv[2]
# A name from our own hosts file and a resolver pointed at a closed loopback
# port: no packet leaves the machine.
greenfix.patch(hosts=hosts, nameservers=["127.0.0.1:9"], resolver="greendns")
receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.bind(("127.0.0.1", 0))
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sender.sendto(b"wheel", ("wheel-check.test", receiver.getsockname()[1]))
receiver.settimeout(5)
assert receiver.recv(10) == b"wheel"
print("greenfix %s from %s works on Python %s under %s" % (
    greenfix.__version__, greenfix.__file__, sys.version.split()[0], sys.argv[3]))
PY
printf '127.0.0.1 wheel-check.test\n' > "$WORK/hosts"

for version in 2.7 3.13; do
    base="$PYENV_ROOT/versions/$(ls "$PYENV_ROOT/versions" | grep -E "^${version//./\\.}\." | sort -V | tail -1)/bin/python"
    env="$WORK/env-$version"
    if [ "$version" = 2.7 ]; then
        # virtualenv < 20.22 is the last that makes Python 2.7 environments
        "$py311" -m venv "$WORK/virtualenv"
        "$WORK/virtualenv/bin/pip" install --quiet --disable-pip-version-check 'virtualenv<20.22'
        # embedded seed packages, no "periodic update" of the shared wheel
        # cache (see tox.ini: it once seeded a pip that broke 3.6 and 3.8)
        VIRTUALENV_PIP=embed VIRTUALENV_SETUPTOOLS=embed VIRTUALENV_WHEEL=embed \
            VIRTUALENV_NO_PERIODIC_UPDATE=1 \
            "$WORK/virtualenv/bin/virtualenv" --quiet -p "$base" "$env"
    else
        "$base" -m venv "$env"
    fi
    "$env/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel[eventlet,gevent]"
    for framework in eventlet gevent; do
        (cd "$WORK" && "$env/bin/python" -W ignore use.py "$ROOT" "$WORK/hosts" "$framework")
    done
done
log "OK"
