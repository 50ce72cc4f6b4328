"""logging.config.dictConfig with handlers that send to a host name:
``python logdemo.py eventlet`` or ``python logdemo.py gevent``."""
import json
import sys

FRAMEWORK = sys.argv[1] if len(sys.argv) > 1 else "eventlet"
# First: monkey-patch, then greenfix, then the logging configuration.
if FRAMEWORK == "gevent":
    from gevent import monkey; monkey.patch_all()
else:
    import eventlet; eventlet.monkey_patch()
import greenfix; greenfix.patch()

import logging.config  # noqa: E402

LOGGING = {
    "version": 1,
    "handlers": {
        "syslog": {"class": "logging.handlers.SysLogHandler",
                   "address": ["logs.example.test", 514]},
        "datagram": {"class": "logging.handlers.DatagramHandler",
                     "host": "logs.example.test", "port": 9021},
        "gelf": {"class": "graypy.GELFUDPHandler",
                 "host": "logs.example.test", "port": 12201},
    },
    "root": {"level": "INFO", "handlers": ["syslog", "datagram", "gelf"]},
}
logging.config.dictConfig(LOGGING)

logging.getLogger("app").info("started under %s", FRAMEWORK)
stats = greenfix.stats()
print(json.dumps({"patched": greenfix.is_patched(), "backend": stats["backend"],
                  "lookups": stats["hits"] + stats["misses"]}))
