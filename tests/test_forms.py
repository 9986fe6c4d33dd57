"""Empty optional form fields mean "default" (Swagger UI's "Try it out" sends them all)."""

from __future__ import annotations

import pytest
import yaml

from .conftest import REPO_ROOT, shared

SPEC = yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]
PAGE = "eval/stamps/staver_image_2.png"
CROP = "seeds/stamp2vec/tests/test_data/test_cropped_stamp.png"


def _form(path: str) -> dict:
    content = SPEC["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    return SCHEMAS[content["schema"]["$ref"].rsplit("/", 1)[1]]


def _is_file(schema: dict) -> bool:
    schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
    schema = schema.get("items", schema)
    return schema.get("format") in ("binary", "base64")


@pytest.mark.parametrize("path", ["/ocr", "/extract", "/cut", "/stamps", "/stamps/compare"])
def test_every_optional_field_sent_empty_runs_on_defaults(client, path):
    """Each optional non-file field of the form is sent as ``""``, as Swagger UI does: the
    answer is the one without those fields, not a 400."""
    form = _form(path)
    required = set(form.get("required", []))
    optional = [k for k, v in form["properties"].items()
                if k not in required and not _is_file(v)]
    assert optional  # every one of these operations has options
    image = shared(f"data/{PAGE}").read_bytes()
    files = {"file": ("page.png", image)}
    if path == "/stamps/compare":
        files["reference"] = ("ref.png", shared(f"data/{CROP}").read_bytes())
    data = {"objects": "person"} if path == "/cut" else {}
    plain = client.post(path, files=files, data=data)
    empty = client.post(path, files=files, data={**data, **{k: "" for k in optional}})
    assert empty.status_code == plain.status_code != 400, (empty.status_code, empty.text[:300])
    if plain.headers["content-type"].startswith("application/json"):
        strip = lambda b: {k: v for k, v in b.items() if k != "timings_ms"}  # noqa: E731
        assert strip(empty.json()) == strip(plain.json())


def test_an_empty_required_field_is_still_missing(client):
    image = shared(f"data/{PAGE}").read_bytes()
    r = client.post("/cut", files={"file": ("page.png", image)}, data={"objects": ""})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


def test_a_bad_value_is_still_refused(client):
    image = shared(f"data/{PAGE}").read_bytes()
    r = client.post("/ocr", files={"file": ("page.png", image)}, data={"dpi": "many"})
    assert r.status_code == 400 and "dpi" in r.json()["detail"]
