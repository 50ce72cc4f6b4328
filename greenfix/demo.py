"""The demo: log records sent over UDP to a host name, with and without
greenfix, while a green heartbeat measures how long the hub stands still.

Scene 1 sends one record while DNS answers, and while it drops every query.
Scene 2 is the original incident: ``logging.handlers.SysLogHandler`` logs to
a host name ten times a second; DNS answers, then goes dark (the responder
drops every query from then on).  Without greenfix each record freezes the
whole process for the resolver's timeout and is lost; with greenfix the
records keep flowing to the address the cache still holds (served stale,
RFC 8767) while refreshes fail in the background.

Both scenes run under each green framework installed (eventlet, gevent).
Each run is a fresh interpreter (``python -m greenfix demo --case JSON``)
next to a tiny DNS responder on loopback.  Without greenfix the lookup
happens in libc, which reads /etc/resolv.conf: those runs need private mount
and network namespaces (``unshare -m -n`` as root, ``unshare -r -m -n``
through a user namespace otherwise), where bind-mounted resolv.conf, hosts
and nsswitch.conf name the responder, so no packet leaves the machine.
Where neither works, the demo says so and shows the greenfix runs only,
with ``patch()`` pointed at the responder.
"""

from __future__ import absolute_import, print_function

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

NAME = "logs.example.test"
TIMEOUT = 1       # resolver budget of the demo: one try of one second
TTL = 1           # the responder's TTL: the cache must refresh during the scene
INTERVAL = 0.1    # scene 2: one record every 100 ms
BRIGHT = 1.5      # scene 2: DNS answers for 1.5 s...
DARK = 2.5        # ...then drops every query for 2.5 s

SENDTO_CASES = [
    # (label, greenfix, dns)
    ("without greenfix, DNS lost", False, "drop"),
    ("greenfix.patch(), DNS lost", True, "drop"),
    ("without greenfix, DNS answers", False, "answer"),
    ("greenfix.patch(), DNS answers", True, "answer"),
]
INCIDENT_CASES = [("without greenfix", False), ("greenfix.patch()", True)]

RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:%d attempts:1\n" % TIMEOUT
HOSTS = "127.0.0.1 localhost\n"
NSSWITCH = "hosts: files dns\n"

clock = getattr(time, "monotonic", time.time)


# ------------------------------------------------------------ the child runs

def run_case(case):
    """Body of one run, in its own interpreter; prints JSON lines (events,
    then the result last)."""
    if case["framework"] == "gevent":
        from gevent import monkey
        monkey.patch_all()
    else:
        import eventlet
        eventlet.monkey_patch()

    responder = _Responder(case["dns"], 53 if case["netns"] else 0)
    if case["greenfix"]:
        import greenfix
        greenfix.patch(**({} if case["netns"] else {
            "resolver": "greendns", "nameservers": ["127.0.0.1:%d" % responder.port],
            "timeout": TIMEOUT, "attempts": 1,
            "hosts": case["files"]["hosts"], "nsswitch": case["files"]["nsswitch.conf"]}))
    if case["scene"] == "incident":
        result = _incident(responder)
    else:
        result = _one_sendto()
    _emit({"result": result})


def _emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _green():
    """greenfix's module for the framework that monkey-patched this run."""
    from greenfix import frameworks
    return frameworks.load(frameworks.detect())


class _Heartbeat(object):
    """A green thread ticking every millisecond; ``worst()`` is the longest
    the hub went without running it."""

    def __init__(self):
        self.ticks = [clock()]
        self._running = True
        _green().spawn(self._beat)

    def _beat(self):
        sleep = _green().sleep
        while self._running:
            self.ticks.append(clock())
            sleep(0.001)

    def stop(self):
        _green().sleep(0.005)
        self._running = False

    def worst(self, since):
        """The longest gap between ``since`` and the last tick."""
        ticks = [since] + [tick for tick in self.ticks if tick > since]
        return max([b - a for a, b in zip(ticks, ticks[1:])] or [0.0])


def _receiver():
    """A plain (unpatched) UDP socket on loopback standing for the collector."""
    import _socket
    receiver = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    return receiver


def _drain(receiver, wait=0.2):
    """How many datagrams arrived (waiting ``wait`` s for the last ones)."""
    import socket
    receiver.settimeout(wait)
    count = 0
    while True:
        try:
            receiver.recvfrom(2048)
        except socket.timeout:
            return count
        count += 1


