"""The eventlet patcher: wraps every address-taking method of eventlet's
green sockets so that the host is resolved before the C method sees it.

Wrapped (``eventlet/greenio/base.py`` and ``eventlet/green/ssl.py``):

* ``GreenSocket.connect``, ``connect_ex``, ``sendto``: eventlet's own methods,
  which hand the address to the C ``connect_ex``/``sendto`` (on every retry);
  ``sendto`` with the hot path inline (:func:`greenfix.hotpath.green_sendto`);
* ``GreenSocket.sendmsg``: forwarded raw to the C method by ``__getattr__``;
* ``GreenSocket.bind``: eventlet copies ``fd.bind`` onto each instance in
  ``__init__``, so it is wrapped with a data descriptor that wins over that
  instance attribute (see :class:`InstanceShadowingMethod`);
* ``GreenSSLSocket.connect``, ``connect_ex``, ``bind``: they reach the C
  ``connect``/``connect_ex``/``bind`` through ``ssl.SSLSocket``.

``sendall`` and ``send`` take no address and are left alone.  Subclasses of
these classes inherit the wrappers.
"""

from __future__ import absolute_import

import functools
import socket
import warnings

import _socket
import six
from eventlet.support import get_errno

from greenfix import hotpath, lookups

if six.PY2:
    def _family(sock):
        return sock.family
else:
    _raw_family = _socket.socket.family.__get__

    def _family(sock):
        # socket.socket.family is a property that builds an IntEnum on every
        # access; the C member is what CPython's getsockaddrarg() reads.
        try:
            return _raw_family(sock)
        except TypeError:  # GreenSocket around a socket-like object
            return getattr(sock, "family", None)


def _fd_family(self):
    """The family of a GreenSocket: that of its ``fd``."""
    return _family(self.fd)


def _wraps(original):
    """functools.wraps that tolerates C methods without ``__module__`` (a
    failure on Python 2)."""
    assigned = [a for a in functools.WRAPPER_ASSIGNMENTS if hasattr(original, a)]
    return functools.wraps(original, assigned=assigned)


class InstanceShadowingMethod(object):
    """A method that takes precedence over an instance attribute of its name.

    ``GreenSocket.__init__`` stores ``fd.bind`` on the instance, which would
    hide a plain class method.  A data descriptor is looked up before the
    instance ``__dict__``; its ``__set__`` keeps what ``__init__`` assigns in
    the instance ``__dict__``, so once the descriptor is removed by
    ``unpatch()`` every socket behaves exactly as eventlet made it.
    """

    def __init__(self, func, name=None):
        self.func = func
        # The attribute name, not the wrapped function's (``_raw_bind``):
        # ``__set__`` must keep what ``__init__`` assigns under that name.
        self.name = name or func.__name__
        functools.update_wrapper(self, func)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return self.func.__get__(obj, objtype)

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value

    def __delete__(self, obj):
        try:
            del obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name)


def _address_wrappers(translate, family_of):
    """Wrappers for the C-style signatures: ``meth(address)``,
    ``sendto(data[, flags], address)``, ``sendmsg(buffers[, ancdata[, flags[,
    address]]])``.  Each takes the original callable and the name of the C
    method it hands the address to (whose argument checks and error texts
    greenfix must reproduce), or a function of the socket giving that name."""

    def single(original, name):
        c_method = name if callable(name) else (lambda sock: name)

        @_wraps(original)
        def method(self, *args, **kwargs):
            if len(args) == 1 and not kwargs:
                args = (translate(family_of(self), args, 0, c_method(self)),)
            return original(self, *args, **kwargs)
        return method

    def connect_ex(original, name):
        """``GreenSocket.connect_ex``, which may return a lookup failure."""
        @_wraps(original)
        def method(self, *args, **kwargs):
            if len(args) == 1 and not kwargs:
                try:
                    args = (translate(family_of(self), args, 0, name),)
                except socket.error as exc:
                    # A lookup failure (gaierror) is raised by the C call
                    # inside eventlet's method, which may return it.
                    if not _connect_ex_returns_errors(self):
                        raise
                    return get_errno(exc)
            return original(self, *args, **kwargs)
        return method

    def sendto(original, name):
        @_wraps(original)
        def method(self, data, *args, **kwargs):
            if 1 <= len(args) <= 2 and not kwargs:
                full = (data,) + args
                args = args[:-1] + (translate(family_of(self), full, len(args), name),)
            return original(self, data, *args, **kwargs)
        return method

    def sendmsg(original, name):
        @_wraps(original)
        def method(self, *args, **kwargs):
            if len(args) == 4 and args[3] is not None and not kwargs:
                args = args[:3] + (translate(family_of(self), args, 3, name),)
            return original(self, *args, **kwargs)
        return method

    return {"single": single, "green_connect_ex": connect_ex, "sendto": sendto,
            "sendmsg": sendmsg}


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


