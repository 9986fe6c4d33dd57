"""WSGI entry point for uWSGI: ``module = api.wsgi:application``.

Connexion 3 is ASGI; ``a2wsgi.ASGIMiddleware`` runs it under uWSGI. It starts an event-loop
thread when created, so uWSGI must run with ``lazy-apps = true`` (one per worker, after fork).
"""

from a2wsgi import ASGIMiddleware

from .app import create_app

application = ASGIMiddleware(create_app())
