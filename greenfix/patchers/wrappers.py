"""Framework-neutral wrappers for address-taking socket methods: each
translates the address (:meth:`greenfix.translate.Translator.translate`)
before the framework's own method hands it to the C method.  The framework
patchers (:mod:`greenfix.patchers.eventlet`, :mod:`greenfix.patchers.gevent`)
pick the classes and methods."""

from __future__ import absolute_import

import socket

import _socket
import six

from greenfix.compat import PY2

if PY2:
    def family(sock):
        return sock.family
else:
    _raw_family = _socket.socket.family.__get__

    def family(sock):
        """The family CPython's ``getsockaddrarg()`` reads: the C member
        (``socket.socket.family`` is a property that builds an IntEnum on
        every access)."""
        try:
            return _raw_family(sock)
        except TypeError:  # a green socket around a socket-like object
            return getattr(sock, "family", None)


def single(translate, family_of, original, name):
    """``original(self, address)`` with the address translated.  ``name``:
    the C method it reaches (whose checks and error texts greenfix
    replays), or a function of the socket giving that name."""
    c_method = name if callable(name) else (lambda sock: name)

    @six.wraps(original)
    def method(self, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            args = (translate(family_of(self), args, 0, c_method(self)),)
        return original(self, *args, **kwargs)
    return method


def connect_ex(translate, family_of, original, returns_errors, error_number):
    """``original(self, address)`` (a ``connect_ex``), which may return a
    lookup failure rather than raise it: where ``returns_errors(self)`` says
    the framework's method turns the C call's OSError into its number
    (``error_number(exc)``), so does the translation's."""
    @six.wraps(original)
    def method(self, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            try:
                args = (translate(family_of(self), args, 0, "connect_ex"),)
            except socket.error as exc:
                if not returns_errors(self):
                    raise
                return error_number(exc)
        return original(self, *args, **kwargs)
    return method


def sendto(translate, family_of, original):
    """``original(self, data[, flags], address)`` with the address
    translated."""
    @six.wraps(original)
    def method(self, *args, **kwargs):
        if 2 <= len(args) <= 3 and not kwargs:
            args = args[:-1] + (translate(family_of(self), args, len(args) - 1, "sendto"),)
        return original(self, *args, **kwargs)
    return method


def sendmsg(translate, family_of, original):
    """``original(self, buffers, ancdata, flags, address)`` with the
    address translated (only when all four are given, as CPython reads an
    address only then)."""
    @six.wraps(original)
    def method(self, *args, **kwargs):
        if len(args) == 4 and args[3] is not None and not kwargs:
            args = args[:3] + (translate(family_of(self), args, 3, "sendmsg"),)
        return original(self, *args, **kwargs)
    return method


def unless(refuses, wrapper, original):
    """``wrapper``, except where ``refuses(self)``: then ``original``."""
    @six.wraps(wrapper)
    def method(self, *args, **kwargs):
        if refuses(self):
            return original(self, *args, **kwargs)
        return wrapper(self, *args, **kwargs)
    return method


class AttributeWrapper(object):
    """wrapt's ``AttributeWrapper`` pattern (``wrapt/patches.py``): a data
    descriptor for an attribute that instances set on themselves (eventlet's
    ``GreenSocket.__init__`` stores ``fd.bind`` as ``self.bind``).  A data
    descriptor is looked up before the instance ``__dict__``, so every
    access goes through ``factory(instance, value)``, ``value`` being what
    the instance stored (None if nothing); ``__set__`` and ``__delete__``
    keep the instance's own value in its ``__dict__``, so once ``unpatch()``
    removes the descriptor every instance is as the framework made it."""

    def __init__(self, attribute, factory):
        self.attribute = attribute
        self.factory = factory

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return self.factory(instance, instance.__dict__.get(self.attribute))

    def __set__(self, instance, value):
        instance.__dict__[self.attribute] = value

    def __delete__(self, instance):
        try:
            del instance.__dict__[self.attribute]
        except KeyError:
            raise AttributeError(self.attribute)
