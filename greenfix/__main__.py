"""``python -m greenfix``: see :mod:`greenfix.cli`."""

import sys

from greenfix.cli import main

sys.exit(main())
