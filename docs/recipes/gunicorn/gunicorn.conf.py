# gunicorn.conf.py: turn greenfix on in every worker.
#
# gunicorn's eventlet and gevent workers monkey-patch inside the worker
# (gevent in Worker.init_process(); eventlet when its worker module is
# imported), and post_fork runs before gevent's patch_all().  post_worker_init
# runs in each worker after monkey-patching and after the app is loaded, for
# both worker classes.
bind = "127.0.0.1:8000"
workers = 2


def post_worker_init(worker):
    import greenfix
    greenfix.patch()
