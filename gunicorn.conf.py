"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Override with GUNICORN_CMD_ARGS or flags, e.g. `--workers 4 --bind 0.0.0.0:8000`.
"""

import multiprocessing
import os

bind = os.environ.get("LYHORD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LYHORD_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# Respondent tokens are removed from the access log's request line.
logger_class = "survey.logs.RedactingGunicornLogger"
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("LYHORD_FORWARDED_ALLOW_IPS", "127.0.0.1")
