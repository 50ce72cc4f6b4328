"""greenfix next to the alternatives, side by side in one run (issue 15).

    python benchmarks/bench_compare.py                  # about 3 minutes
    python benchmarks/bench_compare.py --quick          # about 1 minute
    python benchmarks/bench_compare.py --plot out.png   # and a chart (matplotlib)
    python benchmarks/run.py --compare                  # as an extra table of run.py

Three measures, each configuration in a child process of its own (eventlet
and gevent cannot share a process):

1. A ``logging.handlers.SysLogHandler`` logging over UDP to a host *name*,
   one record every 10 ms, at 0 %, 1 % and 5 % DNS loss: the worst hub
   freeze (the largest gap of a green thread that ticks every millisecond,
   net of time the hub thread waited for a CPU), the p99 and worst emit
   latency, and the records lost, for unpatched eventlet, eventlet +
   greenfix, unpatched gevent, gevent + greenfix and a pre-resolved IP (the
   usual workaround: look the name up once at start, log to the address).
2. Cold lookup latency, one ``getaddrinfo(name, 80, 0, SOCK_STREAM)`` per
   uncached name, through each backend: greenfix's greendns stub and thread
   pool, libc direct, asyncio's ``loop.getaddrinfo``, eventlet's greendns and
   gevent's thread, dnspython and ares resolvers.
3. The DNS queries that reach the server when 1,000 green threads send one
   datagram each to the same name at once.

Every process runs inside one private mount + network namespace (root;
tests/netns.py) whose /etc/resolv.conf is a bind-mounted file naming the
test DNS server (tests/dnsserver.py) on 127.0.0.1:53 with ``options
timeout:1 attempts:2``, so libc, eventlet's greendns, gevent's resolvers and
greenfix all ask it, and no packet leaves the namespace.  The server answers
with TTL 1 s for the log host (greenfix refreshes it every second, so the
loss reaches it too), drops a fraction of the queries for it from a seeded
generator (the same draws for every configuration), and counts every query.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTS = os.path.join(ROOT, "tests")
for _path in (ROOT, TESTS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from benchmarks import compare_child  # noqa: E402  (the standard library only)

LOSSES = (0, 1, 5)          # percent of the log host's DNS replies dropped
TIMEOUT, ATTEMPTS = 1, 2    # the namespace's resolv.conf options
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:%d attempts:%d\n" % (TIMEOUT, ATTEMPTS)
ZONE = "example.test"
SEED = 15
INTERVAL = 0.01             # seconds between two records
FREEZE_TARGET = 0.05        # greenfix rows: worst hub freeze below this
SIZES = {"full": dict(records=300, names=200, senders=1000),
         "quick": dict(records=100, names=50, senders=1000)}
CONFIGS = ["eventlet", "eventlet+greenfix", "gevent", "gevent+greenfix", "pre-resolved IP"]
BACKENDS = list(compare_child.BACKENDS)


def log_host(loss):
    return "logs-%d.%s" % (loss, ZONE)


FLOCK_HOST = "flock." + ZONE
WARM_HOST = "warm." + ZONE


def cold_host(index):
    return "cold-%d.%s" % (index, ZONE)


# ---------------------------------------------------------------------------
# Inside the namespace: the server, the receiver, the children.

class Receiver(object):
    """A UDP socket on 127.0.0.1 that counts the distinct records of each
    tag ("config|loss") the SysLogHandlers deliver, in a native thread."""

    def __init__(self):
        import socket
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen, self.lock = {}, threading.Lock()
        thread = threading.Thread(target=self._run, name="syslog-receiver")
        thread.daemon = True
        thread.start()

    def _run(self):
        while True:
            data = self.sock.recv(65536).decode("utf-8", "replace")
            # "<14>eventlet|5 17\x00": priority, tag, record number
            tag, _, index = data.split(">", 1)[-1].rstrip("\x00").rpartition(" ")
            with self.lock:
                self.seen.setdefault(tag, set()).add(index)

    def received(self, tag):
        time.sleep(0.2)   # loopback delivers at once; the thread may lag
        with self.lock:
            return len(self.seen.get(tag, ()))


def start_server(names):
    from dnsserver import DNSServer
    server = DNSServer(port=53).start()
    for loss in LOSSES:
        server.add(log_host(loss), "A", "127.0.0.1", ttl=1)
    server.add(FLOCK_HOST, "A", "127.0.0.1", ttl=60)
    for index in range(names):
        server.add(cold_host(index), "A", "192.0.2.%d" % (index % 250 + 1), ttl=60)
    server.add(WARM_HOST, "A", "192.0.2.254", ttl=60)
    server.add_soa(ZONE, minimum=30)
    return server


def set_losses(server):
    """The same seeded drops for every configuration."""
    server.reset_behaviors()
    for loss in LOSSES:
        if loss:
            server.set_behavior("drop_fraction", name=log_host(loss),
                                fraction=loss / 100.0, seed=SEED)


def dropped(queries, loss):
    """How many of ``queries`` queries the server dropped: its generator's
    draws replayed (one per query for the name, in order)."""
    draws = random.Random(SEED)
    return sum(1 for _ in range(queries) if draws.random() < loss / 100.0)


def run_child(kind, which, params, timeout):
    """compare_child.py KIND WHICH PARAMS -> its JSON result, or
    {"error": ...} when it failed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, TESTS]))
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "compare_child.py"), kind,
                             which, json.dumps(params)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=HERE)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        out, err = proc.communicate()
    finally:
        timer.cancel()
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    return {"error": "exit %s: %s" % (proc.returncode, tail[0])}


