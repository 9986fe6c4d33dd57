"""Form parsing where an empty optional field means "use the default".

Swagger UI's "Try it out" (and many HTML forms) send every optional field of an operation,
empty when the user left it alone: ``dpi=``, ``pages=``, ``min_score=``. Connexion's URI
parser would coerce ``""`` to the field's ``integer`` or ``number`` type and answer 400.
:class:`EmptyAsDefaultURIParser` leaves empty text fields out of the form before Connexion
validates and types it (both for request validation and for the handler's ``body``), so the
operation runs on its defaults. File parts are never form fields here, and a *required*
field sent empty is still missing: a 400.
"""

from __future__ import annotations

from connexion.uri_parsing import OpenAPIURIParser


def _empty(value) -> bool:
    return value == "" or (isinstance(value, list) and len(value) > 0
                           and all(v == "" for v in value))


class EmptyAsDefaultURIParser(OpenAPIURIParser):
    """Connexion's OpenAPI 3 URI parser, with empty form fields left out."""

    def resolve_form(self, form_data):
        """``{name: [values]}`` → typed form, without the fields whose values are all ``""``."""
        return super().resolve_form({k: v for k, v in form_data.items() if not _empty(v)})
