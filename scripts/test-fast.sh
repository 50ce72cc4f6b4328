#!/usr/bin/env bash
# Fast dev loop: only the py311-eventletnewest env (Python 3.11, newest eventlet
# and dnspython), one env with live output. Arguments go to pytest:
#   bash scripts/test-fast.sh                 # suite + hub subsets, without the `slow` tests
#   GREENFIX_SLOW=1 bash scripts/test-fast.sh # with them (as scripts/test.sh runs every env)
#   bash scripts/test-fast.sh -x -k resolver  # pytest args (replace the default `tests`)
#   bash scripts/test-fast.sh tests/test_foo.py
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -gt 0 ]; then
    set -- -- "$@"
elif [ "${GREENFIX_SLOW:-0}" != 1 ]; then
    printf '[test-fast.sh] %s\n' 'tests marked slow left out (GREENFIX_SLOW=1, or any pytest argument, runs them)' >&2
    set -- -- tests -m "not slow"
fi
GREENFIX_TOX_PARALLEL=0 exec bash "$here/test.sh" -e py311-eventletnewest "$@"
