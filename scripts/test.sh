#!/usr/bin/env bash
# Run the whole greenfix test matrix (every env in tox.ini's env_list: Python
# 2.7, 3.6, 3.8, 3.11 with the oldest and the newest eventlet, 3.12, 3.13) in
# parallel. py37, py39 and py310 are defined but not in the default run.
#
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh -e py27-eventlet033  # extra args go to tox
#   bash scripts/test.sh -e py38 -- -k resolver -x   # after --: pytest args
#
# Environment:
#   GREENFIX_TOX_PARALLEL  tox -p value (default: auto = one env per core;
#                          0 = one env at a time with live output)
#   GREENFIX_PYTHON        interpreter used to bootstrap tox (default: 3.11)
#   GREENFIX_RERUN_FAILED  0 = no second try for failed tests (see tox.ini [greenfix])
#   GREENFIX_PROGRESS      set by this script in parallel mode (scripts/matrix_report.py)
#   CI, GREENFIX_*         passed through to the tests
#
# Bootstraps tox + virtualenv into .tox-bootstrap/ (virtualenv >= 20.22 cannot
# create Python 2.7 envs; tox >= 4.5.2 needs virtualenv >= 20.23), and puts
# the pyenv interpreters (~/.pyenv/versions/*) on PATH as python2.7, python3.6...
# Exits non-zero if any env fails or any interpreter is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BOOT="$ROOT/.tox-bootstrap"
VENV="$BOOT/venv"
PYBIN="$BOOT/pythons"
TOX_REQS=('tox>=4.5.1,<4.5.2' 'virtualenv>=20.21,<20.22')
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"

log() { printf '[test.sh] %s\n' "$*" >&2; }

# 1. versioned interpreter names (python2.7, python3.6, ...) from pyenv, without
#    shadowing `python`/`pip` (pyenv shims for versions that are not enabled fail).
rm -rf "$PYBIN"
mkdir -p "$PYBIN"
if [ -d "$PYENV_ROOT/versions" ]; then
    for exe in $(ls -d "$PYENV_ROOT"/versions/*/bin/python[23].[0-9]* 2>/dev/null | grep -E '/python[23]\.[0-9]+$' | sort -V); do
        ln -sf "$exe" "$PYBIN/$(basename "$exe")"   # sort -V: newest patch release wins
    done
fi
export PATH="$PYBIN:$PATH"

missing=()
for v in 2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
    if p="$(command -v "python$v")" && "$p" -c 'import sys' >/dev/null 2>&1; then
        log "python$v -> $(readlink -f "$p")"
    else
        missing+=("python$v")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    log "WARNING: interpreters not found: ${missing[*]} (their tox envs will fail)"
fi

# 2. tox in its own venv, rebuilt only when the requirements change
want="${TOX_REQS[*]}"
if ! "$VENV/bin/python" -c 'import tox, virtualenv' >/dev/null 2>&1 \
        || [ "$(cat "$BOOT/requirements.stamp" 2>/dev/null)" != "$want" ]; then
    boot_py="${GREENFIX_PYTHON:-}"
    if [ -z "$boot_py" ]; then
        for cand in python3.11 python3.12 python3.10 python3.13 python3.9 python3.8 python3; do
            if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys, venv; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then
                boot_py="$(command -v "$cand")"; break
            fi
        done
    fi
    [ -n "$boot_py" ] || { log "ERROR: need Python >= 3.7 with venv to bootstrap tox"; exit 1; }
    # the real interpreter, not a pyenv shim or a link in $PYBIN (rebuilt every run)
    boot_py="$("$boot_py" -c 'import os, sys; print(os.path.realpath(sys.executable))')"
    log "bootstrapping ${TOX_REQS[*]} into $VENV with $boot_py"
    rm -rf "$VENV"
    "$boot_py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${TOX_REQS[@]}"
    echo "$want" > "$BOOT/requirements.stamp"
fi
log "$("$VENV/bin/tox" --version | head -1); virtualenv $("$VENV/bin/python" -c 'import virtualenv; print(virtualenv.__version__)')"

# 3. the matrix. Every env (the .pkg build env too) is seeded with the pip,
#    setuptools and wheel embedded in virtualenv, not with whatever a periodic
#    update left in ~/.local/share/virtualenv (pip 26 there broke 3.6 and 3.8).
export VIRTUALENV_PIP=embed VIRTUALENV_SETUPTOOLS=embed VIRTUALENV_WHEEL=embed
export VIRTUALENV_NO_PERIODIC_UPDATE=1
result="$BOOT/result.json"
progress="$BOOT/progress.jsonl"
rm -f "$result" "$progress" "$progress.done"
parallel="${GREENFIX_TOX_PARALLEL:-auto}"
if [ "$parallel" = 0 ]; then
    set -- run --result-json "$result" "$@"
else
    set -- run-parallel -p "$parallel" --parallel-no-spinner --result-json "$result" "$@"
fi
log "tox $*"
rc=0
watcher=
if [ "$parallel" != 0 ]; then
    # tox -p shows nothing until every env is done: print each pytest run as
    # it ends (scripts/tox_pytest.py writes $GREENFIX_PROGRESS) and, once a
    # minute, the runs still going
    export GREENFIX_PROGRESS="$progress"
    "$VENV/bin/python" "$ROOT/scripts/matrix_report.py" watch "$progress" &
    watcher=$!
fi
"$VENV/bin/tox" "$@" || rc=$?
if [ -n "$watcher" ]; then
    touch "$progress.done"
    wait "$watcher" || true
fi

# 4. one row per pytest run (env, hub, pytest's closing line: the default
#    hub, then each hub subset), the tests that passed only when re-run, and
#    a total
if [ -s "$result" ]; then
    "$VENV/bin/python" "$ROOT/scripts/matrix_report.py" summary "$result" || true
fi
exit "$rc"