def _one_sendto():
    """Scene 1: one sendto() of a record to (NAME, port)."""
    import socket
    receiver = _receiver()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    heartbeat = _Heartbeat()
    _green().sleep(0.05)
    start = clock()
    try:
        sock.sendto(b"<14>hello from the demo", (NAME, receiver.getsockname()[1]))
        outcome = "sent"
    except socket.error as exc:
        outcome = "%s%r" % (type(exc).__name__, exc.args)
    took = clock() - start
    heartbeat.stop()
    return {"gap": heartbeat.worst(start), "took": took, "outcome": outcome,
            "delivered": _drain(receiver, 1.0) > 0}


def _syslog_handler(port):
    """A SysLogHandler sending every record over UDP to (NAME, port), as in
    the original report.  Built for 127.0.0.1 first: Python 3's constructor
    resolves the address once, Python 2.7's did not; the incident is the
    lookup each record's sendto() does."""
    import logging.handlers

    class Counting(logging.handlers.SysLogHandler):
        lost = 0

        def handleError(self, record):
            self.lost += 1

    handler = Counting(address=("127.0.0.1", port))
    handler.address = (NAME, port)
    return handler


def _incident(responder):
    """Scene 2: a record every INTERVAL; DNS goes dark after BRIGHT s."""
    import logging

    sleep = _green().sleep
    receiver = _receiver()
    handler = _syslog_handler(receiver.getsockname()[1])
    logger = logging.getLogger("greenfix.demo")
    logger.propagate = False
    logger.addHandler(handler)
    heartbeat = _Heartbeat()
    start = clock()
    due = int(round((BRIGHT + DARK) / INTERVAL))
    attempted = 0
    while attempted < due and clock() - start < BRIGHT + DARK:
        sleep(max(0.0, start + attempted * INTERVAL - clock()))
        if not responder.dark.is_set() and clock() - start >= BRIGHT:
            responder.dark.set()
            _emit({"event": "dark", "t": clock() - start})
        lost_before = handler.lost
        logger.warning("record %d", attempted)
        attempted += 1
        _emit({"event": "record", "t": clock() - start, "lost": handler.lost > lost_before})
    heartbeat.stop()
    return {"due": due, "attempted": attempted, "lost": handler.lost,
            "delivered": _drain(receiver), "gap": heartbeat.worst(start),
            "took": clock() - start}


class _Flag(object):
    """Set once, read by the responder's native thread (a plain attribute:
    no lock of a patched ``threading`` module)."""

    def __init__(self):
        self._set = False

    def set(self):
        self._set = True

    def is_set(self):
        return self._set


class _Responder(object):
    """A DNS responder in a native thread: answers A queries for NAME with
    127.0.0.1 (TTL 1 s) until ``dark`` is set, then drops every query.
    Built on dnspython's message API."""

    def __init__(self, mode, port):
        import _socket
        # imported here, not in the thread: under gevent an import in a
        # native thread can wait on the import lock of a (green) greenlet
        import dns.message
        import dns.rrset
        self._dns = dns
        self.dark = _Flag()
        if mode == "drop":
            self.dark.set()
        self._sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        _green().original_thread().start_new_thread(self._serve, ())

    def _serve(self):
        dns = self._dns
        while True:
            wire, peer = self._sock.recvfrom(4096)
            if self.dark.is_set():
                continue
            query = dns.message.from_wire(wire)
            reply = dns.message.make_response(query)
            question = query.question[0]
            if question.rdtype == 1:  # A
                reply.answer.append(dns.rrset.from_text(
                    question.name, TTL, "IN", "A", "127.0.0.1"))
            self._sock.sendto(reply.to_wire(), peer)


# ------------------------------------------------------------ the parent

