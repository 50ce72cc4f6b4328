"""``greenfix doctor``: what this machine's resolver configuration would
cost an unpatched green process, which backend greenfix would use and why,
and whether greenfix is active here.

:func:`report` gathers everything into a JSON-able dict (the command line
prints it, as text or with ``--json``); it imports neither eventlet nor
gevent unless the process already has.  The judgements are pure functions of
parsed data, with no I/O: :func:`lost_lookup` (glibc's time budget for a
name no reply comes for), :func:`advice` and :func:`problems`.

"Broken" (exit code 1 of the command line) means :func:`problems` found
something that stops greenfix or the system resolver from working as
configured: a configuration file that exists but cannot be read, a
``$GREENFIX_RESOLVER`` that ``patch()`` would refuse, dnspython failing to
import (with ``EVENTLET_NO_GREENDNS`` unset), or ``resolver="greendns"``
asked for where greendns is unavailable.  Everything else is advice.
"""

from __future__ import absolute_import, print_function

import errno
import os
import platform
import socket
import sys

#: The names whose lost lookup the report costs: a dotted and a one-label
#: name (the search list treats them differently).
SAMPLE_NAMES = ("logs.example.com", "logs")
FRAMEWORKS = ("eventlet", "gevent")
GAI_CONF = "/etc/gai.conf"


def _no_aliases(name):
    return None


def lost_lookup(conf, name, aliases=_no_aliases):
    """What libc's ``getaddrinfo()`` of ``name`` (bytes) spends when no
    reply ever comes, under ``conf`` (a parsed resolv.conf); no I/O.

    The queries are res_search()'s (:class:`~greenfix.resolvers.search.Search`,
    each failing as a timeout does); each is one res_send(): ``attempts``
    rounds over the nameservers, each try waiting send_dg's
    :func:`~greenfix.resolvers.stub.try_seconds`.  A and AAAA go out
    together (``getaddrinfo()`` with AF_UNSPEC) and share each wait, also
    with ``single-request`` (measured: glibc 2.36), so the family changes
    nothing.  ``use-vc`` (TCP) is not costed: ``seconds`` is None."""
    from greenfix.resolvers.search import QueryFailed, Search
    from greenfix.resolvers.stub import try_seconds
    from greenfix.resolvers.wire import TRY_AGAIN

    search = Search(conf, name, aliases=aliases)
    queries = []
    for query_name in search:
        queries.append(query_name.decode("latin-1"))
        search.failed(QueryFailed(TRY_AGAIN, errno.ETIMEDOUT))
    count = len(conf.nameservers)
    waits = [try_seconds(conf.timeout, index, count) for index in range(count)]
    # Without rotate the first try goes to the first server; with it, any.
    first_try = max(waits) if conf.rotate else waits[0]
    per_query = None if conf.use_vc else conf.attempts * sum(waits)
    return {"name": name.decode("latin-1"), "queries": queries,
            "seconds_per_query": per_query,
            "seconds": None if per_query is None else per_query * len(queries),
            "one_lost_reply": first_try}


def worst_lost_lookup(conf, names=SAMPLE_NAMES):
    """:func:`lost_lookup` of the sample name that costs most."""
    costs = [lost_lookup(conf, name.encode("ascii")) for name in names]
    return max(costs, key=lambda cost: (cost["seconds"] or 0, len(cost["queries"])))


# -- versions and frameworks (I/O: files, sys.modules) ---------------------

def distribution_version(name):
    """The installed version of distribution ``name``, or None; imports
    nothing of it (its module's ``__version__`` only when already imported)."""
    module = sys.modules.get("dns" if name == "dnspython" else name)
    if getattr(module, "__version__", None):
        return str(module.__version__)
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8: the metadata directory's name
        return _version_from_sys_path(name)
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _version_from_sys_path(name):
    """``<name>-<version>.dist-info`` / ``.egg-info`` on ``sys.path``."""
    prefix = name.lower().replace("-", "_") + "-"
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for item in listing:
            base, ext = os.path.splitext(item)
            if ext in (".dist-info", ".egg-info") and base.lower().startswith(prefix):
                return base[len(prefix):].split("-")[0]
    return None


