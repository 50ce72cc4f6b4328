"""Which greenfix functions a call runs (``sys.setprofile``): how the
hot-path tests tell a call the inline ``sendto`` served from one that went
to the slow path, under eventlet (tests/test_cache.py) and gevent
(tests/gevent_cache_child.py).

``greenfix_functions_run(call)`` -> sorted list of "file.py:function"
    the greenfix functions ``call()`` ran, other than the hot ``sendto``
    itself: empty when the hot path served every call.
"""

from __future__ import absolute_import

import os
import sys


def greenfix_functions_run(call):
    """See the module docstring."""
    seen = set()

    def profile(frame, event, arg):
        code = frame.f_code
        if event == "call" and "greenfix" in code.co_filename.replace("\\", "/") \
                and "/tests/" not in code.co_filename and code.co_name != "sendto":
            seen.add("%s:%s" % (os.path.basename(code.co_filename), code.co_name))
    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return sorted(seen)