def measure_syslog(server, receiver, config, sizes):
    """One configuration's emits and concurrent senders, with the server's
    counts and the receiver's."""
    set_losses(server)
    server.clear_log()
    params = {"levels": [{"loss": loss, "host": log_host(loss)} for loss in LOSSES],
              "receiver_port": receiver.port, "records": sizes["records"],
              "interval": INTERVAL, "flock_host": FLOCK_HOST, "senders": sizes["senders"]}
    budget = 60 + sizes["records"] * len(LOSSES) * (INTERVAL + 0.1 * TIMEOUT * ATTEMPTS)
    result = run_child("syslog", config, params, budget)
    result.setdefault("config", config)
    if "error" in result:
        return result
    for loss in LOSSES:
        row = result["loss"][str(loss)]
        row["queries"] = server.count(log_host(loss))
        row["dropped"] = dropped(row["queries"], loss)
        row["received"] = receiver.received("%s|%s" % (config, loss))
    result["flock"]["queries"] = server.count(FLOCK_HOST)
    return result


def measure_cold(server, backend, sizes):
    server.reset_behaviors()
    params = {"hosts": [cold_host(index) for index in range(sizes["names"])],
              "warm_host": WARM_HOST}
    result = run_child("cold", backend, params, 60 + sizes["names"] * 2.0)
    result.setdefault("backend", backend)
    return result


def inner(options):
    """The whole comparison, run inside the namespace: -> a JSON-able dict
    (printed with netns.emit)."""
    sizes = options["sizes"]
    server = start_server(sizes["names"])
    receiver = Receiver()
    try:
        syslog = []
        for config in options["configs"]:
            progress("syslog: %s" % config)
            syslog.append(measure_syslog(server, receiver, config, sizes))
        cold = []
        for backend in options["backends"]:
            progress("cold lookups: %s" % backend)
            cold.append(measure_cold(server, backend, sizes))
    finally:
        server.stop()
    return {"syslog": syslog, "cold": cold, "sizes": sizes, "machine": machine()}


def progress(text):
    sys.stderr.write("[bench_compare] %s\n" % text)
    sys.stderr.flush()


