# -*- coding: utf-8 -*-
"""Tests of tests/netns.py: libc getaddrinfo against the test DNS server.

Every child runs in a fresh network namespace holding only its loopback
interface; the DNS server runs inside it on 127.0.0.1:53 (or [::1]:53).
Skipped without root/unshare, except when CI=true, where that fails.
"""

from __future__ import absolute_import, division, print_function

import textwrap

import pytest

import netns

RESOLV = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'

# Shared start of the child scripts: a server on 127.0.0.1:53 with a zone.
PRELUDE = textwrap.dedent('''
    from __future__ import print_function
    import sys, time, json
    import netns
    from dnsserver import DNSServer
    server = DNSServer(port=53).start()
    server.add_soa('example.test', minimum=30)
    server.add('www.example.test', 'A', '192.0.2.10')
    server.add('www.example.test', 'AAAA', '2001:db8::10')
    server.add('v4only.example.test', 'A', '192.0.2.11')
    server.add('txtonly.example.test', 'TXT', 'hello')
    server.add('alias.example.test', 'CNAME', 'www.example.test')
''')


def run(body, resolv=RESOLV, **kw):
    result = netns.run_in_netns(PRELUDE + textwrap.dedent(body), resolv, **kw)
    result.check()
    return result


needs_netns = pytest.mark.usefixtures('netns_required')


@needs_netns
def test_libc_getaddrinfo_uses_the_test_server():
    r = run('''
        import socket
        infos = socket.getaddrinfo('www.example.test', None, socket.AF_INET)
        print(sorted(set(i[4][0] for i in infos)))
        infos = socket.getaddrinfo('alias.example.test', 80, socket.AF_INET6,
                                   socket.SOCK_STREAM)
        print(sorted(set(i[4][0] for i in infos)))
        netns.emit([(q.transport, q.name, q.rdtype) for q in server.queries])
    ''')
    lines = r.stdout.splitlines()
    assert lines[0] == "['192.0.2.10']"
    assert lines[1] == "['2001:db8::10']"
    assert [tuple(q) for q in r.report()] == [
        ('udp', 'www.example.test', 'A'),
        ('udp', 'alias.example.test', 'AAAA')]


@needs_netns
def test_hosts_file_entry_resolves_without_dns():
    r = run('''
        netns.emit([netns.probe_getaddrinfo('pinned.example.test', 'AF_INET'),
                    netns.probe_getaddrinfo('localhost', 'AF_INET'),
                    server.count()])
    ''', hosts_text='127.0.0.1 localhost\n192.0.2.77 pinned.example.test\n')
    pinned, localhost, count = r.report()
    assert pinned['ok'] and pinned['addresses'] == ['192.0.2.77']
    assert localhost['addresses'] == ['127.0.0.1']
    assert count == 0


@needs_netns
def test_nsswitch_dns_only_ignores_hosts_file():
    r = run('''
        netns.emit(netns.probe_getaddrinfo('www.example.test', 'AF_INET'))
    ''', hosts_text='192.0.2.77 www.example.test\n',
        nsswitch_text='hosts: dns\n')
    assert r.report()['addresses'] == ['192.0.2.10']


@needs_netns
@pytest.mark.slow
def test_dropped_query_gives_eai_again_after_timeout():
    r = run('''
        server.set_behavior('drop')
        netns.emit(netns.probe_getaddrinfo('www.example.test', 'AF_INET'))
    ''')
    rep = r.report()
    assert not rep['ok']
    assert rep['errname'] == 'EAI_AGAIN'
    assert 0.9 <= rep['elapsed'] < 3.0


@needs_netns
@pytest.mark.slow
def test_libc_error_mapping():
    """What glibc makes of each kind of failure (measured, not assumed)."""
    r = run('''
        server.set_behavior('servfail', name='servfail.example.test')
        server.set_behavior('refused', name='refused.example.test')
        server.set_behavior('drop', name='drop.example.test')
        out = {}
        # 'drop' last: timeouts can change glibc's per-thread resolver state.
        for case, host in [('nodata', 'txtonly.example.test'),
                           ('nxdomain', 'nxdomain.example.test'),
                           ('servfail', 'servfail.example.test'),
                           ('refused', 'refused.example.test'),
                           ('drop', 'drop.example.test')]:
            for fam in ('AF_INET', 'AF_INET6'):
                out[case + ' ' + fam] = netns.probe_getaddrinfo(host, fam)
        netns.emit(out)
    ''')
    rep = r.report()
    expected = {'nodata': 'EAI_NODATA', 'nxdomain': 'EAI_NONAME',
                'servfail': 'EAI_AGAIN', 'refused': 'EAI_AGAIN',
                'drop': 'EAI_AGAIN'}
    got = dict((k, v['errname']) for k, v in rep.items())
    assert got == dict((case + ' ' + fam, name)
                       for case, name in expected.items()
                       for fam in ('AF_INET', 'AF_INET6'))
    for fam in ('AF_INET', 'AF_INET6'):
        assert rep['servfail ' + fam]['elapsed'] < 0.5
        assert 0.9 <= rep['drop ' + fam]['elapsed'] < 3.0


