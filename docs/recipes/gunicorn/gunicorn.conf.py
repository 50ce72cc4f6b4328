# gunicorn.conf.py: turn greenfix on in every worker.
#
# gunicorn's gevent worker monkey-patches in each worker, after post_fork has
# run; its eventlet worker when its module is imported, in the master.
# post_worker_init runs in each worker after both (and after the app is
# loaded), for either worker class.
bind = "127.0.0.1:8000"
workers = 2


def post_worker_init(worker):
    import greenfix
    greenfix.patch()
