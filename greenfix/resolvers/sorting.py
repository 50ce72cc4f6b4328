"""getaddrinfo()'s address sorting: which of several addresses libc puts
first (``rfc3484_sort()`` in glibc's ``sysdeps/posix/getaddrinfo.c``, with
its built-in tables; RFC 3484 / RFC 6724 rules 1, 2, 5, 6, 8, 9 and 10).
"""

from __future__ import absolute_import

import binascii
import functools
import struct

import _socket

#: glibc's address-sorting configuration; greenfix sorts with glibc's
#: built-in tables only, so a file with directives sends lookups to libc.
GAI_CONF = "/etc/gai.conf"
#: ::1, packed (the hosts file's AF_INET reading of it too).
LOOPBACK6 = _socket.inet_pton(_socket.AF_INET6, "::1")


def gai_conf_directives(text):
    return any(line.split("#", 1)[0].strip() for line in text.splitlines())


def _prefix_table(entries):
    return [(_socket.inet_pton(_socket.AF_INET6, prefix), bits, value)
            for prefix, bits, value in entries]


# default_labels and default_precedence (RFC 3484 with glibc's changes).
_LABELS = _prefix_table([("::1", 128, 0), ("2002::", 16, 2), ("::", 96, 3),
                         ("::ffff:0:0", 96, 4), ("fec0::", 10, 5), ("fc00::", 7, 6),
                         ("2001::", 32, 7), ("::", 0, 1)])
_PRECEDENCE = _prefix_table([("::1", 128, 50), ("2002::", 16, 30), ("::", 96, 20),
                             ("::ffff:0:0", 96, 10), ("::", 0, 40)])
_MAPPED = b"\x00" * 10 + b"\xff\xff"


def _as_ipv6(packed):
    return packed if len(packed) == 16 else _MAPPED + packed


def _match_prefix(packed, table):
    """match_prefix(): the value of the first entry whose prefix matches."""
    number = int(binascii.hexlify(_as_ipv6(packed)), 16)
    for prefix, bits, value in table:
        shift = 128 - bits
        if number >> shift == int(binascii.hexlify(prefix), 16) >> shift:
            return value
    return None


def _scope(packed):
    """get_scope(): 2 for link-local and loopback, 5 for site-local
    (fec0::/10), the multicast scope, 14 for the rest."""
    if len(packed) == 4:
        first, second = bytearray(packed[:2])
        return 2 if first == 127 or (first, second) == (169, 254) else 14
    first, second = bytearray(packed[:2])
    if first == 0xff:
        return second & 0x0f
    if (first, second & 0xc0) == (0xfe, 0x80) or packed == LOOPBACK6:
        return 2
    if (first, second & 0xc0) == (0xfe, 0xc0):
        return 5
    return 14


def _leading_zeros(value):
    """glibc's fls() as getaddrinfo.c defines it: the number of leading
    zero bits of a 32-bit value (32 for 0)."""
    count = 0
    mask = 1 << 31
    while count < 32 and not value & mask:
        mask >>= 1
        count += 1
    return count


_getifaddrs = []


def _ifaddrs_api():
    """(getifaddrs, freeifaddrs, ifaddrs struct) from the libc the process
    already has loaded (``CDLL(None)``: no ``find_library()``, which runs a
    subprocess), built once."""
    if not _getifaddrs:
        import ctypes

        class sockaddr(ctypes.Structure):
            _fields_ = [("sa_family", ctypes.c_ushort), ("sa_data", ctypes.c_ubyte * 26)]

        class ifaddrs(ctypes.Structure):
            pass
        ifaddrs._fields_ = [("ifa_next", ctypes.POINTER(ifaddrs)),
                            ("ifa_name", ctypes.c_char_p),
                            ("ifa_flags", ctypes.c_uint),
                            ("ifa_addr", ctypes.POINTER(sockaddr)),
                            ("ifa_netmask", ctypes.POINTER(sockaddr))]
        libc = ctypes.CDLL(None)
        _getifaddrs.append((libc.getifaddrs, libc.freeifaddrs, ifaddrs, ctypes))
    return _getifaddrs[0]


def _interface_prefixes():
    """``{packed address: prefix length}`` of this host's addresses (what
    glibc's ``__check_pf()`` reads from netlink), by getifaddrs()."""
    try:
        getifaddrs, freeifaddrs, ifaddrs, ctypes = _ifaddrs_api()
    except (OSError, AttributeError):
        return {}
    head = ctypes.POINTER(ifaddrs)()
    if getifaddrs(ctypes.byref(head)) != 0:
        return {}
    prefixes = {}
    try:
        entry = head
        while entry:
            item = entry.contents
            if item.ifa_addr and item.ifa_netmask:
                family = item.ifa_addr.contents.sa_family
                data = bytes(bytearray(item.ifa_addr.contents.sa_data))
                mask = bytes(bytearray(item.ifa_netmask.contents.sa_data))
                if family == _socket.AF_INET:
                    address, netmask = data[2:6], mask[2:6]
                elif family == _socket.AF_INET6:
                    address, netmask = data[6:22], mask[6:22]
                else:
                    address = None
                if address is not None:
                    prefixes[address] = bin(int(binascii.hexlify(netmask), 16)).count("1")
            entry = item.ifa_next
    finally:
        freeifaddrs(head)
    return prefixes


