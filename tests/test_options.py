"""Every option of ``greenfix.patch()`` and every environment variable
greenfix reads is checked in one place (greenfix/options.py): a value that is
not accepted is a GreenfixError naming the option (or variable), the value
and what is accepted, never a raw ValueError/TypeError, and never silently
accepted.  Generated values (hypothesis) are judged by an oracle written
here from the documented rules, independently of options.py; the reference
tables in docs/ are checked against options.py's names and defaults."""

import ast
import math
import os
import re
import socket
import struct

import pytest
import six
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greenfix
from greenfix import options
from greenfix.options import Options

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "docs")

SETTINGS = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def clean():
    assert not greenfix.is_patched()
    yield
    greenfix.unpatch()


def assert_names(exc, name, value):
    """The error names the option and shows the value and what is accepted."""
    assert type(exc) is greenfix.GreenfixError, repr(exc)
    text = str(exc)
    assert "option %s=%r " % (name, value) in text, text
    assert "expected " in text, text


# ------------------------------------------------------ the cases reported

REPORTED = [
    ("nameservers", "127.0.0.1"),          # was split into characters
    ("nameservers", u"127.0.0.1:53"),
    ("nameservers", b"127.0.0.1"),
    ("nameservers", ["bad:host:x"]),       # was accepted
    ("nameservers", ["127.0.0.1:abc"]),    # was a bare ValueError
    ("nameservers", ["127.0.0.1:0"]),
    ("nameservers", ["127.0.0.1:65536"]),
    ("nameservers", ["[::1]:53x"]),
    ("nameservers", ["[::1"]),
    ("nameservers", ["[127.0.0.1]:53"]),
    ("nameservers", ["localhost"]),
    ("nameservers", ["127.1"]),
    ("nameservers", [("127.0.0.1", "53")]),
    ("nameservers", [("127.0.0.1", 53, 0)]),  # was a bare ValueError
    ("nameservers", ("127.0.0.1", 53)),
    ("nameservers", []),
    ("nameservers", 53),                   # was a bare TypeError
    ("timeout", "5"),                      # was a bare TypeError
    ("timeout", True),                     # was accepted
    ("timeout", 0),
    ("timeout", 31),
    ("timeout", float("nan")),
    ("attempts", 1.5),                     # was accepted
    ("attempts", True),
    ("attempts", 6),
    ("lookups", "false"),                  # was accepted (a true string)
    ("serve_stale", 0),
    ("lookup_threads", 0),
    ("lookup_threads", 2.0),
    ("cache_size", None),
    ("max_stale", float("inf")),
    ("resolver", "bogus"),
    ("resolver", b"auto" if six.PY3 else 1),
    ("hosts", ""),
    ("hosts", None),
    ("resolv_conf", u"/etc/resolv.conf\0"),
]


@pytest.mark.parametrize("name, value", REPORTED)
def test_reported_bad_values_are_greenfix_errors_naming_the_option(clean, name, value):
    with pytest.raises(greenfix.GreenfixError) as info:
        greenfix.patch(**{name: value})
    assert_names(info.value, name, value)
    assert not greenfix.is_patched()


def test_limits_are_glibcs():
    """RES_MAXRETRANS and RES_MAXRETRY of glibc's resolv.h: the highest
    values accepted, as res_setoptions() clamps a file's to them."""
    assert Options(timeout=30, attempts=5).timeout == 30
    assert Options(timeout=0.2).timeout == 0.2  # fractions: finer than glibc
    for bad in (dict(timeout=30.5), dict(attempts=6)):
        with pytest.raises(greenfix.GreenfixError):
            Options(**bad)


def test_unknown_option_is_a_greenfix_error_and_pythons_type_error():
    with pytest.raises(greenfix.GreenfixError) as info:
        Options(nameserver=["127.0.0.1"])
    assert isinstance(info.value, TypeError)
    assert "unexpected keyword argument 'nameserver'" in str(info.value)


