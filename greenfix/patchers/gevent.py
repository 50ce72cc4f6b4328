"""The gevent patcher: wraps the methods of gevent's socket class that hand
an address to the C method unresolved, and caches gevent's own lookups.

gevent's ``socket`` (``gevent/_socketcommon.py``, ``_socket3.py``,
``_socket2.py``) resolves a host name itself, cooperatively, only in
``connect`` on a socket with a timeout or blocking (``_resolve_addr()``, which
calls gevent's ``getaddrinfo``).  Everywhere else the address goes to the C
method of its ``_sock``, and CPython's ``getsockaddrarg()`` resolves it with
libc on the hub:

* ``sendto`` (with the hot path inline: :func:`greenfix.hotpath.gevent_sendto`),
  ``sendmsg`` (gevent hands all four arguments on, so an ``address=``
  keyword reaches the C method too) and ``bind``;
* ``connect`` and ``connect_ex`` on a non-blocking socket (timeout 0.0:
  ``_internal_connect()`` calls the C ``connect`` directly).

Those are wrapped here; the calls gevent resolves are left to gevent, whose
lookup functions get greenfix's answer cache (:mod:`greenfix.lookups`).
``gevent.ssl.SSLSocket`` subclasses gevent's socket and reaches these
methods through it (``socket.connect(self, addr)``), so it is covered too.
"""

from __future__ import absolute_import

import errno
import sys

import _socket
import gevent._socketcommon
import six

from greenfix import hotpath, lookups
from greenfix.patchers import wrappers

#: Modules that hold gevent's lookup functions as globals: ``_resolve_addr``
#: and ``create_connection`` call the ones in their own module, and
#: ``patch_all()`` copies them into ``socket``.
_LOOKUP_MODULES = ("gevent._socketcommon", "gevent._socket3", "gevent._socket2",
                   "gevent.socket", "socket")

#: The errno after which gevent's ``sendto`` waits (its own constant).
_EWOULDBLOCK = getattr(gevent._socketcommon, "EWOULDBLOCK", errno.EWOULDBLOCK)

_SENDMSG_PARAMETERS = ("buffers", "ancdata", "flags", "address")
_SENDMSG_DEFAULTS = {"ancdata": (), "flags": 0, "address": None}


def _sock_family(sock):
    """The family of a gevent socket: the C member of its ``_sock``."""
    return wrappers.family(sock._sock)


def _gevent_resolves(sock):
    """Whether gevent's own ``connect`` resolves the address (a socket that
    is not non-blocking): then its ``getaddrinfo`` answers, not libc."""
    return sock.timeout != 0.0


def _sendto_would_block(sock, exc):
    """Whether gevent's ``sendto`` waits and tries again after its first
    try raised ``exc``: EWOULDBLOCK on a socket that is not non-blocking."""
    return exc.args[0] == _EWOULDBLOCK and sock.timeout != 0.0


def _sendmsg_arguments(args, kwargs):
    """The four values gevent's ``sendmsg(buffers, ancdata=(), flags=0,
    address=None)`` hands the C method, or None for a call its signature
    refuses (gevent raises that TypeError itself)."""
    given = dict(zip(_SENDMSG_PARAMETERS, args))
    if len(args) > len(_SENDMSG_PARAMETERS) or set(given) & set(kwargs) \
            or not set(kwargs) <= set(_SENDMSG_PARAMETERS) or not (args or "buffers" in kwargs):
        return None
    given.update(kwargs)
    return tuple(given.get(name, _SENDMSG_DEFAULTS.get(name)) for name in _SENDMSG_PARAMETERS)


def _sendmsg(translate, original):
    """gevent's ``sendmsg``, its address (positional or keyword) translated;
    the call then hands the C method the same four values gevent would."""
    @six.wraps(original)
    def method(self, *args, **kwargs):
        values = _sendmsg_arguments(args, kwargs)
        if values is not None and values[3] is not None:
            args = values[:3] + (translate(_sock_family(self), values, 3, "sendmsg"),)
            kwargs = {}
        return original(self, *args, **kwargs)
    return method


def patch(patches, translator, cached_lookups=None):
    """Apply the wrappers, which resolve through ``translator``, into
    ``patches`` (a :class:`PatchSet`); with ``cached_lookups`` (a
    :class:`greenfix.lookups.CachedLookups`), gevent's lookups too."""
    from gevent.socket import socket as gevent_socket

    if cached_lookups is not None:
        _patch_lookups(patches, translator, cached_lookups)
    translate = translator.translate
    for name in ("connect", "connect_ex"):
        # the C method both reach on a non-blocking socket is connect
        original = getattr(gevent_socket, name)
        wrapper = wrappers.single(translate, _sock_family, original, "connect")
        patches.replace(gevent_socket, name, wrappers.unless(_gevent_resolves, wrapper, original))
    original = six.get_unbound_function(gevent_socket.sendto)
    wrapper = wrappers.sendto(translate, _sock_family, original)
    patches.replace(gevent_socket, "sendto", six.wraps(original)(hotpath.gevent_sendto(
        translator.hot, wrapper, original, _sendto_would_block)))
    if hasattr(_socket.socket, "sendmsg") and hasattr(gevent_socket, "sendmsg"):
        patches.replace(gevent_socket, "sendmsg", _sendmsg(translate, gevent_socket.sendmsg))
    patches.replace(gevent_socket, "bind",
                    wrappers.single(translate, _sock_family, gevent_socket.bind, "bind"))


def _patch_lookups(patches, translator, cached_lookups):
    """Replace gevent's module-level lookups wherever a module holds them
    (see ``_LOOKUP_MODULES``)."""
    replacements = lookups.functions(cached_lookups, translator)
    for name, replacement in sorted(replacements.items()):
        gevent_function = getattr(cached_lookups.reference, name)
        for module_name in _LOOKUP_MODULES:
            module = sys.modules.get(module_name)
            if module is not None and getattr(module, name, None) is gevent_function:
                patches.replace(module, name, replacement)
