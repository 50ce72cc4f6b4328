"""Single-flight: one backend call per name and native thread at a time;
later callers of the same thread wait for its outcome."""

from __future__ import absolute_import

#: What a flight tells its joiners when it ended without an outcome (its
#: green thread was killed, the backend raised something unexpected): ask
#: again.
RETRY = object()


class Flight(object):
    """One backend call in flight, which later callers of the same thread
    wait for on ``event`` (made by the first of them)."""

    __slots__ = ("event", "outcome")

    def __init__(self):
        self.event = None
        self.outcome = RETRY


class Flights(object):
    """The flights in progress, by ``(key, native thread ident)``: a
    framework's events belong to one hub, so only callers of one native
    thread can wait for each other.  ``make_event`` is the framework's
    ``Event``.  Used under the cache's lock."""

    def __init__(self, make_event):
        self._make_event = make_event
        self._flights = {}

    def __len__(self):
        return len(self._flights)

    def __contains__(self, key_ident):
        return key_ident in self._flights

    def get(self, key, ident):
        return self._flights.get((key, ident))

    def lead(self, key, ident):
        """A new flight for ``key`` in thread ``ident``, whose caller asks
        the backend."""
        flight = self._flights[(key, ident)] = Flight()
        return flight

    def join(self, flight):
        """``flight``, with an event to wait on."""
        if flight.event is None:
            flight.event = self._make_event()
        return flight

    def finish(self, key, ident, flight, outcome):
        """``flight`` ended with ``outcome``; return the event to send (or
        None when nobody joined)."""
        if self._flights.get((key, ident)) is flight:
            del self._flights[(key, ident)]
        flight.outcome = outcome
        return flight.event

    def forget_all(self):
        """After a fork: the parent's flights will not end in the child."""
        self._flights = {}