def _which(tool):
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder, tool)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class _Namespaces(object):
    """How to run a command where libc sees the demo's resolv.conf, hosts
    and nsswitch.conf: ``unshare -m -n`` (needs CAP_SYS_ADMIN), else
    ``unshare -r -m -n`` (a user namespace, mapping the user to root in it);
    ``how`` says which, or ``reason`` why neither works."""

    def __init__(self, files):
        self.files, self.prefix, self.how, self.reason = files, None, None, None
        missing = [tool for tool in ("unshare", "ip", "mount") if not _which(tool)]
        if missing:
            self.reason = "%s not found on PATH" % ", ".join(missing)
            return
        failures = []
        for prefix, how in ((["unshare", "-m", "-n"], "private namespaces (unshare -m -n)"),
                            (["unshare", "-r", "-m", "-n"],
                             "a user namespace (unshare -r -m -n), unprivileged")):
            error = self._probe(prefix)
            if error is None:
                self.prefix, self.how = prefix, how
                return
            failures.append("%s: %s" % (" ".join(prefix), error))
        self.reason = "; ".join(failures)

    def wrap(self, argv, prefix=None):
        mounts = "".join(" && mount --bind %s /etc/%s" % (self.files[key], key)
                         for key in ("resolv.conf", "hosts", "nsswitch.conf")
                         if os.path.exists("/etc/" + key))
        script = "ip link set lo up%s && exec \"$@\"" % mounts
        return (prefix or self.prefix) + ["sh", "-c", script, "sh"] + argv

    def _probe(self, prefix):
        # this interpreter, as the runs will: in a user namespace it may sit
        # where the mapped root cannot reach (under another user's home)
        probe = subprocess.Popen(self.wrap([sys.executable, "-c", "pass"], prefix),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = probe.communicate()
        if probe.returncode == 0:
            return None
        lines = err.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "exit status %d" % probe.returncode


def _write_files(folder):
    files = {"resolv.conf": RESOLV_CONF, "hosts": HOSTS, "nsswitch.conf": NSSWITCH}
    paths = {}
    for name, text in files.items():
        paths[name] = os.path.join(folder, name)
        with open(paths[name], "w") as handle:
            handle.write(text)
    os.chmod(folder, 0o755)  # readable from a user namespace's root too
    return paths


def _spawn(case, namespaces, progress=None):
    """Run one case; returns its result (the last JSON line).  While it
    runs, ``progress(events, elapsed)`` is called every 0.2 s."""
    argv = [sys.executable, "-W", "ignore", "-m", "greenfix", "demo", "--case", json.dumps(case)]
    if case["netns"]:
        argv = namespaces.wrap(argv)
    child = subprocess.Popen(argv, stdout=subprocess.PIPE)
    events = []

    def read():
        for line in iter(child.stdout.readline, b""):
            events.append(json.loads(line.decode("utf-8")))

    reader = threading.Thread(target=read)
    reader.daemon = True
    reader.start()
    start = clock()
    while reader.is_alive():
        reader.join(0.2)
        if progress is not None and reader.is_alive():
            progress(list(events), clock() - start)
    if child.wait() != 0 or not events or "result" not in events[-1]:
        raise RuntimeError("demo case %r failed (exit status %s)" % (case, child.returncode))
    return events[-1]["result"]


class _Progress(object):
    """The line shown while a scene-2 run goes on: time, DNS state, records
    sent and lost, and how long no record has gone out.  Redrawn in place
    on a terminal, printed once a second otherwise."""

    def __init__(self, label):
        self.label = label
        self.tty = sys.stdout.isatty()
        self._seen, self._changed, self._printed = 0, 0.0, -1

    def __call__(self, events, elapsed):
        if len(events) != self._seen:
            self._seen, self._changed = len(events), elapsed
        records = [event for event in events if event.get("event") == "record"]
        dark = any(event.get("event") == "dark" for event in events)
        line = "  ... %-17s %4.1f s  DNS %-8s records logged %2d, lost %2d" % (
            self.label, elapsed, "dark," if dark else "answers,", len(records),
            sum(1 for event in records if event["lost"]))
        if elapsed - self._changed > 0.3:
            line += "  (nothing for %.1f s: frozen)" % (elapsed - self._changed)
        if self.tty:
            sys.stdout.write("\r%-100s" % line)
        elif int(elapsed) != self._printed:
            self._printed = int(elapsed)
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def clear(self):
        if self.tty:
            sys.stdout.write("\r%-100s\r" % "")
            sys.stdout.flush()


def _case(scene, patched, dns, namespaces, framework):
    return {"scene": scene, "greenfix": patched, "dns": dns, "framework": framework,
            "netns": namespaces.prefix is not None, "files": namespaces.files}


def _scene_sendto(namespaces, framework):
    """Scene 1's table; returns whether greenfix did what it should."""
    print("Scene 1 (%s): sock.sendto(record, (%r, port)), once" % (framework, NAME))
    row = "  %-30s %14s %10s %10s  %s"
    print(row % ("case", "hub frozen for", "call took", "delivered", "outcome"))
    ok = True
    for label, patched, dns in SENDTO_CASES:
        if not patched and namespaces.prefix is None:
            print(row % (label, "-", "-", "-", "not shown: no private namespaces (see below)"))
            continue
        result = _spawn(_case("sendto", patched, dns, namespaces, framework), namespaces)
        print(row % (label, "%.0f ms" % (result["gap"] * 1000), "%.2f s" % result["took"],
                     "yes" if result["delivered"] else "no", result["outcome"]))
        if patched:
            ok = ok and result["gap"] < 0.2 and result["delivered"] == (dns == "answer")
    return ok


def _scene_incident(namespaces, framework):
    """Scene 2's table; returns whether greenfix did what it should."""
    print("\nScene 2 (%s), the incident: SysLogHandler over UDP to %r, a record every"
          " %d ms;\n  DNS answers for %.1f s, then drops every query for %.1f s"
          % (framework, NAME, INTERVAL * 1000, BRIGHT, DARK))
    row = "  %-18s %10s %5s %14s %9s  %s"
    print(row % ("case", "delivered", "lost", "hub frozen for", "run took", ""))
    ok = True
    for label, patched in INCIDENT_CASES:
        if not patched and namespaces.prefix is None:
            print(row % (label, "-", "-", "-", "-", "not shown: no private namespaces (see below)"))
            continue
        progress = _Progress(label)
        result = _spawn(_case("incident", patched, "answer", namespaces, framework),
                        namespaces, progress)
        progress.clear()
        due, delivered = result["due"], result["delivered"]
        if delivered == due:
            note = "DNS dark: the cache served its last answer (stale)" if patched else ""
        else:
            note = "%d failed in sendto, %d never sent while frozen" % (
                result["lost"], due - result["attempted"])
        print(row % (label, "%d/%d" % (delivered, due), due - delivered,
                     "%.0f ms" % (result["gap"] * 1000), "%.1f s" % result["took"], note))
        if patched:
            ok = ok and delivered == due and result["gap"] < 0.2
    return ok


def _conclude(namespaces):
    if namespaces.prefix is not None:
        print("\nWithout greenfix the whole process stops while libc waits for DNS, and"
              "\nrecords are lost; with greenfix.patch() other green threads keep running,"
              "\nand records keep going to the address DNS gave last while it is dark.")
        return
    print("\nNot shown: the runs without greenfix.  libc reads /etc/resolv.conf, and"
          "\npointing it at the demo's DNS responder needs private mount and network"
          "\nnamespaces, which this machine refused: %s."
          "\nAs root, or where unprivileged user namespaces are allowed, the demo shows"
          "\nthem: the process frozen for %d s per record, and the records lost."
          % (namespaces.reason, TIMEOUT))
    print("Shown: with greenfix.patch(), other green threads keep running, and records"
          "\nkeep going to the address DNS gave last while it is dark.")


def _frameworks(asked=None):
    """The green frameworks installed here (each scene runs under each), or
    only ``asked``."""
    from greenfix.compat import installed
    found = [name for name in ("eventlet", "gevent")
             if installed(name) and asked in (None, name)]
    if not found:
        raise SystemExit("greenfix demo needs %s installed" % (asked or "eventlet or gevent"))
    return found


def main(framework=None):
    """Run both scenes under each framework installed (or ``framework``)
    and print their tables; returns the exit status."""
    folder = tempfile.mkdtemp(prefix="greenfix-demo-")
    try:
        namespaces = _Namespaces(_write_files(folder))
        print("greenfix demo: a green heartbeat ticks every 1 ms while records are sent")
        print("resolver budget: 1 try x %d s; DNS on loopback only; libc runs: %s\n"
              % (TIMEOUT, namespaces.how or "not shown (no private namespaces)"))
        ok = True
        for name in _frameworks(framework):
            print("== under %s ==" % name)
            ok = _scene_sendto(namespaces, name) and ok
            ok = _scene_incident(namespaces, name) and ok
            print()
        _conclude(namespaces)
        return 0 if ok else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
