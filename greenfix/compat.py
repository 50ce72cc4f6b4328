"""Every difference between Python 2 and Python 3 that greenfix spells
differently, in one place (as gevent keeps them in ``gevent._compat``).

What CPython 2 *does* differently with an address (its host parsing, its
dotted-quad scanner) stays with the code that mirrors it (``address.py``),
which asks :data:`PY2`; only spellings live here.
"""

from __future__ import absolute_import

import sys
import time

PY2 = sys.version_info[0] == 2

#: The clock of the cache, the pool and the stub resolver: monotonic on
#: Python 3.  Python 2 has none in the standard library (the ``monotonic``
#: package costs ~3 us a call, too much for the hot path), so it is the wall
#: clock there, and the cache's timer empties the cache when it steps back.
clock = time.time if PY2 else time.monotonic

if PY2:
    text_type = unicode  # noqa: F821 (Python 2 only)
    integer_types = (int, long)  # noqa: F821 (Python 2 only)
    #: The module whose ``get_ident`` names a native thread.
    THREAD_MODULE = "thread"
else:
    text_type = str
    integer_types = (int,)
    THREAD_MODULE = "_thread"

#: Host types whose value alone says what CPython hands libc.
HOST_TYPES = (str, text_type, bytes)

if PY2:
    # Python 2's getaddrinfo() is the C function, which takes no keywords.
    def getaddrinfo_arguments(*args, **kwargs):
        """``getaddrinfo``'s arguments, bound as CPython binds them, as a
        tuple; TypeError where CPython's own call would raise one."""
        if kwargs:
            raise TypeError("getaddrinfo() takes no keyword arguments")
        return _positional_getaddrinfo_arguments(*args)

    def _positional_getaddrinfo_arguments(host, port, family=0, socktype=0, proto=0,
                                          flags=0):
        return host, port, family, socktype, proto, flags
else:
    def getaddrinfo_arguments(host, port, family=0, type=0, proto=0, flags=0):
        """``getaddrinfo``'s arguments, bound as CPython binds them, as a
        tuple; TypeError where CPython's own call would raise one."""
        return host, port, family, type, proto, flags

if PY2:
    def parses_as_c_string(value):
        """Whether CPython 2's ``"s"`` argument format (``gethostbyname``'s)
        takes ``value``: a ``unicode`` is encoded with the default codec
        first, and its UnicodeEncodeError is the call's."""
        if not isinstance(value, text_type):
            return True
        try:
            value.encode(sys.getdefaultencoding())
        except UnicodeError:
            return False
        return True
else:
    def parses_as_c_string(value):
        """Python 3's ``gethostbyname`` takes text through "idna", as
        ``setipaddr()`` does: nothing to check before it."""
        return True

if PY2:
    def installed(module_name):
        """Whether a top-level module can be imported, without importing it."""
        import imp
        try:
            imp.find_module(module_name)
        except ImportError:
            return False
        return True
else:
    def installed(module_name):
        """Whether a top-level module can be imported, without importing it."""
        import importlib.util
        return importlib.util.find_spec(module_name) is not None
