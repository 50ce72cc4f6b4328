#!/usr/bin/env bash
# Fast dev loop: only the py311-eventletnewest env (Python 3.11, newest eventlet
# and dnspython), one env with live output. Arguments go to pytest:
#   bash scripts/test-fast.sh                 # whole suite + hub subsets
#   bash scripts/test-fast.sh -x -k resolver  # pytest args (replace the default `tests`)
#   bash scripts/test-fast.sh tests/test_foo.py
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -gt 0 ]; then
    set -- -- "$@"
fi
GREENFIX_TOX_PARALLEL=0 exec bash "$here/test.sh" -e py311-eventletnewest "$@"
