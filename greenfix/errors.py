"""Errors greenfix raises, worded as libc and CPython word them."""

from __future__ import absolute_import

import ctypes
import ctypes.util
import socket

# glibc's texts, used only where libc's gai_strerror() cannot be reached.
_GLIBC_TEXT = {
    -2: "Name or service not known",
    -3: "Temporary failure in name resolution",
    -4: "Non-recoverable failure in name resolution",
    -5: "No address associated with hostname",
    -9: "Address family for hostname not supported",
}

_texts = {}


def _libc_gai_strerror():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        func = libc.gai_strerror
    except (OSError, AttributeError):
        return None
    func.restype = ctypes.c_char_p
    func.argtypes = [ctypes.c_int]
    return func


_gai_strerror = _libc_gai_strerror()


def gai_text(code):
    """libc's message for a getaddrinfo() error code, as CPython shows it."""
    text = _texts.get(code)
    if text is None:
        raw = _gai_strerror(code) if _gai_strerror is not None else None
        if raw:
            # CPython 2 puts libc's bytes in the exception as they are.
            text = raw if str is bytes else raw.decode("ascii", "replace")
        else:
            text = _GLIBC_TEXT.get(code, "Unknown error")
        _texts[code] = text
    return text


def gaierror(code):
    """A new ``socket.gaierror`` exactly as CPython's ``set_gaierror()`` builds
    it: ``(code, gai_strerror(code))``."""
    return socket.gaierror(code, gai_text(code))


class GreenfixError(RuntimeError):
    """greenfix cannot be patched in as asked.  Raised by ``patch()`` (and
    :class:`greenfix.options.Options`), never by a socket call or a lookup,
    in exactly these cases:

    * an option's value is not accepted: the message names the option, the
      value and what is accepted (greenfix/options.py checks every option);
    * an unknown option: raised as ``UnknownOptionError``, which is also the
      ``TypeError`` Python raises for any function's unknown keyword;
    * ``$GREENFIX_RESOLVER`` holds a value other than ``auto``, ``greendns``,
      ``threadpool`` or blanks (when ``resolver`` is not given);
    * no green framework is found (neither eventlet nor gevent monkey-patched
      the process or, alone, is imported) and ``framework`` is not given;
    * ``framework`` is neither ``"eventlet"`` nor ``"gevent"``, or the
      framework asked for (or found) cannot be imported;
    * ``resolver="greendns"`` while that backend is unavailable
      (``EVENTLET_NO_GREENDNS=yes``, or dnspython missing or unusable).
    """
