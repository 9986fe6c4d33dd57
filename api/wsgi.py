"""WSGI entry point for uWSGI: ``module = api.wsgi:application``.

Connexion 3 is ASGI; ``a2wsgi.ASGIMiddleware`` runs it under uWSGI. It starts an event-loop
thread when created, so uWSGI must run with ``lazy-apps = true`` (one per worker, after fork).
Each worker also returns freed heap to the OS between requests (:mod:`api.worker`).
"""

from a2wsgi import ASGIMiddleware

from .app import create_app
from .settings import Settings
from .worker import install_hooks

_settings = Settings.from_env()
# before the models load, so they load under its malloc tuning
install_hooks(_settings.malloc_trim, _settings.trim_slack_mb)
application = ASGIMiddleware(create_app(_settings))
