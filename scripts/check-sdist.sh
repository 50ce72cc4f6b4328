#!/usr/bin/env bash
# Build greenfix's sdist, unpack it in a temporary directory and run its own
# tests there, through its own tox.ini, in Python 3.13 and 2.7 (a
# representative subset, a few minutes); then check that `pip install .` of
# the unpacked tree goes through the PEP 517 build (pyproject.toml), without
# pip's legacy `setup.py install`, on both.  Called by .ci/run after the
# matrix; uses the tox that scripts/test.sh bootstraps (.tox-bootstrap/).
#
#   bash scripts/check-sdist.sh               # the default subset
#   bash scripts/check-sdist.sh tests/test_x.py   # other tests
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
TOX="$ROOT/.tox-bootstrap/venv/bin/tox"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { printf '[check-sdist] %s\n' "$*" >&2; }
[ -x "$TOX" ] || { log "ERROR: run scripts/test.sh once first (it bootstraps $TOX)"; exit 1; }
if [ $# -eq 0 ]; then
    set -- tests/test_options.py tests/test_packaging.py tests/test_patching.py \
        tests/test_netns.py tests/test_demo.py
fi

# 1. the sdist, built as pip would build it (PEP 517, isolated)
"$ROOT/.tox-bootstrap/venv/bin/python" -m venv "$WORK/build-env"
"$WORK/build-env/bin/pip" install --quiet --disable-pip-version-check 'build>=1,<2'
"$WORK/build-env/bin/python" -m build --sdist --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log"; exit 1; }
sdist="$(ls "$WORK"/dist/greenfix-*.tar.gz)"
log "built $(basename "$sdist")"
tar -tzf "$sdist" | sed 's|^greenfix-[^/]*/||' >"$WORK/contents"
for wanted in pyproject.toml setup.py MANIFEST.in tox.ini pytest.ini tests/conftest.py \
        tests/dnsserver.py tests/netns.py tests/parity_child.py tests/fidelity_child.py \
        docs/usage.rst docs/conf.py benchmarks/run.py scripts/tox_pytest.py scripts/test.sh; do
    grep -qxF "$wanted" "$WORK/contents" || { log "ERROR: $wanted is not in the sdist"; exit 1; }
done
if grep -E '\.pyc$|__pycache__|^\.tox|\.hypothesis' "$WORK/contents"; then
    log "ERROR: build debris in the sdist"; exit 1
fi

# 2. its own tests, from the unpacked tree (tox builds and installs the
#    package from there; the tests import that installed copy)
tar -xzf "$sdist" -C "$WORK"
src="$(ls -d "$WORK"/greenfix-*/)"
mkdir -p "$WORK/pythons"
for version in 2.7 3.13; do
    base="$PYENV_ROOT/versions/$(ls "$PYENV_ROOT/versions" | grep -E "^${version//./\\.}\." | sort -V | tail -1)"
    ln -s "$base/bin/python$version" "$WORK/pythons/python$version"
done
export PATH="$WORK/pythons:$PATH"
export VIRTUALENV_PIP=embed VIRTUALENV_SETUPTOOLS=embed VIRTUALENV_WHEEL=embed
export VIRTUALENV_NO_PERIODIC_UPDATE=1
log "tox -e py313,py27-eventlet033 in $src -- $*"
(cd "$src" && "$TOX" run -q -c tox.ini --workdir "$WORK/tox" -e py313,py27-eventlet033 -- "$@" -q)

# 3. `pip install .` of the unpacked tree: a PEP 517 build, no legacy install
for env in py313 py27-eventlet033; do
    out="$WORK/pip-$env.log"
    (cd "$src" && "$WORK/tox/$env/bin/python" -m pip install --no-deps --force-reinstall \
        --disable-pip-version-check . >"$out" 2>&1) || { cat "$out"; exit 1; }
    if grep -Ei "legacy|setup\.py install|\(setup\.py\)" "$out"; then
        log "ERROR: $env: pip fell back to setup.py"; exit 1
    fi
    log "$env: $(grep -E '^Successfully installed' "$out")"
done
log "OK"
