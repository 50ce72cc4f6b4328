"""The eventlet patcher: wraps every address-taking method of eventlet's
green sockets so that the host is resolved before the C method sees it.

Wrapped (``eventlet/greenio/base.py`` and ``eventlet/green/ssl.py``):

* ``GreenSocket.connect``, ``connect_ex``, ``sendto``: eventlet's own methods,
  which hand the address to the C ``connect_ex``/``sendto`` (on every retry);
  ``sendto`` with the hot path inline (:func:`greenfix.hotpath.green_sendto`);
* ``GreenSocket.sendmsg``: forwarded raw to the C method by ``__getattr__``;
* ``GreenSocket.bind``: eventlet copies ``fd.bind`` onto each instance in
  ``__init__``, so it is wrapped with a data descriptor that wins over that
  instance attribute (:class:`greenfix.patchers.wrappers.AttributeWrapper`);
* ``GreenSSLSocket.connect``, ``connect_ex``, ``bind``: they reach the C
  ``connect``/``connect_ex``/``bind`` through ``ssl.SSLSocket``.

``sendall`` and ``send`` take no address and are left alone.  Subclasses of
these classes inherit the wrappers.
"""

from __future__ import absolute_import

import functools

import _socket
import six
from eventlet.support import get_errno

from greenfix import hotpath, lookups
from greenfix.patchers import wrappers


def _fd_family(self):
    """The family of a GreenSocket: that of its ``fd``."""
    return wrappers.family(self.fd)


def _green_connect_c_method(sock):
    """The C method ``GreenSocket.connect`` hands the address to:
    ``connect_ex`` (eventlet's ``socket_connect()``), or ``connect`` itself
    on a non-blocking socket (``self.fd.connect(address)``).  The name
    shows in CPython's errors ("connect_ex(): port must be 0-65535.")."""
    return "connect" if getattr(sock, "act_non_blocking", False) else "connect_ex"


def _connect_ex_returns_errors(sock):
    """Whether ``GreenSocket.connect_ex`` returns, rather than raises, an
    ``OSError`` of the C ``connect_ex``: its branch for a socket with a
    timeout (``settimeout()`` or ``setdefaulttimeout()``) wraps the C call
    in ``except OSError as ex: return get_errno(ex)`` (``socket.error`` in
    0.33.3, the base class of ``gaierror`` on Python 2 as well), in every
    release from 0.33 to 0.41; the blocking branch and the non-blocking one
    (``self.fd.connect_ex``) let a lookup failure through."""
    return not getattr(sock, "act_non_blocking", False) and sock.gettimeout() is not None


def _ssl_refuses(name):
    """A predicate for the SSL socket states in which ``ssl.SSLSocket`` and
    eventlet raise ValueError before touching the address ("attempt to
    connect already-connected SSLSocket!", "can't connect in server-side
    mode"): there the call goes through unchanged, so it raises that."""
    def refuses(sock):
        if getattr(sock, "_sslobj", None) is not None:
            return True
        return name == "connect_ex" and (getattr(sock, "server_side", False)
                                         or getattr(sock, "_connected", False))
    return refuses


def _bind(translate):
    """``GreenSocket.bind``: eventlet's ``__init__`` stores ``fd.bind`` on
    each instance, which would hide a class method; the descriptor hands
    out that value (or ``fd.bind``), its address translated."""
    def translated_bind(sock, raw, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            args = (translate(_fd_family(sock), args, 0, "bind"),)
        return raw(*args, **kwargs)

    def factory(sock, stored):
        return functools.partial(translated_bind, sock,
                                 stored if stored is not None else sock.fd.bind)
    return wrappers.AttributeWrapper("bind", factory)


def _sendmsg(self, *args, **kwargs):
    """eventlet forwards ``sendmsg`` raw to the C socket (``__getattr__``)."""
    return self.fd.sendmsg(*args, **kwargs)


_sendmsg.__name__ = "sendmsg"


def patch(patches, translator, cached_lookups=None):
    """Apply the wrappers, which resolve through ``translator``, into
    ``patches`` (a :class:`PatchSet`); with ``cached_lookups`` (a
    :class:`greenfix.lookups.CachedLookups`), the module-level lookups too."""
    from eventlet.greenio.base import GreenSocket

    if cached_lookups is not None:
        _patch_lookups(patches, translator, cached_lookups)
    translate = translator.translate
    patches.replace(GreenSocket, "connect", wrappers.single(
        translate, _fd_family, GreenSocket.connect, _green_connect_c_method))
    patches.replace(GreenSocket, "connect_ex", wrappers.connect_ex(
        translate, _fd_family, GreenSocket.connect_ex, _connect_ex_returns_errors, get_errno))
    sendto = wrappers.sendto(translate, _fd_family, GreenSocket.sendto)
    if hasattr(GreenSocket, "_send_loop"):
        sendto = six.wraps(sendto)(hotpath.green_sendto(translator.hot, sendto, _fd_family))
        patches.replace(GreenSocket, hotpath.MEMO, hotpath.NO_MEMO)
    patches.replace(GreenSocket, "sendto", sendto)
    if hasattr(_socket.socket, "sendmsg"):
        patches.replace(GreenSocket, "sendmsg", wrappers.sendmsg(translate, _fd_family, _sendmsg))
    patches.replace(GreenSocket, "bind", _bind(translate))
    _patch_ssl(patches, translate)


def _patch_ssl(patches, translate):
    """``GreenSSLSocket.connect``, ``connect_ex``, ``bind``: stdlib SSLSocket
    code, which reaches the C method of the same name."""
    ssl_socket = _green_ssl_socket()
    if ssl_socket is None:
        return
    for name in ("connect", "connect_ex", "bind"):
        original = getattr(ssl_socket, name)
        wrapper = wrappers.single(translate, wrappers.family, original, name)
        if name != "bind":
            wrapper = wrappers.unless(_ssl_refuses(name), wrapper, original)
        patches.replace(ssl_socket, name, wrapper)


def _patch_lookups(patches, translator, cached_lookups):
    """Replace eventlet's greendns module-level lookups, in
    ``eventlet.green.socket`` and, where monkey_patch() put them there, in
    ``socket`` (see :mod:`greenfix.lookups`)."""
    import socket as stdlib_socket
    from eventlet.green import socket as green_socket

    replacements = lookups.functions(cached_lookups, translator)
    for name, replacement in sorted(replacements.items()):
        eventlet_function = getattr(green_socket, name)
        patches.replace(green_socket, name, replacement)
        if getattr(stdlib_socket, name) is eventlet_function:
            patches.replace(stdlib_socket, name, replacement)


def _green_ssl_socket():
    try:
        from eventlet.green.ssl import GreenSSLSocket
    except ImportError:  # Python built without ssl
        return None
    return GreenSSLSocket
