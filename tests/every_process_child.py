"""Child of tests/test_every_process.py, run in the namespace harness with
the test DNS server on 127.0.0.1:53 (glibc: ``timeout:1 attempts:1``).

Scenes (each emits its reports; the test reads them):

``threads``   native threads after ``patch()`` and the hub's gap during the
              first lookup that needs libc (the pool's threads start then);
``fork``      for each backend: lookups in a child forked after the parent
              resolved (same hub; a new hub as gunicorn's workers take; a
              lookup in flight at the fork; multiprocessing);
``dark``      clients that connect through ``getaddrinfo()`` (a plain
              ``create_connection``, smtplib, redis-py) while DNS answers,
              then after it went dark and their answers expired;
``outage``    60 different lookups while DNS drops everything: what
              ``eventlet.tpool.execute(noop)`` waits meanwhile; and 30
              identical ones: how many queries reach the server.

Usage: ``python every_process_child.py SCENE [ARG]``.
"""

import os
import sys
import time

import eventlet
eventlet.monkey_patch()

import socket  # noqa: E402

from eventlet import patcher, tpool  # noqa: E402

import greenfix  # noqa: E402
import netns  # noqa: E402
from dnsserver import DNSServer  # noqa: E402
from heartbeat import Heartbeat, clock  # noqa: E402



def os_threads():
    """The process's OS threads (greenfix's lookup threads are bare
    ``start_new_thread`` ones, which ``threading`` does not list)."""
    return len(os.listdir("/proc/self/task"))
LOOKUP_LIMIT = 5.0   # a lookup that takes longer than this hangs


def outcome(call):
    try:
        value = call()
        return {"ok": True, "value": repr(value)}
    except Exception as exc:
        return {"ok": False, "type": type(exc).__name__, "message": str(exc)}


def bounded(call, seconds=LOOKUP_LIMIT):
    """``outcome(call)``, or a "hung" failure after ``seconds``."""
    try:
        with eventlet.Timeout(seconds):
            return outcome(call)
    except eventlet.Timeout:
        return {"ok": False, "type": "hung", "message": "no answer in %ss" % seconds}


def start_dns():
    server = DNSServer(port=53).start()
    for index in range(10):
        server.add("host%d.example.test" % index, "A", "127.0.0.1")
    server.add("svc.example.test", "A", "127.0.0.1", ttl=1)
    server.add("slow.example.test", "A", "127.0.0.1")
    server.add("same.example.test", "A", "127.0.0.1")
    server.add("single.example.test", "A", "127.0.0.1")
    server.add_soa("example.test", minimum=30)
    return server


def serve_forever(serve):
    """A TCP server on loopback whose green threads run ``serve(conn)`` for
    each connection; its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)

    def accept_forever():
        while True:
            conn, _ = sock.accept()
            eventlet.spawn_n(serve, conn)
    eventlet.spawn_n(accept_forever)
    return sock.getsockname()[1]


def listener():
    """A server that takes connections and closes them."""
    return serve_forever(lambda conn: conn.close())


# ------------------------------------------------------------------ threads

def scene_threads(server):
    before = os_threads()   # the DNS server's threads
    greenfix.patch()
    netns.emit({"scene": "threads", "before_patch": before,
                "after_patch": os_threads()})
    with Heartbeat() as beat:
        result = outcome(lambda: socket.getaddrinfo("host0.example.test", 80))
    netns.emit({"scene": "threads", "first_lookup": result, "gap": beat.net_gap,
                "after_lookup": os_threads()})


# ------------------------------------------------------------------ fork

def child_lookups(port, prefix):
    """What a forked child does: every kind of lookup, each bounded."""
    def connect():
        sock = socket.socket()
        try:
            sock.connect(("host5.example.test", port))
        finally:
            sock.close()
    return {
        "getaddrinfo": bounded(lambda: socket.getaddrinfo("host2.example.test", 80)),
        "create_connection": bounded(
            lambda: socket.create_connection(("host3.example.test", port), 3).close()),
        "gethostbyname": bounded(lambda: socket.gethostbyname("host4.example.test")),
        "connect": bounded(connect),
        "threads": os_threads(),
        "prefix": prefix,
    }


def in_child(work):
    """Fork; run ``work()`` in the child and emit what it returns; wait for
    the child in the parent (at most 30 s)."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            netns.emit(work())
        except BaseException as exc:
            netns.emit({"error": repr(exc)})
            code = 1
        finally:
            sys.stdout.flush()
            os._exit(code)
    deadline = clock() + 30
    while clock() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        eventlet.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "killed"


