"""Application factory: a Connexion ``FlaskApp`` whose routes come from ``openapi.yaml``.

``create_app()`` wires settings, the model registry, problem+json error handlers, the
upload-size guard and the static frontend. ``api/wsgi.py`` wraps it for uWSGI.
"""

from __future__ import annotations

import logging

import connexion
from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from . import __version__
from .engines import ALL_SPECS
from .errors import bad_body_handler, http_handler, problem_handler, unexpected_handler
from .forms import EmptyAsDefaultURIParser
from .logs import configure_logging
from .middleware import ApiKeyMiddleware, BodyLimitMiddleware, RequestLogMiddleware
from .problems import Problem
from .registry import Registry
from .settings import REPO_ROOT, Settings

STATIC_DIR = REPO_ROOT / "static"
#: Sent on every response, by the app itself (``make run`` serves uWSGI straight to clients)
#: and, from the same table, by the Nginx site :mod:`api.nginx` renders.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "style-src 'self' 'unsafe-inline'",
}


def create_app(settings: Settings | None = None, registry: Registry | None = None):
    """Build the ASGI Connexion app.

    Args: ``settings`` (default: from ``PRISM_*`` env vars); ``registry`` (default: every
    model in :data:`api.engines.ALL_SPECS`). The Flask app is ``app.app``; its
    ``config["PRISM_SETTINGS"]`` and ``config["PRISM_REGISTRY"]`` hold both for handlers.
    """
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    # "accepts multiple content types" is expected: every operation takes form or JSON.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    registry = registry or Registry(ALL_SPECS, settings)

    app = connexion.FlaskApp(__name__, specification_dir=str(REPO_ROOT))
    app.add_api("openapi.yaml", swagger_ui_options=None, validate_responses=False,
                uri_parser_class=EmptyAsDefaultURIParser)
    app.add_error_handler(ProblemException, problem_handler)
    app.add_error_handler(Problem, problem_handler)
    app.add_error_handler(StarletteHTTPException, http_handler)
    app.add_error_handler(UnicodeDecodeError, bad_body_handler)
    app.add_error_handler(MultiPartException, bad_body_handler)
    app.add_error_handler(Exception, unexpected_handler)
    before = connexion.middleware.MiddlewarePosition.BEFORE_EXCEPTION
    app.add_middleware(RequestLogMiddleware, position=before)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes,
                       max_json_depth=settings.max_json_depth, position=before)
    if settings.api_keys:
        app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys.split(","), position=before)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, position=before,
                           allow_origins=[o.strip() for o in settings.cors_origins.split(",")],
                           allow_methods=["GET", "POST"], allow_headers=["X-API-Key", "Content-Type"])

    flask_app = app.app
    flask_app.config["PRISM_SETTINGS"] = settings
    flask_app.config["PRISM_REGISTRY"] = registry
    flask_app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + 1024 * 1024
    flask_app.static_folder = str(STATIC_DIR)  # Flask's own /static/<path> route serves it
    flask_app.json.compact = True

    @flask_app.after_request
    def server_timing(response):
        import flask

        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        timings = getattr(flask.g, "prism_timings", None)
        if timings is not None:
            response.headers["Server-Timing"] = ", ".join(
                f"{name};dur={ms}" for name, ms in timings.as_dict().items())
        return response

    @flask_app.get("/")
    def index():
        import flask

        return flask.send_from_directory(STATIC_DIR, "index.html")

    if settings.preload:
        registry.preload(settings.preload)
    return app


__all__ = ["create_app", "__version__"]