def glibc_version():
    """The running glibc's version: confstr(), else gnu_get_libc_version()
    (Python 2 lacks the confstr name), else what platform.libc_ver() reads
    from the executable (the newest symbol version it links: a lower bound)."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        text = None
    if text:
        return text.split()[-1]
    try:
        import ctypes
        function = ctypes.CDLL(None).gnu_get_libc_version
        function.restype = ctypes.c_char_p
        return function().decode("ascii")
    except (OSError, AttributeError):
        library, version = platform.libc_ver()
        return version if library == "glibc" and version else None


def versions():
    import greenfix
    found = {"python": platform.python_version(), "greenfix": greenfix.__version__,
             "glibc": glibc_version()}
    for name in FRAMEWORKS + ("dnspython",):
        found[name] = distribution_version(name)
    return found


def framework_state():
    """Which framework this process runs on and has monkey-patched, and
    whether greenfix is patched; imports no framework that is not imported."""
    from greenfix import frameworks, is_patched
    patched = {}
    for name in FRAMEWORKS:
        patched[name] = frameworks.load(name).is_monkey_patched() \
            if name in sys.modules else None
    return {"detected": frameworks.detect(), "imported": [n for n in FRAMEWORKS if n in sys.modules],
            "monkey_patched": patched, "greenfix_patched": is_patched(),
            "greenfix_supports": [name for name in FRAMEWORKS if _greenfix_supports(name)]}


def _greenfix_supports(name):
    """Whether greenfix has a patcher for framework ``name`` (found, not
    imported: the patcher imports its framework)."""
    try:
        from importlib.util import find_spec
    except ImportError:  # Python 2
        from pkgutil import find_loader as find_spec
    return find_spec("greenfix.patchers." + name) is not None


# -- the configuration files (I/O) -----------------------------------------

def read_file(path):
    """``(text, error)``: a missing file is empty text and no error (glibc
    reads it so); one that exists but cannot be read gives the error."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("latin-1"), None
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return "", None
        return "", "%s: %s" % (path, exc.strerror or exc)


def resolver_state(path, environ):
    """resolv.conf as glibc reads it, with ``$RES_OPTIONS`` and
    ``$LOCALDOMAIN`` applied, and the cost of a lost lookup under it."""
    from greenfix.resolvers import resolvconf
    text, error = read_file(path)
    conf = resolvconf.parse(text, environ)
    state = {"path": path, "error": error, "exists": os.path.exists(path),
             "nameservers": ["%s" % ip for ip, _ in conf.nameservers],
             "search": list(conf.search), "sortlist": conf.sortlist,
             "environment": dict((key, environ[key]) for key in ("RES_OPTIONS", "LOCALDOMAIN")
                                 if key in environ)}
    for option in ("ndots", "timeout", "attempts", "rotate", "single_request",
                   "single_request_reopen", "use_vc", "no_tld_query", "no_aaaa"):
        state[option] = getattr(conf, option)
    state["lost_lookup"] = worst_lost_lookup(conf)
    return state, conf


def nsswitch_state(path):
    from greenfix.resolvers import nsswitch
    text, error = read_file(path)
    sources = nsswitch.parse_hosts(text)
    return {"path": path, "error": error, "hosts": list(sources),
            "supported": nsswitch.supported(sources)}, sources


def hosts_state(path):
    from greenfix.resolvers import hostsfile
    text, error = read_file(path)
    lines = list(hostsfile.entries(text))
    names = set(hostsfile.ascii_lower(name) for _, line_names in lines for name in line_names)
    return {"path": path, "error": error, "entries": len(lines), "names": len(names)}