def scene_fork(server, backend):
    port = listener()
    greenfix.patch(resolver=backend, cache_size=0)
    # The parent resolves first: the pool's threads and the cache exist.
    parent = child_lookups(port, "parent")
    netns.emit(dict(parent, scene="fork", backend=backend, kind="parent"))

    status = in_child(lambda: dict(child_lookups(port, "child"), scene="fork",
                                   backend=backend, kind="same hub"))
    netns.emit({"scene": "fork-status", "backend": backend, "kind": "same hub",
                "status": status})

    def new_hub():
        from eventlet import hubs
        hubs.use_hub()   # what gunicorn's eventlet worker does after fork
        return dict(child_lookups(port, "child"), scene="fork", backend=backend,
                    kind="new hub")
    status = in_child(new_hub)
    netns.emit({"scene": "fork-status", "backend": backend, "kind": "new hub",
                "status": status})

    # A lookup in flight (DNS answers it 0.5 s late) when the process forks:
    # the child's copy of the waiting green thread must get its answer too.
    server.set_behavior("delay", name="slow.example.test", seconds=0.5)
    waiter = eventlet.spawn(socket.getaddrinfo, "slow.example.test", 80)
    eventlet.sleep(0.1)

    def in_flight():
        result = bounded(waiter.wait)
        return {"scene": "fork", "backend": backend, "kind": "in flight",
                "in_flight": result, "threads": os_threads()}
    status = in_child(in_flight)
    waiter.wait()
    netns.emit({"scene": "fork-status", "backend": backend, "kind": "in flight",
                "status": status})
    server.clear_behavior(name="slow.example.test")

    if sys.version_info >= (3, 4):
        import multiprocessing
        queue = multiprocessing.get_context("fork").SimpleQueue()

        def target():
            queue.put(bounded(lambda: socket.getaddrinfo("host6.example.test", 80)))
        process = multiprocessing.get_context("fork").Process(target=target)
        process.start()
        with eventlet.Timeout(30, False):
            result = queue.get()
            netns.emit({"scene": "fork", "backend": backend, "kind": "multiprocessing",
                        "getaddrinfo": result})
        process.join(5)
    greenfix.unpatch()


# ------------------------------------------------------------------ dark

def smtp_greeter():
    """Enough of SMTP for smtplib's connect and QUIT."""
    def serve(conn):
        conn.sendall(b"220 test ESMTP\r\n")
        reader = conn.makefile("rb")
        for line in reader:
            if line.upper().startswith(b"QUIT"):
                conn.sendall(b"221 bye\r\n")
                break
            conn.sendall(b"250 ok\r\n")
        conn.close()
    return serve_forever(serve)


REPLIES = {b"PING": b"+PONG\r\n",
           b"HELLO": b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"}


def resp_server():
    """A few commands of the Redis protocol: PING answers PONG, HELLO (the
    RESP3 handshake of redis-py >= 6) a map with the protocol, anything
    else OK: enough for redis-py's connect and ping."""
    def command(reader):
        header = reader.readline()
        if not header.startswith(b"*"):
            return None
        words = []
        for _ in range(int(header[1:])):
            size = int(reader.readline()[1:])
            words.append(reader.read(size + 2)[:size])
        return words

    def serve(conn):
        reader = conn.makefile("rb")
        while True:
            words = command(reader)
            if not words:
                break
            conn.sendall(REPLIES.get(words[0].upper(), b"+OK\r\n"))
        conn.close()
    return serve_forever(serve)


def dark_clients():
    import smtplib
    import redis
    port, smtp_port, redis_port = listener(), smtp_greeter(), resp_server()

    def smtp():
        client = smtplib.SMTP("svc.example.test", smtp_port, timeout=5)
        client.quit()

    def redis_ping():
        client = redis.Redis(host="svc.example.test", port=redis_port, socket_timeout=5)
        try:
            return client.ping()
        finally:
            client.connection_pool.disconnect()
    return {
        "create_connection": lambda: socket.create_connection(
            ("svc.example.test", port), 5).close(),
        "smtplib": smtp,
        "redis-py": redis_ping,
    }


def scene_dark(server):
    greenfix.patch(default_ttl=1)
    clients = dark_clients()
    for phase in ("answering", "dark"):
        if phase == "dark":
            server.set_behavior("drop")
            time.sleep(1.5)   # every answer (TTL 1 s) has expired
        for name, call in sorted(clients.items()):
            start = clock()
            with Heartbeat() as beat:
                result = bounded(call)
            netns.emit({"scene": "dark", "phase": phase, "client": name, "result": result,
                        "seconds": clock() - start, "gap": beat.net_gap})
    server.reset_behaviors()
    greenfix.unpatch()


# ------------------------------------------------------------------ outage

def scene_outage(server):
    greenfix.patch()
    # eventlet's pool running already, as in an application that uses it:
    # its first execute() starts 20 threads (30 to 60 ms), which is not the
    # starvation measured below
    tpool.execute(lambda: None)
    server.set_behavior("drop")
    lookups = [eventlet.spawn(bounded, lambda i=i: socket.getaddrinfo(
        "lost%d.example.test" % i, 80), 30) for i in range(60)]
    eventlet.sleep(0.2)
    waits = []
    for _ in range(10):
        start = clock()
        tpool.execute(lambda: None)
        waits.append(clock() - start)
        eventlet.sleep(0.1)
    results = [lookup.wait() for lookup in lookups]
    netns.emit({"scene": "outage", "tpool_waits": waits,
                "failed": sum(1 for r in results if r.get("type") == "gaierror"),
                "lookups": len(results)})
    server.reset_behaviors()

    server.clear_log()
    socket.getaddrinfo("single.example.test", 80)
    one_call = server.count("single.example.test")
    server.set_behavior("delay", seconds=0.3)
    same = [eventlet.spawn(socket.getaddrinfo, "same.example.test", 80) for _ in range(30)]
    answers = set(repr(lookup.wait()) for lookup in same)
    netns.emit({"scene": "outage", "one_call_queries": one_call,
                "same_queries": server.count("same.example.test"), "answers": len(answers)})
    server.reset_behaviors()
    greenfix.unpatch()


def main():
    scene = sys.argv[1]
    server = start_dns()
    if scene == "fork":
        scene_fork(server, sys.argv[2])
    else:
        globals()["scene_" + scene](server)
    server.stop()


if __name__ == "__main__":
    main()
