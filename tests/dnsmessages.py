"""Real DNS messages for the wire and search tests, built by dnspython (1.16
on Python 2.7, 2.x elsewhere), so the parser under test never reads bytes
that its own author wrote."""

from __future__ import absolute_import

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset


def query(name, rdtype="A"):
    """A query message (dnspython's) for ``name``."""
    return dns.message.make_query(name, rdtype)


def reply(question, answers=(), authority=(), rcode="NOERROR", ra=True, aa=False,
          tc=False, additional=()):
    """The wire bytes of a reply to ``question`` (a query message).

    ``answers``, ``authority``, ``additional``: ``(owner, ttl, type, text)``
    records; ``ra``/``aa``/``tc``: header flags (a NOERROR reply without
    answers, RA or AA is a referral to send_dg)."""
    response = dns.message.make_response(question)
    response.set_rcode(dns.rcode.from_text(rcode))
    for flag, wanted in ((dns.flags.RA, ra), (dns.flags.AA, aa), (dns.flags.TC, tc)):
        if wanted:
            response.flags |= flag
    for section, records in ((response.answer, answers), (response.authority, authority),
                             (response.additional, additional)):
        for owner, ttl, rdtype, text in records:
            section.append(dns.rrset.from_text(owner, ttl, "IN", rdtype, text))
    return response.to_wire()


def soa(zone, ttl, minimum):
    """An SOA record of ``zone`` for :func:`reply`'s ``authority``."""
    zone = zone.rstrip(".") + "."
    return (zone, ttl, "SOA", "ns.%s host.%s 1 3600 600 86400 %d" % (zone, zone, minimum))


def question_end(message):
    """The offset just past the (uncompressed) question of ``message``."""
    name = dns.message.from_wire(message).question[0].name
    return 12 + len(name.to_wire()) + 4


def labels_of(text):
    """dnspython's labels of a text name (ending with the root's b"")."""
    return list(dns.name.from_text(text).labels)
