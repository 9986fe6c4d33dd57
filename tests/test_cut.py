"""/cut on real photos: the class is found, alpha covers it and not the background."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from api.pipelines.cut import CutPipeline, compose
from scripts.eval_cut import reference_iou

from .conftest import SHARED, TESTDATA, rgb
from .test_api import assert_problem

EVAL = SHARED / "data/eval/cut"
OBJECTCUT = SHARED / "data/seeds/objectcut/docs/images"


@pytest.fixture(scope="module")
def pipeline(registry):
    return CutPipeline(registry)


@pytest.mark.parametrize("name,objects,min_iou", [
    ("rembg_car-2", ["car"], 0.9), ("rembg_car-3", ["car"], 0.9),
    ("rembg_girl-1", ["person"], 0.9),
])
def test_alpha_matches_reference_cutouts(pipeline, name, objects, min_iou):
    image = rgb(EVAL / f"{name}.jpg")
    result = pipeline(image, objects)
    assert {o.cls for o in result.objects} == set(objects)
    assert reference_iou(image, result.alpha, EVAL / f"{name}.out.png") >= min_iou


@pytest.mark.parametrize("name,objects,min_iou", [
    ("test_cat.jpg", ["cat"], 0.8), ("test_dog_frisbee.jpeg", ["dog", "frisbee"], 0.75),
    ("test_pizza.jpeg", ["pizza"], 0.7),
])
def test_objectcut_examples(pipeline, name, objects, min_iou):
    image = rgb(OBJECTCUT / name)
    result = pipeline(image, objects)
    assert {o.cls for o in result.objects} == set(objects)
    reference = OBJECTCUT / name.replace(".jpeg", "_output.png").replace(".jpg", "_output.png")
    assert reference_iou(image, result.alpha, reference) >= min_iou


def test_alpha_stays_inside_object_boxes(pipeline):
    image = rgb(TESTDATA / "photo_car_person.jpg")
    result = pipeline(image, ["person"])
    (person,) = result.objects
    x1, y1, x2, y2 = (int(v) for v in person.box)
    outside = result.alpha.copy()
    outside[y1:y2 + 1, x1:x2 + 1] = 0
    assert outside.max() == 0
    inside = result.alpha[y1:y2, x1:x2]
    assert 0.2 < (inside > 0.5).mean() < 0.9  # the person, not the whole box


def test_white_inside_object_stays_opaque(pipeline):
    image = rgb(OBJECTCUT / "test_dog_frisbee.jpeg")  # a white-furred dog
    result = pipeline(image, ["dog"])
    white = (image > 235).all(-1)
    dog = result.alpha > 0.5
    x1, y1, x2, y2 = (int(v) for v in result.objects[0].box)
    white_in_box = white[y1:y2, x1:x2]
    assert white_in_box.sum() > 500
    assert dog[y1:y2, x1:x2][white_in_box].mean() > 0.8


def test_compose_variants(pipeline):
    image = rgb(TESTDATA / "photo_elephant.jpg")
    result = pipeline(image, ["elephant"])
    rgba = compose(image, result)
    assert rgba.shape == (*image.shape[:2], 4)
    assert (rgba[..., :3] == image).all()  # pixels kept, only alpha added
    white = compose(image, result, white_bg=True)
    assert white.shape == image.shape and (white[result.alpha == 0] == 255).all()
    cropped = compose(image, result, crop=True, max_side=200)
    assert max(cropped.shape[:2]) == 200


def _b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_objectcut_exact_request_body(client):
    body = {"image_base64": _b64(TESTDATA / "photo_car_person.jpg"), "objects": ["person", "car"],
            "return_white_bg": False}
    r = client.post("/cut", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert {o["class"] for o in out["objects"]} == {"person", "car"}
    assert (out["width"], out["height"]) == (480, 360)
    png = Image.open(io.BytesIO(base64.b64decode(out["image_base64"])))
    assert png.mode == "RGBA" and png.size == (480, 360)
    alpha = np.asarray(png)[..., 3]
    assert 0.1 < (alpha > 127).mean() < 0.6


def test_white_background_and_png_outputs(client):
    data = (TESTDATA / "photo_elephant.jpg").read_bytes()
    r = client.post("/cut", files={"file": ("e.jpg", data)},
                    data={"objects": "elephant", "return_white_bg": "true", "format": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(r.content))
    assert png.mode == "RGB" and png.getpixel((2, 2)) == (255, 255, 255)
    r = client.post("/cut", files={"file": ("e.jpg", data)}, data={"objects": "elephant"},
                    headers={"Accept": "image/png"})
    assert r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).mode == "RGBA"


def test_several_objects_and_crop(client):
    data = (TESTDATA / "photo_car_person.jpg").read_bytes()
    r = client.post("/cut", files={"file": ("c.jpg", data)},
                    data={"objects": "car,person", "crop": "true"})
    out = r.json()
    boxes = np.array([o["box"] for o in out["objects"]])
    png = Image.open(io.BytesIO(base64.b64decode(out["image_base64"])))
    assert png.size == (int(np.ceil(boxes[:, 2].max())) - int(boxes[:, 0].min()),
                        int(np.ceil(boxes[:, 3].max())) - int(boxes[:, 1].min()))


def test_errors(client):
    data = (TESTDATA / "photo_car_person.jpg").read_bytes()
    body = assert_problem(client.post("/cut", files={"file": ("c.jpg", data)},
                                      data={"objects": "unicorn"}), 400)
    assert "giraffe" in body["detail"]  # lists the valid names
    body = assert_problem(client.post("/cut", files={"file": ("c.jpg", data)},
                                      data={"objects": "giraffe"}), 422)
    assert "car" in body["detail"] and "person" in body["detail"]
    assert_problem(client.post("/cut", json={"image_base64": _b64(TESTDATA / "photo_elephant.jpg")}), 400)
    assert_problem(client.post("/cut", json={"image_base64": _b64(TESTDATA / "photo_elephant.jpg"),
                                             "objects": []}), 400)
    assert_problem(client.post("/cut", files={"file": ("c.jpg", data)}), 400)
    assert_problem(client.post("/cut", files={"file": ("x.pdf", b"%PDF-1.4 x")},
                               data={"objects": "car"}), 415)
