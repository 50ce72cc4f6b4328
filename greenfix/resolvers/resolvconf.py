"""The parts of resolv.conf that dnspython does not read: ``attempts``.

dnspython reads nameservers, ``search``/``domain``, ``ndots``, ``timeout``
and ``rotate``; glibc's resolver also honours ``options attempts:N`` and
applies ``$RES_OPTIONS`` over the file (``resolv/res_init.c``).  The time
budget of a lookup depends on both, so greenfix reads them here.
"""

import os

# glibc's defaults and caps (resolv/resolv.h): RES_TIMEOUT, RES_DFLRETRY,
# RES_MAXRETRANS, RES_MAXRETRY.
DEFAULT_TIMEOUT = 5
DEFAULT_ATTEMPTS = 2
MAX_TIMEOUT = 30
MAX_ATTEMPTS = 5


def _apply_options(words, found):
    for word in words:
        name, _, value = word.partition(":")
        if name in ("timeout", "attempts") and value:
            try:
                found[name] = int(value)
            except ValueError:
                continue


def read_budget(path, environ=None):
    """Return ``(timeout, attempts)`` as glibc would use them for ``path``."""
    environ = os.environ if environ is None else environ
    found = {}
    try:
        with open(path) as handle:
            for line in handle:
                words = line.split()
                if words and words[0] == "options":
                    _apply_options(words[1:], found)
    except (IOError, OSError):
        pass
    _apply_options(environ.get("RES_OPTIONS", "").split(), found)
    timeout = min(max(found.get("timeout", DEFAULT_TIMEOUT), 1), MAX_TIMEOUT)
    attempts = min(max(found.get("attempts", DEFAULT_ATTEMPTS), 1), MAX_ATTEMPTS)
    return timeout, attempts
