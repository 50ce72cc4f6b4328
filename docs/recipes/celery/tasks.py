"""A Celery app whose worker turns greenfix on, and one task that logs to a
syslog server by host name.  The filesystem broker keeps this example free
of a broker service; any broker works the same way."""
import logging
import logging.handlers
import os

from celery import Celery
from celery.signals import worker_init

app = Celery("tasks")
app.conf.update(
    broker_url="filesystem://",
    broker_transport_options={"data_folder_in": "broker", "data_folder_out": "broker"},
    result_backend="file://results",
)
for folder in ("broker", "results"):
    os.makedirs(folder, exist_ok=True)

log = logging.getLogger("tasks")
log.setLevel(logging.INFO)
log.addHandler(logging.handlers.SysLogHandler(address=("logs.example.test", 514)))


@worker_init.connect
def turn_on_greenfix(**kwargs):
    # `celery worker -P eventlet` (or -P gevent) monkey-patches before it
    # imports this module; worker_init runs in the worker process only, not
    # in the clients that import this module to send tasks.
    import greenfix
    greenfix.patch()


@app.task
def check():
    import greenfix
    log.info("task ran")   # a sendto() to a host name
    stats = greenfix.stats()
    return {"patched": greenfix.is_patched(), "backend": stats["backend"],
            "lookups": stats["hits"] + stats["misses"]}
