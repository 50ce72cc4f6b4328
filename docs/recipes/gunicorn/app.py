"""A WSGI app that logs each request to a syslog server by host name."""
import json
import logging
import logging.handlers

import greenfix

log = logging.getLogger("app")
log.setLevel(logging.INFO)
log.addHandler(logging.handlers.SysLogHandler(address=("logs.example.test", 514)))


def app(environ, start_response):
    log.info("request %s", environ["PATH_INFO"])   # a sendto() to a host name
    stats = greenfix.stats()
    body = json.dumps({"patched": greenfix.is_patched(),
                       "backend": stats["backend"],
                       "lookups": stats["hits"] + stats["misses"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
