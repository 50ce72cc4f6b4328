#!/usr/bin/env bash
# The main job: install greenfix into its own virtual environment and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for candidate in "$HOME/.pyenv/versions/3.11.7/bin/python" python3; do
        if command -v "$candidate" >/dev/null 2>&1; then PY=$candidate; break; fi
    done
fi
VENV=.venv-demo
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check ".[eventlet,gevent]" >/dev/null
exec "$VENV/bin/python" -W ignore -m greenfix demo "$@"