def machine():
    """What the figures were measured on."""
    versions = {}
    for name in ("eventlet", "gevent", "dns"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", None) or module.version.version
        except Exception:
            versions[name] = None
    import greenfix
    return {"uname": " ".join(platform.uname()), "cores": cpu_count(),
            "python": platform.python_version(), "greenfix": greenfix.__version__,
            "versions": versions, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def cpu_count():
    import multiprocessing
    return multiprocessing.cpu_count()


# ---------------------------------------------------------------------------
# Outside: start the namespace, read its report.

INNER_SCRIPT = """
import json, sys
sys.path[:0] = %r
import netns
from benchmarks import bench_compare
netns.emit(bench_compare.inner(json.loads(%r)))
"""


def run(quick=False, configs=None, backends=None, **size_overrides):
    """Run the comparison in a namespace -> a :class:`Comparison` (its
    ``render()`` and ``passed`` serve benchmarks/run.py too)."""
    import netns
    ok, reason = netns.netns_available()
    if not ok:
        raise RuntimeError("the comparison needs a private network namespace: " + reason)
    sizes = dict(SIZES["quick" if quick else "full"])
    sizes.update((key, value) for key, value in size_overrides.items() if value)
    options = {"sizes": sizes, "configs": configs or CONFIGS, "backends": backends or BACKENDS}
    script = INNER_SCRIPT % ([ROOT, TESTS], json.dumps(options))
    result = netns.run_in_netns(script, RESOLV_CONF, timeout=1800)
    sys.stderr.write(result.stderr)
    return Comparison(result.check().report())


# ---------------------------------------------------------------------------
# The tables.

def ms(seconds):
    if seconds is None:
        return "-"
    return "%.0f ms" % (seconds * 1e3) if seconds >= 0.0995 else "%.2f ms" % (seconds * 1e3)


def shorten(text, width=100):
    """A long note (a failure's exception chain) cut for the table; the
    JSON (--json) keeps it whole."""
    return text if len(text) <= width else text[:width - 3] + "..."


def columns(rows):
    """Rows of cells -> aligned lines, a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    rule = "  ".join("-" * width for width in widths)
    return [rule, lines[0], rule] + lines[1:] + [rule]


class Comparison(object):
    """The measured figures (``data``, as JSON) and their tables."""

    title = "comparison: greenfix, eventlet, gevent, libc, a pre-resolved IP"

    def __init__(self, data):
        self.data = data

    def greenfix_failures(self):
        """Rows where greenfix was patched yet the hub froze, or 1,000
        senders cost more than one query: the targets run.py checks."""
        failures = []
        for result in self.data["syslog"]:
            if not result.get("greenfix"):
                continue
            for loss, row in sorted(result["loss"].items()):
                if row["net_gap"] >= FREEZE_TARGET:
                    failures.append("%s at %s%% loss froze %s" % (
                        result["config"], loss, ms(row["net_gap"])))
            if result["flock"]["queries"] > 1:
                failures.append("%s: %d queries for one name" % (
                    result["config"], result["flock"]["queries"]))
        return failures

    @property
    def passed(self):
        return not self.greenfix_failures()

    def syslog_lines(self):
        rows = [("configuration", "DNS loss", "worst freeze", "p99 emit", "max emit",
                 "lost / sent", "queries (dropped)")]
        for result in self.data["syslog"]:
            if "error" in result:
                rows.append((result["config"], "-", "failed: " + result["error"], "", "", "", ""))
                continue
            for loss in LOSSES:
                row = result["loss"][str(loss)]
                rows.append((result["config"], "%d %%" % loss, ms(row["net_gap"]),
                             ms(row["p99"]), ms(row["max"]),
                             "%d / %d" % (row["sent"] - row["received"], row["sent"]),
                             "%d (%d)" % (row["queries"], row["dropped"])))
        return columns(rows)

    def cold_lines(self):
        rows = [("backend", "median", "p90", "names (failed)", "note")]
        for result in self.data["cold"]:
            if "error" in result:
                rows.append((result["backend"], "-", "-", "-", "failed: " + result["error"]))
                continue
            rows.append((result["backend"], ms(result["median"]), ms(result["p90"]),
                         "%d (%d)" % (result["names"], result["failures"]), result["note"]))
        rows = [row[:4] + (shorten(row[4]),) for row in rows]
        return columns(rows)

    def flock_lines(self):
        rows = [("configuration", "queries at the server", "worst freeze", "all sent in",
                 "errors")]
        for result in self.data["syslog"]:
            if "error" in result:
                continue
            flock = result["flock"]
            rows.append((result["config"], str(flock["queries"]), ms(flock["net_gap"]),
                         ms(flock["elapsed"]), str(flock["errors"])))
        return columns(rows)

    def notes(self):
        return ["   %s: %s" % (result["config"], result["note"])
                for result in self.data["syslog"] if result.get("note")]

    def render(self):
        sizes, where = self.data["sizes"], self.data["machine"]
        lines = ["== %s ==" % self.title,
                 "   %s, %s cores, Python %s, greenfix %s, %s" % (
                     where["date"], where["cores"], where["python"], where["greenfix"],
                     ", ".join("%s %s" % item for item in sorted(where["versions"].items()))),
                 "   resolv.conf: options timeout:%d attempts:%d, one nameserver" % (
                     TIMEOUT, ATTEMPTS),
                 "",
                 "SysLogHandler over UDP to a name (TTL 1 s), %d records %d ms apart per row" % (
                     sizes["records"], INTERVAL * 1000)]
        lines += self.syslog_lines() + self.notes()
        lines += ["", "cold lookups: getaddrinfo(name, 80, 0, SOCK_STREAM), %d uncached names"
                  % sizes["names"]]
        lines += self.cold_lines()
        lines += ["", "%d green threads sending one datagram each to one name at once"
                  % sizes["senders"]]
        lines += self.flock_lines()
        failures = self.greenfix_failures()
        lines.append("%s: %s" % (self.title, "PASS" if not failures
                                 else "FAIL (" + "; ".join(failures) + ")"))
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# The chart (matplotlib, an optional extra: pip install greenfix[plot]).

def require_matplotlib():
    """matplotlib, imported only for --plot; missing: a clear message."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'greenfix[plot]' "
                         "(or pip install matplotlib)")
    return matplotlib


def plot(comparison, path):
    """Four panels: freeze and p99 emit per configuration and loss, cold
    lookups per backend, queries for the concurrent senders."""
    matplotlib = require_matplotlib()
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    figure, axes = pyplot.subplots(2, 2, figsize=(15, 10))
    syslog = [result for result in comparison.data["syslog"] if "error" not in result]
    bars_by_loss(axes[0][0], syslog, "net_gap", "worst hub freeze (ms)")
    bars_by_loss(axes[0][1], syslog, "p99", "p99 SysLogHandler.emit (ms)")
    cold = [result for result in comparison.data["cold"] if "error" not in result]
    horizontal_bars(axes[1][0], [r["backend"] for r in cold],
                    [("median", [r["median"] * 1e3 for r in cold]),
                     ("p90", [r["p90"] * 1e3 for r in cold])], "cold lookup (ms)")
    horizontal_bars(axes[1][1], [r["config"] for r in syslog],
                    [("queries", [r["flock"]["queries"] for r in syslog])],
                    "queries for %d concurrent senders" % comparison.data["sizes"]["senders"])
    axes[1][1].set_xscale("log")
    figure.suptitle("greenfix comparison, %s" % comparison.data["machine"]["date"])
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def horizontal_bars(axes, labels, series, label):
    """One row per label, one bar per (name, values) series."""
    height = 0.8 / len(series)
    for offset, (name, values) in enumerate(series):
        axes.barh([index + offset * height for index in range(len(labels))], values, height,
                  label=name)
    axes.set_yticks([index + height * (len(series) - 1) / 2.0 for index in range(len(labels))])
    axes.set_yticklabels(labels)
    axes.set_xlabel(label)
    axes.legend()


def bars_by_loss(axes, syslog, key, label):
    """Grouped bars: one group per configuration, one bar per loss level,
    on a log scale (the figures span microseconds to seconds)."""
    width = 0.8 / len(LOSSES)
    for offset, loss in enumerate(LOSSES):
        values = [max(result["loss"][str(loss)][key] * 1e3, 1e-3) for result in syslog]
        axes.bar([index + offset * width for index in range(len(syslog))], values, width,
                 label="%d %% loss" % loss)
    axes.set_xticks([index + width for index in range(len(syslog))])
    axes.set_xticklabels([result["config"] for result in syslog], rotation=20)
    axes.set_yscale("log")
    axes.set_ylim(bottom=0.01)
    axes.set_ylabel(label)
    axes.legend()


def arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer records and names")
    parser.add_argument("--records", type=int, help="records per configuration and loss")
    parser.add_argument("--names", type=int, help="uncached names per backend")
    parser.add_argument("--senders", type=int, help="concurrent senders to one name")
    parser.add_argument("--configs", help="comma-separated subset of: " + ", ".join(CONFIGS))
    parser.add_argument("--backends", help="comma-separated subset of: " + ", ".join(BACKENDS))
    parser.add_argument("--plot", metavar="PNG", help="draw the figures (needs matplotlib)")
    parser.add_argument("--json", metavar="PATH", help="write the raw figures as JSON")
    return parser.parse_args(argv)


def main(argv):
    args = arguments(argv)
    subset = lambda text: text.split(",") if text else None  # noqa: E731
    if args.plot:   # fail before minutes of measuring, not after
        require_matplotlib()
    print("measuring (%s mode): each configuration in its own process..." % (
        "quick" if args.quick else "full"))
    sys.stdout.flush()
    comparison = run(args.quick, subset(args.configs), subset(args.backends),
                         records=args.records, names=args.names, senders=args.senders)
    print(comparison.render())
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(comparison.data, handle, indent=1, sort_keys=True)
    if args.plot:
        plot(comparison, args.plot)
        print("chart written to %s" % args.plot)
    return 0 if comparison.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