def test_resolver_variable_is_named(monkeypatch):
    monkeypatch.setenv("GREENFIX_RESOLVER", "bogus")
    with pytest.raises(greenfix.GreenfixError) as info:
        Options()
    assert "environment variable GREENFIX_RESOLVER='bogus'" in str(info.value)
    assert "auto, greendns, threadpool" in str(info.value)
    assert Options(resolver="threadpool").resolver == "threadpool"  # not read then


def test_defaults_and_good_values_are_kept():
    opts = Options()
    for name, default in options._DEFAULTS.items():
        if name != "resolver":
            assert getattr(opts, name) == default, name
    opts = Options(nameservers=["127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:54",
                                "[fe80::1%lo]:55", ("::2", 56)], lookup_threads=3)
    assert opts.nameservers == [("127.0.0.1", 53), ("127.0.0.1", 5353), ("::1", 53),
                                ("::1", 54), ("fe80::1%lo", 55), ("::2", 56)]
    assert opts.lookup_threads == 3


# ---------------------------------------------- the oracle: documented rules

def _int(value):
    return isinstance(value, six.integer_types) and not isinstance(value, bool)


def _number(value):
    return (_int(value) or isinstance(value, float)) and not isinstance(value, bool) \
        and not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def _ip(text, v4=True, v6=True):
    if not isinstance(text, six.string_types):
        return False
    families = ([socket.AF_INET] if v4 else []) + ([socket.AF_INET6] if v6 else [])
    for family in families:
        address = text
        if family == socket.AF_INET6 and "%" in text:
            address, scope = text.split("%", 1)
            if not scope:
                continue
        try:
            socket.inet_pton(family, str(address))
            return True
        except (socket.error, ValueError, TypeError):
            pass
    return False


def expected_nameserver(entry):
    """``(ip, port)`` for an entry the docs accept, else None."""
    if isinstance(entry, tuple):
        if len(entry) == 2 and _ip(entry[0]) and _int(entry[1]) and 1 <= entry[1] <= 65535:
            return entry[0], entry[1]
        return None
    if not isinstance(entry, six.string_types):
        return None
    match = re.match(r"^\[([^\]]*)\](?::([0-9]+))?$", entry)
    if match:
        ip, port = match.group(1), int(match.group(2) or 53)
        return (ip, port) if _ip(ip, v4=False) and 1 <= port <= 65535 else None
    match = re.match(r"^([^:]*):([0-9]+)$", entry)
    if match:
        ip, port = match.group(1), int(match.group(2))
        return (ip, port) if _ip(ip, v6=False) and 1 <= port <= 65535 else None
    return (entry, 53) if entry.count(":") != 1 and _ip(entry) else None


def expected_nameservers(value):
    if value is None:
        return True
    if not isinstance(value, (list, tuple)) or not value:
        return False
    if isinstance(value, tuple) and len(value) == 2 and _int(value[1]):
        return False  # ("ip", port) meant as one nameserver
    return all(expected_nameserver(entry) for entry in value)


def accepted(name, value):
    """Whether the docs say ``patch(name=value)`` is accepted."""
    if name == "resolver":
        return value is None or (isinstance(value, six.string_types)
                                 and value in ("auto", "greendns", "threadpool"))
    if name in ("resolv_conf", "hosts", "nsswitch"):
        return isinstance(value, six.string_types) and value != "" and "\0" not in value
    if name == "nameservers":
        return expected_nameservers(value)
    if name in ("lookups", "serve_stale"):
        return isinstance(value, bool)
    if name == "lookup_threads":
        return _int(value) and value >= 1
    if name == "timeout":
        return value is None or (_number(value) and 0 < value <= 30)
    if name == "attempts":
        return value is None or (_int(value) and 1 <= value <= 5)
    if name == "cache_size":
        return _int(value) and value >= 0
    if name == "max_ttl":
        return _number(value) and 1 <= value <= 3600  # and >= min_ttl (1)
    if name == "min_ttl":
        return _number(value) and 0 <= value <= 3600  # and <= max_ttl (3600)
    return _number(value) and value >= 0  # the other cache times


