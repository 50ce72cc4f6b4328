"""An oslo.service service (eventlet backend, as OpenStack services run it)
that logs to a syslog server by host name.  It reports once and stops
itself, so that it can be run as a check: ``python service.py``."""
import eventlet; eventlet.monkey_patch()   # OpenStack: in the cmd package's __init__
import greenfix; greenfix.patch()          # right after it

import json  # noqa: E402
import logging  # noqa: E402
import logging.handlers  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

from oslo_config import cfg  # noqa: E402
from oslo_service import service  # noqa: E402

log = logging.getLogger("audit")
log.setLevel(logging.INFO)
log.addHandler(logging.handlers.SysLogHandler(address=("logs.example.test", 514)))


class AuditService(service.Service):
    def start(self):
        super().start()
        self.tg.add_timer(1.0, self.report, initial_delay=0.1)

    def report(self):
        log.info("audit tick")   # a sendto() to a host name
        stats = greenfix.stats()
        print(json.dumps({"patched": greenfix.is_patched(), "backend": stats["backend"],
                          "lookups": stats["hits"] + stats["misses"]}), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)   # this example: one report, then stop


if __name__ == "__main__":
    cfg.CONF([], project="audit")
    service.launch(cfg.CONF, AuditService(), workers=1).wait()