class _Candidate(object):
    def __init__(self, index, text, family, prefixes):
        self.index = index
        self.packed = _socket.inet_pton(family, text.split("%", 1)[0])
        self.source = None
        self.prefixlen = 0
        sock = _socket.socket(family, _socket.SOCK_DGRAM)
        try:
            # As glibc: connect() a UDP socket (no packet is sent) to learn
            # whether there is a route, and from which source address.
            sock.connect((text, 0))
            self.source = _socket.inet_pton(family, sock.getsockname()[0].split("%", 1)[0])
        except (_socket.error, OverflowError, ValueError):
            pass
        finally:
            sock.close()
        if self.source is not None:
            key = self.source
            if len(key) == 4 and bytearray(key)[0] == 127:
                key = b"\x7f\x00\x00\x01"  # "Special case for lo interface"
            self.prefixlen = prefixes.get(key, 0)


def _compare(a1, a2):
    """rfc3484_sort(): rules 1, 2, 5, 6, 8, 9 and 10.  Rules 3 and 4
    (deprecated and home source addresses) and 7 (native transport) need
    address flags and tunnel types greenfix does not read: every source is
    taken as preferred, not a home address, and native."""
    if (a1.source is None) != (a2.source is None):                   # 1
        return -1 if a2.source is None else 1
    dst1, dst2 = _scope(a1.packed), _scope(a2.packed)
    if a1.source is not None:
        match1 = dst1 == _scope(a1.source)                            # 2
        match2 = dst2 == _scope(a2.source)
        if match1 != match2:
            return -1 if match1 else 1
        match1 = _match_prefix(a1.packed, _LABELS) == _match_prefix(a1.source, _LABELS)
        match2 = _match_prefix(a2.packed, _LABELS) == _match_prefix(a2.source, _LABELS)
        if match1 != match2:                                          # 5
            return -1 if match1 else 1
    prec1, prec2 = _match_prefix(a1.packed, _PRECEDENCE), _match_prefix(a2.packed, _PRECEDENCE)
    if prec1 != prec2:                                                # 6
        return -1 if prec1 > prec2 else 1
    if dst1 != dst2:                                                  # 8
        return -1 if dst1 < dst2 else 1
    if a1.source is not None and len(a1.packed) == len(a2.packed):    # 9
        bit1, bit2 = _common_prefix_bits(a1, a2)
        if bit1 != bit2:
            return -1 if bit1 > bit2 else 1
    return -1 if a1.index < a2.index else 1                          # 10


def _common_prefix_bits(a1, a2):
    """Rule 9 of rfc3484_sort(): how many leading bits each destination
    shares with its source, as glibc counts them."""
    if len(a1.packed) == 4:
        return tuple(_common_prefix_bits4(candidate) for candidate in (a1, a2))
    words = [struct.unpack("!4I", c.packed) + struct.unpack("!4I", c.source)
             for c in (a1, a2)]
    for i in range(4):
        if words[0][i] != words[0][4 + i] or words[1][i] != words[1][4 + i]:
            return (_leading_zeros(words[0][i] ^ words[0][4 + i]),
                    _leading_zeros(words[1][i] ^ words[1][4 + i]))
    return 0, 0


def _common_prefix_bits4(candidate):
    dst = struct.unpack("!I", candidate.packed)[0]
    src = struct.unpack("!I", candidate.source)[0]
    # "0xffffffffu << (32 - prefixlen)": a shift by 32 is one by 0 on the
    # machines glibc runs on, so an unknown prefix length means "the same
    # address only".
    netmask = (0xffffffff << (32 - candidate.prefixlen) % 32) & 0xffffffff
    return _leading_zeros(dst ^ src) if dst & netmask == src & netmask else 0


def rfc3484_first(addresses, family):
    """The address getaddrinfo() puts first among ``addresses`` (text, of
    ``family``): glibc sorts them by RFC 3484 destination address selection
    whenever there is more than one."""
    if len(addresses) < 2:
        return addresses[0]
    prefixes = _interface_prefixes()
    candidates = [_Candidate(index, text, family, prefixes)
                  for index, text in enumerate(addresses)]
    candidates.sort(key=functools.cmp_to_key(_compare))
    return addresses[candidates[0].index]
