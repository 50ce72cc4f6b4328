# -*- coding: utf-8 -*-
"""Run a Python script whose *system* resolver sees a test DNS server.

As root, ``run_in_netns`` starts the script under ``unshare -m -n``: a private
mount namespace and a fresh network namespace that holds nothing but its own
loopback interface (brought up; no other link, no route is added, so nothing
can leave the machine).  Inside, private copies of ``/etc/resolv.conf``,
``/etc/hosts`` and ``/etc/nsswitch.conf`` are bind-mounted over the real ones,
so libc ``getaddrinfo`` reads the test's configuration.  The host's files are
never touched: the mounts exist only in the private mount namespace and vanish
with it.

glibc only talks to port 53, so the script itself starts the server::

    from dnsserver import DNSServer        # tests/ is on PYTHONPATH
    import netns                           # so is this module
    server = DNSServer(port=53).start()    # 127.0.0.1:53 inside the netns
    server.add('www.example.test', 'A', '192.0.2.10')
    netns.emit(netns.probe_getaddrinfo('www.example.test', 'AF_INET'))

and the test reads ``result.report()``.  The tests directory is prepended to
PYTHONPATH in the child, the repository root is not: the child imports the
installed greenfix, as the test process does (``tests/children.py``).

Public API
==========
``netns_available()`` -> ``(bool, reason)``
    Root, ``unshare`` and ``ip`` on PATH, and a probe (``unshare -m -n``,
    loopback up, a bind mount over /etc/hosts) that works.  Cached.
``require_netns()``
    For pytest: skip the test when namespaces are unavailable, but *fail* it
    when the environment variable ``CI`` is ``"true"`` (a skip must not hide
    a broken CI machine).
``run_in_netns(script_text, resolv_conf_text, hosts_text=None,
nsswitch_text='hosts: files dns\\n', env=None, timeout=120,
python=sys.executable, args=())`` -> :class:`NetnsResult`
    Run ``python script.py *args`` in new namespaces with those files.
    ``hosts_text=None`` means a minimal hosts file (localhost only).  ``env``
    entries are added to (value None: removed from) a copy of os.environ.  On
    timeout the whole process group is killed and ``timed_out`` is set.
``NetnsResult``
    ``returncode``, ``stdout``, ``stderr`` (text), ``elapsed`` (seconds),
    ``timed_out``; ``reports()`` -> every object the child passed to
    ``emit``; ``report()`` -> the last one; ``check()`` raises
    :class:`NetnsError` (with both outputs) unless returncode is 0.

Helpers for the child script (importable there as ``import netns``):

``emit(obj)``
    Print ``obj`` as one JSON line tagged for ``NetnsResult.reports()``.
``probe_getaddrinfo(host, family='AF_UNSPEC', port=None, socktype='SOCK_STREAM')``
    Call the ORIGINAL libc ``getaddrinfo`` (eventlet's unpatched socket
    module when eventlet is importable) and return a JSON-able dict:
    ``{'ok': True, 'addresses': [...], 'elapsed': s}`` or
    ``{'ok': False, 'errno': n, 'errname': 'EAI_AGAIN', 'message': str,
    'elapsed': s}``.
``eai_name(errno)``
    -2 -> 'EAI_NONAME', from the EAI_* constants of the socket module.

The child runs with the caller's environment plus PYTHONPATH (tests dir, then
the caller's PYTHONPATH without the repository root: ``children.child_env``),
PYTHONUNBUFFERED=1 and PYTHONDONTWRITEBYTECODE=1, in a temporary working
directory.  If a glibc nscd socket directory exists it is hidden under an empty
tmpfs so that libc cannot bypass the namespace through a unix socket.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

try:
    from shlex import quote as _quote
except ImportError:  # Python 2
    from pipes import quote as _quote

from children import REPO_ROOT, TESTS_DIR, child_env

__all__ = ['netns_available', 'require_netns', 'run_in_netns', 'NetnsResult',
           'NetnsError', 'emit', 'probe_getaddrinfo', 'eai_name', 'TESTS_DIR',
           'REPO_ROOT', 'DEFAULT_HOSTS']

DEFAULT_HOSTS = ('127.0.0.1\tlocalhost\n'
                 '::1\tlocalhost ip6-localhost ip6-loopback\n')

_REPORT_TAG = 'NETNS-REPORT '

# Directories of caching daemons whose unix socket would let libc bypass our
# files (a unix socket is not confined by the network namespace).  An empty
# tmpfs is mounted over those that exist.
_NSCD_DIRS = ('/var/run/nscd', '/run/nscd')


class NetnsError(Exception):
    pass


def _which(name):
    for d in os.environ.get('PATH', os.defpath).split(os.pathsep) + [
            '/usr/sbin', '/sbin', '/usr/bin', '/bin']:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def _run(argv, timeout, env=None, cwd=None):
    """Popen + communicate with a timeout on Python 2 and 3.

    -> (returncode, stdout bytes, stderr bytes, timed_out).  The child gets
    its own session so the whole group can be killed on timeout.
    """
    if sys.version_info[0] >= 3:
        session = {'start_new_session': True}
    else:
        session = {'preexec_fn': os.setsid}
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, close_fds=True, **session)
    state = {'timed_out': False}

    def kill():
        state['timed_out'] = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        out, err = proc.communicate(b'')
    finally:
        timer.cancel()
    return proc.returncode, out, err, state['timed_out']


_available = None


def netns_available():
    """-> (True, '') or (False, why not).  The probe runs once."""
    global _available
    if _available is not None:
        return _available
    if not sys.platform.startswith('linux'):
        _available = (False, 'network namespaces need Linux')
    elif os.geteuid() != 0:
        _available = (False, 'network namespaces need root (euid %d)'
                      % os.geteuid())
    elif _which('unshare') is None:
        _available = (False, '`unshare` (util-linux) not found')
    elif _which('ip') is None:
        _available = (False, '`ip` (iproute2) not found')
    else:
        probe = ('set -e; ip link set lo up; '
                 'mount --bind /etc/hosts /etc/hosts; true')
        try:
            rc, out, err, timed_out = _run(
                [_which('unshare'), '-m', '-n', '--', 'sh', '-c', probe], 30)
        except OSError as e:
            rc, out, err, timed_out = -1, b'', str(e).encode(), False
        if rc == 0:
            _available = (True, '')
        else:
            _available = (False, 'unshare -m -n probe failed (rc=%s%s): %s'
                          % (rc, ', timed out' if timed_out else '',
                             err.decode('utf-8', 'replace').strip()))
    return _available


def require_netns():
    """pytest helper: skip without namespaces; fail instead when CI=true."""
    import pytest
    ok, reason = netns_available()
    if ok:
        return
    if os.environ.get('CI') == 'true':
        pytest.fail('network namespaces required in CI: ' + reason)
    pytest.skip(reason)


class NetnsResult(object):
    def __init__(self, returncode, stdout, stderr, elapsed, timed_out):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.timed_out = timed_out

    def reports(self):
        out = []
        for line in self.stdout.splitlines():
            if line.startswith(_REPORT_TAG):
                out.append(json.loads(line[len(_REPORT_TAG):]))
        return out

    def report(self):
        reports = self.reports()
        if not reports:
            raise NetnsError('child emitted no report\n' + self.describe())
        return reports[-1]

    def check(self):
        if self.returncode != 0 or self.timed_out:
            raise NetnsError('child failed\n' + self.describe())
        return self

    def describe(self):
        return ('returncode=%s timed_out=%s elapsed=%.2fs\n'
                '--- stdout ---\n%s\n--- stderr ---\n%s'
                % (self.returncode, self.timed_out, self.elapsed,
                   self.stdout, self.stderr))

    def __repr__(self):
        return '<NetnsResult rc=%s elapsed=%.2fs%s>' % (
            self.returncode, self.elapsed,
            ' timed out' if self.timed_out else '')


def _mount_commands(target, source):
    """Shell lines that make `source` appear at the system file `target`."""
    real = os.path.realpath(target)
    if os.path.isfile(real):
        return ['mount --bind %s %s' % (_quote(source), _quote(real))]
    parent = os.path.dirname(real)
    if os.path.exists(real) or parent in ('/', '/etc') or \
            not os.path.isdir(parent):
        raise NetnsError('cannot bind-mount over %s (resolves to %s, which '
                         'is missing or not a file)' % (target, real))
    # A dangling symlink such as /etc/resolv.conf ->
    # /run/systemd/resolve/stub-resolv.conf: give its directory an empty tmpfs
    # (in our private mount namespace only) and create the file there.
    return ['mount -t tmpfs tmpfs %s' % _quote(parent),
            ': > %s' % _quote(real),
            'mount --bind %s %s' % (_quote(source), _quote(real))]


def run_in_netns(script_text, resolv_conf_text, hosts_text=None,
                 nsswitch_text='hosts: files dns\n', env=None, timeout=120,
                 python=sys.executable, args=()):
    """Run `script_text` with `python` in private mount+net namespaces."""
    ok, reason = netns_available()
    if not ok:
        raise NetnsError(reason)
    if hosts_text is None:
        hosts_text = DEFAULT_HOSTS
    tmp = tempfile.mkdtemp(prefix='netns-')
    try:
        files = {}
        for name, text in (('script.py', script_text),
                           ('resolv.conf', resolv_conf_text),
                           ('hosts', hosts_text),
                           ('nsswitch.conf', nsswitch_text)):
            path = os.path.join(tmp, name)
            with open(path, 'wb') as f:
                f.write(text.encode('utf-8') if not isinstance(text, bytes)
                        else text)
            os.chmod(path, 0o644)
            files[name] = path
        lines = ['set -e', 'ip link set lo up']
        for d in _NSCD_DIRS:
            if os.path.isdir(d) and not os.path.islink(d):
                lines.append('mount -t tmpfs tmpfs %s' % _quote(d))
        lines += _mount_commands('/etc/resolv.conf', files['resolv.conf'])
        lines += _mount_commands('/etc/hosts', files['hosts'])
        lines += _mount_commands('/etc/nsswitch.conf', files['nsswitch.conf'])
        lines.append('exec %s %s %s' % (
            _quote(python), _quote(files['script.py']),
            ' '.join(_quote(str(a)) for a in args)))
        extra_env = {'PYTHONUNBUFFERED': '1', 'PYTHONDONTWRITEBYTECODE': '1'}
        extra_env.update(env or {})
        argv = [_which('unshare'), '-m', '-n', '--', 'sh', '-c',
                '\n'.join(lines)]
        start = time.time()
        rc, out, err, timed_out = _run(argv, timeout,
                                       env=child_env(extra_env), cwd=tmp)
        return NetnsResult(rc, out.decode('utf-8', 'replace'),
                           err.decode('utf-8', 'replace'),
                           time.time() - start, timed_out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# Helpers for the child script.

def emit(obj):
    """Print obj as a tagged JSON line, read back by NetnsResult.reports()."""
    sys.stdout.write(_REPORT_TAG + json.dumps(obj, sort_keys=True) + '\n')
    sys.stdout.flush()


def _original_socket():
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from eventlet import patcher
        return patcher.original('socket')
    except ImportError:
        import socket
        return socket


def eai_name(errno_value):
    """-2 -> 'EAI_NONAME' (whatever EAI_* constants this platform has)."""
    sock = _original_socket()
    for name in dir(sock):
        if name.startswith('EAI_') and getattr(sock, name) == errno_value:
            return name
    return None


def probe_getaddrinfo(host, family='AF_UNSPEC', port=None,
                      socktype='SOCK_STREAM'):
    """Call libc getaddrinfo (never a green one); return a JSON-able dict."""
    sock = _original_socket()
    fam = getattr(sock, family) if isinstance(family, str) else family
    st = getattr(sock, socktype) if isinstance(socktype, str) else socktype
    start = time.time()
    try:
        infos = sock.getaddrinfo(host, port, fam, st)
    except sock.gaierror as e:
        return {'ok': False, 'errno': e.args[0], 'errname': eai_name(e.args[0]),
                'message': str(e.args[1]) if len(e.args) > 1 else str(e),
                'elapsed': time.time() - start}
    addresses = []
    for info in infos:
        if info[4][0] not in addresses:
            addresses.append(info[4][0])
    return {'ok': True, 'addresses': addresses,
            'elapsed': time.time() - start}