def backend_state(resolver, conf, sources, environ):
    """The backend ``patch()`` would build and what "auto" leaves to libc,
    with the reasons (:mod:`greenfix.resolvers.choice` decides)."""
    from greenfix.errors import GreenfixError
    from greenfix.resolvers import choice
    from greenfix.resolvers.sorting import gai_conf_directives
    gai_text, gai_error = read_file(GAI_CONF)
    unavailable = choice.greendns_unavailable(environ)
    state = {"resolver": resolver, "greendns_unavailable": unavailable, "error": None,
             "gai_conf_error": gai_error, "gai_conf_directives": gai_conf_directives(gai_text)}
    try:
        state["kind"], state["reason"] = choice.process_backend(resolver, unavailable)
    except GreenfixError as exc:
        state["kind"], state["reason"], state["error"] = None, None, str(exc)
    state["libc_reason"] = choice.libc_reason(sources, conf.sortlist,
                                              state["gai_conf_directives"])
    return state


# -- --resolve NAME: greenfix's backends and libc side by side (I/O) --------

class _ThisProcessSockets(object):
    """The socket module as this process has it (green once a framework
    monkey-patched it, blocking where no hub would be blocked), for the
    green backend's queries."""

    @staticmethod
    def green_socket():
        return socket


def _eai_name(code):
    for name in dir(socket):
        if name.startswith("EAI_") and getattr(socket, name) == code:
            return name
    return str(code)


def _timed(function, *args):
    """``(first address or "EAI_..." name, seconds)`` of one lookup."""
    from greenfix.compat import clock
    from greenfix.resolvers import LookupFailed
    start = clock()
    try:
        outcome = function(*args)
    except LookupFailed as exc:
        outcome = _eai_name(exc.code)
    except socket.gaierror as exc:
        outcome = _eai_name(exc.errno)
    else:
        outcome = outcome.address if hasattr(outcome, "address") else outcome[0][4][0]
    return outcome, round(clock() - start, 6)


def _lookup_pool():
    """A lookup pool for the thread-pool backend: the framework's where one
    monkey-patched this process, else one waiting with time.sleep."""
    from greenfix import frameworks
    name = frameworks.detect()
    if name is not None and frameworks.load(name).is_monkey_patched():
        return frameworks.load(name).make_pool(2)
    import importlib
    import time
    from greenfix.compat import THREAD_MODULE
    from greenfix.pool import LookupPool
    return LookupPool(2, time.sleep, importlib.import_module(THREAD_MODULE))


def _backends(options):
    """``[(name, resolve function or why it cannot run)]``, and the pool
    to close afterwards."""
    from greenfix.resolvers import greendns
    from greenfix.resolvers.threadpool import ThreadPoolResolver
    rows = []
    try:
        rows.append(("greendns", greendns.GreenDNSResolver(options, _ThisProcessSockets).resolve))
    except greendns.Unavailable as exc:
        rows.append(("greendns", "unavailable: %s" % (exc,)))
    pool = _lookup_pool()
    rows.append(("threadpool", ThreadPoolResolver(pool).resolve))
    return rows, pool


def resolve_side_by_side(name, options):
    """One lookup of ``name`` per family through each of greenfix's
    backends and through libc, in this process: ``[{"family", "backend",
    "answer" (first address or EAI name), "seconds"}]``."""
    from greenfix.libc import libc_getaddrinfo
    if isinstance(name, bytes):  # Python 2's str: handed to libc as it is
        host = name
    else:
        host = name.encode("ascii") if _is_ascii(name) else name.encode("idna")
    rows, pool = _backends(options)
    results = []
    try:
        for family_name in ("AF_INET", "AF_INET6"):
            family = getattr(socket, family_name)
            answer, seconds = _timed(libc_getaddrinfo, host, None, family)
            results.append({"family": family_name, "backend": "libc", "answer": answer,
                            "seconds": seconds})
            for backend, resolve in rows:
                answer, seconds = (resolve, None) if not callable(resolve) \
                    else _timed(resolve, host, family)
                results.append({"family": family_name, "backend": backend,
                                "answer": answer, "seconds": seconds})
    finally:
        pool.close()
    return results


