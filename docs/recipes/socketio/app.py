"""A Flask-SocketIO app served by eventlet or gevent:
``python app.py eventlet`` or ``python app.py gevent``."""
import sys

FRAMEWORK = sys.argv[1] if len(sys.argv) > 1 else "eventlet"
# First, before anything else is imported: monkey-patch, then greenfix.
if FRAMEWORK == "gevent":
    from gevent import monkey; monkey.patch_all()
else:
    import eventlet; eventlet.monkey_patch()
import greenfix; greenfix.patch()

import logging  # noqa: E402
import logging.handlers  # noqa: E402

from flask import Flask, jsonify  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode=FRAMEWORK)
log = logging.getLogger("app")
log.setLevel(logging.INFO)
log.addHandler(logging.handlers.SysLogHandler(address=("logs.example.test", 514)))


@app.route("/status")
def status():
    log.info("status asked")   # a sendto() to a host name
    stats = greenfix.stats()
    return jsonify(patched=greenfix.is_patched(), backend=stats["backend"],
                   async_mode=socketio.async_mode,
                   lookups=stats["hits"] + stats["misses"])


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=5000)
