# -*- coding: utf-8 -*-
"""Runs one recipe of docs/recipes.rst inside a private network namespace
(``tests/test_recipes.py`` starts it with ``netns.run_in_netns``).

``python recipes_child.py RECIPE FRAMEWORK``: serves ``logs.example.test``
from the test DNS server on 127.0.0.1:53 (the namespace's resolv.conf names
it), listens where the recipes log to (syslog 514, DatagramHandler 9021,
GELF 12201), copies the recipe's directory from docs/recipes/ into the
current (temporary) directory, runs its commands as docs/recipes.rst shows
them (:data:`COMMANDS`), and emits one report: what the recipe's program
answered, the datagrams that arrived, and how many DNS queries for the log
host reached the server.  Python 3 only, like the ``recipes`` tox env.
"""

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib

from urllib.request import urlopen

import netns
from dnsserver import DNSServer

LOG_HOST = "logs.example.test"
SYSLOG_PORT, DATAGRAM_PORT, GELF_PORT = 514, 9021, 12201
RECIPES_DIR = os.path.join(netns.REPO_ROOT, "docs", "recipes")

#: Each recipe's commands, word for word as docs/recipes.rst shows them
#: (tests/test_recipes.py checks that they are there), by framework:
#: ("serve", command) runs in the background until the recipe is done,
#: ("run", command) runs to its end and its last stdout line is the answer,
#: ("get", url) is an HTTP request whose body is the answer.
COMMANDS = {
    ("gunicorn", "eventlet"): [
        ("serve", "gunicorn -c gunicorn.conf.py -k eventlet app:app"),
        ("get", "http://127.0.0.1:8000/")],
    ("gunicorn", "gevent"): [
        ("serve", "gunicorn -c gunicorn.conf.py -k gevent app:app"),
        ("get", "http://127.0.0.1:8000/")],
    ("celery", "eventlet"): [
        ("serve", "celery -A tasks worker -P eventlet -c 4 -l INFO"),
        ("run", "python client.py")],
    ("celery", "gevent"): [
        ("serve", "celery -A tasks worker -P gevent -c 4 -l INFO"),
        ("run", "python client.py")],
    ("socketio", "eventlet"): [
        ("serve", "python app.py eventlet"),
        ("get", "http://127.0.0.1:5000/status")],
    ("socketio", "gevent"): [
        ("serve", "python app.py gevent"),
        ("get", "http://127.0.0.1:5000/status")],
    ("logging", "eventlet"): [
        ("run", "python logdemo.py eventlet")],
    ("logging", "gevent"): [
        ("run", "python logdemo.py gevent")],
    ("oslo", "eventlet"): [
        ("run", "python service.py")],
}


class Receivers(object):
    """UDP sockets on 127.0.0.1 where the recipes send their log records."""

    def __init__(self, ports):
        self.sockets = {}
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", port))
            sock.settimeout(0.2)
            self.sockets[port] = sock
        self.received = dict((port, []) for port in ports)
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._receive, args=(port,))
                        for port in ports]
        for thread in self.threads:
            thread.daemon = True
            thread.start()

    def _receive(self, port):
        while not self.done.is_set():
            try:
                self.received[port].append(self.sockets[port].recv(65536))
            except socket.timeout:
                pass

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join()


def decode(port, data):
    """The message text of one datagram, as each handler encodes it."""
    if port == SYSLOG_PORT:
        return data.decode("utf-8", "replace")
    if port == DATAGRAM_PORT:   # 4-byte length, then a pickled record dict
        return pickle.loads(data[4:])["msg"]
    return json.loads(zlib.decompress(data).decode("utf-8"))["short_message"]


def fetch(url, deadline):
    """The body of ``url`` once the server answers (it may still be starting)."""
    while True:
        try:
            return urlopen(url, timeout=30).read().decode("utf-8")
        except (IOError, OSError):
            if time.time() > deadline:
                raise
            time.sleep(0.3)


def run_recipe(commands, deadline):
    """Run the commands; -> (answer text, output of the background servers)."""
    servers, answer = [], None
    try:
        for kind, command in commands:
            if kind == "serve":
                servers.append(subprocess.Popen(
                    command.split(), stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT))
            elif kind == "get":
                answer = fetch(command, deadline)
            else:
                done = subprocess.run(command.split(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE,
                                      timeout=deadline - time.time())
                out = done.stdout.decode("utf-8", "replace")
                if done.returncode != 0 or not out.strip():
                    raise RuntimeError("%s exited %s:\n%s%s" % (
                        command, done.returncode, out, done.stderr.decode("utf-8", "replace")))
                answer = out.strip().splitlines()[-1]
    finally:
        outputs = []
        for server in servers:
            server.terminate()
            try:
                outputs.append(server.communicate(timeout=20)[0].decode("utf-8", "replace"))
            except subprocess.TimeoutExpired:
                server.kill()
                outputs.append(server.communicate()[0].decode("utf-8", "replace"))
    return answer, outputs


def main(recipe, framework):
    shutil.copytree(os.path.join(RECIPES_DIR, recipe), recipe)
    os.chdir(recipe)
    os.environ["HOME"] = os.getcwd()   # what the programs write there stays here
    server = DNSServer(port=53).start()
    server.add(LOG_HOST, "A", "127.0.0.1", ttl=60)
    server.add_soa("example.test", minimum=30)
    receivers = Receivers((SYSLOG_PORT, DATAGRAM_PORT, GELF_PORT))
    report = {"answer": None, "error": None, "outputs": []}
    try:
        answer, report["outputs"] = run_recipe(COMMANDS[recipe, framework], time.time() + 90)
        report["answer"] = json.loads(answer)
    except Exception as exc:   # reported, and the test shows it with the outputs
        report["error"] = "%s: %s" % (type(exc).__name__, exc)
    time.sleep(0.5)   # the last datagrams
    receivers.stop()
    server.stop()
    report["received"] = dict(
        (str(port), [decode(port, data) for data in datagrams])
        for port, datagrams in receivers.received.items())
    report["dns_queries"] = server.count(LOG_HOST)
    netns.emit(report)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