def _is_ascii(text):
    try:
        text.encode("ascii")
    except UnicodeError:
        return False
    return True


# -- the report ------------------------------------------------------------

def report(resolve=None, environ=None):
    """Everything ``greenfix doctor`` prints, as a JSON-able dict; with
    ``resolve`` (a host name) also :func:`resolve_side_by_side` of it."""
    from greenfix.errors import GreenfixError
    from greenfix.options import Options
    environ = os.environ if environ is None else environ
    try:
        options, options_error = Options(), None
    except GreenfixError as exc:
        options, options_error = Options(resolver="auto"), str(exc)
    resolv_conf, conf = resolver_state(options.resolv_conf, environ)
    nsswitch, sources = nsswitch_state(options.nsswitch)
    result = {"versions": versions(), "framework": framework_state(),
              "resolv_conf": resolv_conf, "nsswitch": nsswitch,
              "hosts": hosts_state(options.hosts), "options_error": options_error,
              "backend": backend_state(options.resolver, conf, sources, environ)}
    if resolve is not None:
        from greenfix.resolvers import choice
        result["resolve"] = {"name": resolve, "results": resolve_side_by_side(resolve, options),
                             "lost_lookup": _lost_lookup_of(conf, resolve),
                             "libc_reason": choice.libc_reason(
                                 sources, conf.sortlist, result["backend"]["gai_conf_directives"],
                                 _as_bytes(resolve))}
    result["problems"] = problems(result)
    result["advice"] = advice(result)
    return result


def _as_bytes(name):
    return name if isinstance(name, bytes) else name.encode("idna")


def _lost_lookup_of(conf, name):
    from greenfix.libc import needs_lookup
    host = _as_bytes(name)
    if not needs_lookup(host, socket.AF_UNSPEC):
        return None  # a literal: libc looks nothing up
    from greenfix.resolvers.search import host_alias
    return lost_lookup(conf, host, aliases=host_alias)


def problems(result):
    """What is broken (see the module docstring); no I/O."""
    found = [result[key]["error"] for key in ("resolv_conf", "nsswitch", "hosts")
             if result[key]["error"]]
    if result["options_error"]:
        found.append(result["options_error"])
    backend = result["backend"]
    if backend["error"]:
        found.append(backend["error"])
    elif (backend["greendns_unavailable"] or "").startswith("dnspython cannot be imported"):
        found.append("greendns is unavailable: %s" % backend["greendns_unavailable"])
    return found


def advice(result):
    """Findings worded as advice; no I/O."""
    found = _cost_advice(result) + _process_advice(result)
    backend = result["backend"]
    if backend["kind"] == "threadpool":
        found.append("greenfix would resolve with libc in its thread pool: %s; each "
                     "lookup in flight holds a native thread" % backend["reason"])
    elif backend["libc_reason"]:
        found.append("\"auto\" leaves lookups to libc in greenfix's thread pool: %s"
                     % backend["libc_reason"])
    hosts = result["hosts"]
    found.append("%s has %d entries (%d names): those names never reach DNS"
                 % (hosts["path"], hosts["entries"], hosts["names"]))
    return found