# ------------------------------------------------------ generated values

def _ipv4():
    return st.integers(0, 2 ** 32 - 1).map(lambda n: socket.inet_ntoa(struct.pack("!I", n)))


def _ipv6():
    return st.binary(min_size=16, max_size=16).map(
        lambda raw: socket.inet_ntop(socket.AF_INET6, raw))


def _port_text():
    return st.one_of(st.integers(-2, 70000).map(str), st.sampled_from(["", "abc", " 53", "5 3",
                                                                        u"\u0665\u0663", "+53"]))


NOISE = st.text(alphabet=u"0123456789abcdef:.[]%x -\0\u0661", max_size=12)

ENTRY = st.one_of(
    _ipv4(), _ipv6(), NOISE, st.sampled_from(["localhost", "127.1", "0x7f.1", "::1%", "fe80::1%lo"]),
    st.tuples(_ipv4(), _port_text()).map(":".join),
    st.tuples(_ipv6(), _port_text()).map(lambda pair: "[%s]:%s" % pair),
    st.tuples(_ipv6()).map(lambda one: "[%s]" % one),
    st.tuples(st.one_of(_ipv4(), _ipv6(), NOISE), st.one_of(st.integers(-1, 70000), st.booleans(),
                                                              _port_text())),
    st.tuples(_ipv4()), st.integers(), st.none(), st.binary(max_size=8),
)

NAMESERVERS = st.one_of(st.lists(ENTRY, max_size=4), st.lists(ENTRY, max_size=4).map(tuple),
                        ENTRY, st.none())

NUMBERS = st.one_of(st.integers(-5, 100000), st.integers(), st.floats(),
                    st.floats(-1, 40), st.booleans())

ANYTHING = st.one_of(
    st.none(), NUMBERS, st.text(max_size=10), st.binary(max_size=10),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["auto", "greendns", "threadpool", " auto", "5", "True", "/etc/hosts",
                     u"/tmp/\u00e9", "", "1e3", float("nan")]),
)


def _values(name):
    if name == "nameservers":
        return st.one_of(NAMESERVERS, ANYTHING)
    return ANYTHING


OPTION = st.sampled_from(sorted(options._DEFAULTS))


@settings(max_examples=1500, **SETTINGS)
@given(st.data())
def test_generated_values_are_accepted_exactly_as_documented(data):
    name = data.draw(OPTION, label="option")
    value = data.draw(_values(name), label="value")
    try:
        parsed = Options(**{name: value})
    except greenfix.GreenfixError as exc:
        assert_names(exc, name, value)
        assert not accepted(name, value), "refused: %s" % exc
        return
    assert accepted(name, value), "accepted %s=%r" % (name, value)
    if name == "nameservers" and value is not None:
        assert parsed.nameservers == [expected_nameserver(entry) for entry in value]
    elif name != "resolver":
        assert getattr(parsed, name) == value


@settings(max_examples=1500, **SETTINGS)
@given(NAMESERVERS)
def test_generated_nameservers(value):
    try:
        parsed = Options(nameservers=value).nameservers
    except greenfix.GreenfixError as exc:
        assert_names(exc, "nameservers", value)
        assert not expected_nameservers(value), "refused: %s" % exc
        return
    assert expected_nameservers(value), value
    if value is not None:
        assert parsed == [expected_nameserver(entry) for entry in value]


@settings(max_examples=300, **SETTINGS)
@given(st.data())
def test_patch_lets_only_greenfix_errors_out(data):
    name = data.draw(OPTION, label="option")
    value = data.draw(_values(name).filter(lambda value: not accepted(name, value)),
                      label="value")
    assert not greenfix.is_patched()
    try:
        greenfix.patch(**{name: value})
    except greenfix.GreenfixError as exc:
        assert_names(exc, name, value)
    else:
        greenfix.unpatch()
        raise AssertionError("patch(%s=%r) was accepted" % (name, value))
    assert not greenfix.is_patched()