@needs_netns
def test_truncated_udp_reply_makes_libc_retry_over_tcp():
    r = run('''
        server.set_behavior('truncate', name='www.example.test')
        rep = netns.probe_getaddrinfo('www.example.test', 'AF_INET')
        rep['queries'] = [(q.transport, q.rdtype) for q in server.queries]
        netns.emit(rep)
    ''')
    rep = r.report()
    assert rep['addresses'] == ['192.0.2.10']
    assert [tuple(q) for q in rep['queries']] == [('udp', 'A'), ('tcp', 'A')]


@needs_netns
@pytest.mark.slow
def test_second_nameserver_answers_when_first_drops():
    r = run('''
        second = DNSServer(host='127.0.0.2', port=53).start()
        second.add('www.example.test', 'A', '192.0.2.99')
        server.set_behavior('drop')
        rep = netns.probe_getaddrinfo('www.example.test', 'AF_INET')
        rep['counts'] = [server.count(), second.count()]
        netns.emit(rep)
    ''', resolv='nameserver 127.0.0.1\nnameserver 127.0.0.2\n'
                'options timeout:1 attempts:1\n')
    rep = r.report()
    assert rep['addresses'] == ['192.0.2.99']
    assert rep['counts'] == [1, 1]
    assert 0.9 <= rep['elapsed'] < 3.0


@needs_netns
def test_ipv6_loopback_nameserver():
    r = run('''
        server6 = DNSServer(host='::1', port=53).start()
        server6.add('six.example.test', 'AAAA', '2001:db8::6')
        rep = netns.probe_getaddrinfo('six.example.test', 'AF_INET6')
        rep['count'] = server6.count('six.example.test', 'AAAA', 'udp')
        netns.emit(rep)
    ''', resolv='nameserver ::1\noptions timeout:1 attempts:1\n')
    rep = r.report()
    assert rep['addresses'] == ['2001:db8::6'] and rep['count'] == 1


@needs_netns
def test_monkey_patched_hub_blocked_in_libc_still_gets_answers():
    """The greenfix situation: the hub thread sits in libc getaddrinfo."""
    pytest.importorskip('eventlet')
    r = netns.run_in_netns(textwrap.dedent('''
        from __future__ import print_function
        import warnings
        warnings.simplefilter('ignore')
        import eventlet
        eventlet.monkey_patch()
        import netns
        from dnsserver import DNSServer
        server = DNSServer(port=53).start()
        server.add('www.example.test', 'A', '192.0.2.10')
        server.set_behavior('delay', seconds=0.3)
        # Blocking C call on the hub thread; only native threads can answer.
        netns.emit(netns.probe_getaddrinfo('www.example.test', 'AF_INET'))
    '''), RESOLV)
    r.check()
    rep = r.report()
    assert rep['addresses'] == ['192.0.2.10']
    assert 0.25 <= rep['elapsed'] < 1.0


@needs_netns
def test_namespace_is_loopback_only_and_host_files_untouched():
    before = [open(p, 'rb').read() for p in
              ('/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf')]
    r = run('''
        import errno, socket, subprocess
        links = subprocess.check_output(['ip', '-o', 'link']).decode()
        routes = subprocess.check_output(['ip', 'route']).decode()
        # connect() on UDP sends nothing; it only asks for a route.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(('192.0.2.1', 53))
            err = None
        except socket.error as e:
            err = e.errno
        netns.emit({'links': [l.split(':')[1].strip()
                              for l in links.splitlines()],
                    'routes': routes.strip(), 'connect_errno': err,
                    'enetunreach': errno.ENETUNREACH,
                    'resolv': open('/etc/resolv.conf').read()})
    ''')
    rep = r.report()
    assert rep['links'] == ['lo']
    assert rep['routes'] == ''
    assert rep['connect_errno'] == rep['enetunreach']
    assert rep['resolv'] == RESOLV
    after = [open(p, 'rb').read() for p in
             ('/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf')]
    assert after == before


@needs_netns
def test_env_args_and_failure_reporting():
    r = netns.run_in_netns(textwrap.dedent('''
        from __future__ import print_function
        import os, sys
        print(os.environ['GREENFIX_PROBE'], sys.argv[1:])
        sys.stderr.write('boom\\n')
        sys.exit(3)
    '''), RESOLV, env={'GREENFIX_PROBE': 'yes'}, args=['a', 'b c'])
    assert r.returncode == 3 and not r.timed_out
    assert r.stdout.strip() == "yes ['a', 'b c']"
    assert 'boom' in r.stderr
    with pytest.raises(netns.NetnsError) as info:
        r.check()
    assert 'boom' in str(info.value)
    with pytest.raises(netns.NetnsError):
        r.report()


@needs_netns
def test_timeout_kills_the_child():
    r = netns.run_in_netns('import time\ntime.sleep(60)\n', RESOLV,
                           timeout=1)
    assert r.timed_out
    assert r.returncode != 0
    assert r.elapsed < 10


def test_require_netns_skips_or_fails_in_ci(monkeypatch):
    monkeypatch.setattr(netns, '_available', (False, 'no netns here'))
    monkeypatch.delenv('CI', raising=False)
    with pytest.raises(pytest.skip.Exception):
        netns.require_netns()
    monkeypatch.setenv('CI', 'false')
    with pytest.raises(pytest.skip.Exception):
        netns.require_netns()
    monkeypatch.setenv('CI', 'true')
    with pytest.raises(pytest.fail.Exception) as info:
        netns.require_netns()
    assert 'no netns here' in str(info.value)
    with pytest.raises(netns.NetnsError):
        netns.run_in_netns('pass\n', RESOLV)