def _cost_advice(result):
    conf, sources = result["resolv_conf"], result["nsswitch"]["hosts"]
    if "dns" not in sources:
        return ["nsswitch.conf's hosts: line has no dns source: no DNS reply can be lost"]
    cost = conf["lost_lookup"]
    if cost["seconds"] is None:
        return ["resolv.conf says use-vc (DNS over TCP): greenfix does not estimate "
                "its worst case; greenfix.patch() keeps it off the hub all the same"]
    found = ["your resolv.conf makes a lost DNS reply cost %s s per lookup, and a DNS "
             "server that answers nothing %s s for a name like '%s' (%d %s x %s s); "
             "unpatched, the hub and every green thread wait that long: "
             "greenfix.patch() keeps that off the hub"
             % (_seconds(cost["one_lost_reply"]), _seconds(cost["seconds"]), cost["name"],
                len(cost["queries"]), "query" if len(cost["queries"]) == 1 else "queries",
                _seconds(cost["seconds_per_query"]))]
    if not conf["exists"]:
        found.append("there is no %s: glibc asks a nameserver on 127.0.0.1" % conf["path"])
    return found


def _seconds(value):
    return ("%.3f" % value).rstrip("0").rstrip(".")


def _process_advice(result):
    """Whether this process is protected; in a process without a framework,
    what would happen after monkey-patching."""
    state, installed = result["framework"], result["versions"]
    patched = [name for name in FRAMEWORKS if state["monkey_patched"][name]]
    if state["greenfix_patched"]:
        return ["greenfix is active in this process: host names in socket calls are "
                "resolved off the hub"]
    if patched:
        name = patched[0]
        if name not in state["greenfix_supports"]:
            return ["%s has monkey-patched this process, and this greenfix cannot patch %s "
                    "sockets yet: their host names are still resolved on the hub" % (name, name)]
        return ["%s has monkey-patched this process but greenfix is not active: call "
                "greenfix.patch() after %s's monkey-patching" % (name, name)]
    found = []
    for name in FRAMEWORKS:
        if not installed[name]:
            continue
        if name in state["greenfix_supports"]:
            found.append("%s %s is installed: after its monkey-patching and greenfix.patch(), "
                         "host names in socket calls resolve off the hub (backend: %s)"
                         % (name, installed[name], result["backend"]["kind"]))
        else:
            found.append("%s %s is installed: this greenfix cannot patch its sockets yet"
                         % (name, installed[name]))
    return found or ["neither eventlet nor gevent is installed: greenfix has nothing to patch"]


# -- text output -----------------------------------------------------------

def format_text(result):
    """The report as the command line prints it by default."""
    conf, versions_found, state = result["resolv_conf"], result["versions"], result["framework"]
    lines = ["versions: " + ", ".join("%s %s" % (name, versions_found[name] or "not installed")
                                      for name in ("python", "greenfix", "glibc", "eventlet",
                                                   "gevent", "dnspython")),
             "this process: framework %s, monkey-patched by %s, greenfix %s" % (
                 state["detected"] or "none",
                 ", ".join(n for n in FRAMEWORKS if state["monkey_patched"][n]) or "nothing",
                 "active" if state["greenfix_patched"] else "not active"),
             "%s: nameservers %s; search %s; ndots %d, timeout %d, attempts %d%s%s" % (
                 conf["path"], " ".join(conf["nameservers"]), " ".join(conf["search"]) or "-",
                 conf["ndots"], conf["timeout"], conf["attempts"],
                 ", rotate" if conf["rotate"] else "",
                 "".join(" (%s=%r)" % item for item in sorted(conf["environment"].items()))),
             "nsswitch hosts: %s" % " ".join(result["nsswitch"]["hosts"]),
             "backend: %s (%s)" % (result["backend"]["kind"], result["backend"]["reason"]
                                   or result["backend"]["error"])]
    for row in (result.get("resolve") or {}).get("results", []):
        seconds = "" if row["seconds"] is None else "  %.4f s" % row["seconds"]
        lines.append("resolve %s %-8s %-10s %s%s" % (result["resolve"]["name"], row["family"],
                                                     row["backend"], row["answer"], seconds))
    lines += ["advice: " + text for text in result["advice"]]
    lines += ["BROKEN: " + text for text in result["problems"]]
    return "\n".join(lines) + "\n"