@settings(max_examples=300, **SETTINGS)
@given(st.text(alphabet=st.characters(blacklist_characters=u"\0",
                                      blacklist_categories=("Cs",)), max_size=12))
def test_generated_resolver_variable(text):
    saved = os.environ.get("GREENFIX_RESOLVER")
    os.environ["GREENFIX_RESOLVER"] = text if six.PY3 else text.encode("utf-8")
    try:
        chosen = Options().resolver
    except greenfix.GreenfixError as exc:
        assert "environment variable GREENFIX_RESOLVER=" in str(exc)
        assert text.strip() not in ("", "auto", "greendns", "threadpool")
    else:
        assert chosen == (text.strip() or "auto")
    finally:
        if saved is None:
            del os.environ["GREENFIX_RESOLVER"]
        else:
            os.environ["GREENFIX_RESOLVER"] = saved


# ----------------------------------------------- the reference in the docs

def rst_tables(path):
    """The simple tables of an .rst file (top border, heading, border, rows,
    bottom border), by their first heading cell: each row a list of its
    first line's first and second cells, then its continuation lines."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    borders = [index for index, line in enumerate(lines) if re.match(r"^=+( +=+)+$", line)]
    tables = {}
    for top, middle, bottom in zip(borders[::3], borders[1::3], borders[2::3]):
        second = [match.start() for match in re.finditer(r"=+", lines[top])][1]
        rows = []
        for line in lines[middle + 1:bottom]:
            if line[:second].strip():
                rows.append([line[:second].strip(), line[second:].strip()])
            elif line.strip():
                rows[-1].append(line.strip())
        tables.setdefault(lines[top + 1][:second].strip(), []).extend(rows)
    return tables


def _cell(text):
    return text.split()[0].strip("`") if text else text


def test_usage_reference_lists_every_option_with_its_default():
    tables = rst_tables(os.path.join(DOCS, "usage.rst"))
    rows = dict((_cell(row[0]), row) for row in tables["option"])
    assert sorted(rows) == sorted(options._DEFAULTS)
    for name, row in rows.items():
        default = row[1].split("``")[1]
        assert ast.literal_eval(default) == options._DEFAULTS[name], name
    limits = {"timeout": options.MAX_TIMEOUT, "attempts": options.MAX_ATTEMPTS,
              "max_ttl": options.MAX_TTL_LIMIT}
    for name, limit in limits.items():
        assert str(limit) in " ".join(rows[name]), name


def test_usage_reference_lists_every_environment_variable():
    tables = rst_tables(os.path.join(DOCS, "usage.rst"))
    rows = dict((_cell(row[0]), row) for row in tables["variable"])
    assert sorted(rows) == sorted(list(options.ENVIRONMENT) + list(options.FOREIGN_ENVIRONMENT))
    for variable, option in options.ENVIRONMENT.items():
        assert "``%s``" % option in " ".join(rows[variable]), variable


def test_every_variable_the_package_reads_is_listed():
    package = os.path.dirname(options.__file__)
    read = set()
    for folder, _, files in os.walk(package):
        for filename in files:
            if filename.endswith(".py") and filename != "demo.py":  # the demo: PATH, for unshare
                with open(os.path.join(folder, filename)) as handle:
                    read.update(re.findall(
                        r"(?:environ\.get\(|environ\[|getenv\()\s*[\"']([A-Z_0-9]+)[\"']",
                        handle.read()))
    assert read  # the pattern finds what it looks for
    listed = set(options.ENVIRONMENT) | set(options.FOREIGN_ENVIRONMENT)
    assert read - listed == set()


def test_cache_page_defaults_are_the_options():
    tables = rst_tables(os.path.join(DOCS, "cache.rst"))
    for row in tables["option"]:
        name = _cell(row[0])
        assert ast.literal_eval(row[1].split()[0]) == options._DEFAULTS[name], name
