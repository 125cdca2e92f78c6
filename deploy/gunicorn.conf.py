"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py portal.wsgi`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# gthread even with one thread: it keeps connections alive (the sync worker closes each after one request).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# A worker is replaced after this many requests (a guard against slow leaks). Each replacement drops the
# worker's kept-alive connections and its stored pages; at 2,000 a worker was replaced every few seconds
# under load (bench_api: the stalled connections made the p99 seconds long).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
# Django is imported once, in the master, and each worker is forked from it: a worker replaced after
# max_requests starts in milliseconds instead of importing the project again (about a second of CPU
# each time, several times a minute per worker under load). The import opens no database or Redis
# connection and starts no thread (each worker opens its own on first use). Code changes need a
# restart of the master (a HUP reloads the configuration, not the code).
preload_app = True
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