def _unless(refuses, wrapper, original):
    @_wraps(wrapper)
    def method(self, *args, **kwargs):
        if refuses(self):
            return original(self, *args, **kwargs)
        return wrapper(self, *args, **kwargs)
    return method


def _forward_to_fd(name):
    def method(self, *args, **kwargs):
        return getattr(self.fd, name)(*args, **kwargs)
    method.__name__ = name
    return method


def _raw_bind(self, *args, **kwargs):
    raw = self.__dict__.get("bind") or self.fd.bind
    return raw(*args, **kwargs)


def is_monkey_patched():
    from greenfix.frameworks import eventlet as green
    return green.is_monkey_patched()


def patch(patches, translator, libc_lookups=None):
    """Apply the wrappers, which resolve through ``translator``, into
    ``patches`` (a :class:`PatchSet`); with ``libc_lookups`` (a
    :class:`greenfix.lookups.LibcLookups`), the module-level lookups too."""
    from eventlet.greenio.base import GreenSocket

    if libc_lookups is not None:
        _patch_lookups(patches, translator, libc_lookups)
    green = _address_wrappers(translator.translate, _fd_family)
    patches.replace(GreenSocket, "connect",
                    green["single"](GreenSocket.connect, _green_connect_c_method))
    patches.replace(GreenSocket, "connect_ex",
                    green["green_connect_ex"](GreenSocket.connect_ex, "connect_ex"))
    sendto = green["sendto"](getattr(GreenSocket, "sendto"), "sendto")
    if hasattr(GreenSocket, "_send_loop"):
        sendto = _wraps(sendto)(hotpath.green_sendto(translator.hot, sendto, _fd_family))
        patches.replace(GreenSocket, hotpath.MEMO, hotpath.NO_MEMO)
    patches.replace(GreenSocket, "sendto", sendto)
    if hasattr(_socket.socket, "sendmsg"):
        patches.replace(GreenSocket, "sendmsg",
                        green["sendmsg"](_forward_to_fd("sendmsg"), "sendmsg"))
    patches.replace(GreenSocket, "bind",
                    InstanceShadowingMethod(green["single"](_raw_bind, "bind"), "bind"))

    ssl_socket = _green_ssl_socket()
    if ssl_socket is not None:
        tls = _address_wrappers(translator.translate, _family)
        for name in ("connect", "connect_ex", "bind"):
            original = getattr(ssl_socket, name)
            # stdlib SSLSocket code: the C method of the same name
            wrapper = tls["single"](original, name)
            if name != "bind":
                wrapper = _unless(_ssl_refuses(name), wrapper, original)
            patches.replace(ssl_socket, name, wrapper)


def _patch_lookups(patches, translator, libc_lookups):
    """Replace eventlet's greendns module-level lookups, in
    ``eventlet.green.socket`` and, where monkey_patch() put them there, in
    ``socket`` (see :mod:`greenfix.lookups`)."""
    import socket as stdlib_socket
    from eventlet.green import socket as green_socket

    replacements = lookups.functions(libc_lookups, translator)
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


def warn_if_not_monkey_patched():
    if not is_monkey_patched():
        warnings.warn(
            "greenfix.patch() was called before eventlet.monkey_patch(): "
            "greenfix wraps eventlet's green sockets, so socket.socket is "
            "covered only once eventlet.monkey_patch() has run",
            RuntimeWarning, stacklevel=3)
