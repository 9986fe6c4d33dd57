"""/cut on real photos: the class is found, alpha covers it and not the background."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from api.engines import yolox
from api.pipelines.cut import CutPipeline, compose
from scripts.eval_cut import reference_iou

from .conftest import SHARED, TESTDATA, rgb
from .helpers import assert_problem

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
    # the spoon and the sheep-like dog are found only in the mirrored second look
    ("test_cutlery.jpg", ["fork", "knife", "spoon"], 0.5), ("test_dog.jpg", ["dog"], 0.7),
])
def test_objectcut_examples(pipeline, name, objects, min_iou):
    image = rgb(OBJECTCUT / name)
    result = pipeline(image, objects)
    assert {o.cls for o in result.objects} == set(objects)
    reference = OBJECTCUT / name.replace(".jpeg", "_output.png").replace(".jpg", "_output.png")
    assert reference_iou(image, result.alpha, reference) >= min_iou


def test_alpha_stays_with_its_object_not_the_neighbour(pipeline):
    """The person's alpha may reach past its detector box (a foot the box cut off; past the
    padded crop only where the crop was grown and matted again) but no further, and the car
    beside it does not leak in."""
    from api.pipelines.cut import GROW_PAD

    image = rgb(TESTDATA / "photo_car_person.jpg")
    result = pipeline(image, ["person"])
    (person,) = result.objects
    x1, y1, x2, y2 = (int(v) for v in person.box)
    px, py = int(np.ceil(GROW_PAD * (x2 - x1))) + 1, int(np.ceil(GROW_PAD * (y2 - y1))) + 1
    outside = result.alpha.copy()
    outside[max(0, y1 - py):y2 + py + 1, max(0, x1 - px):x2 + px + 1] = 0
    assert outside.max() == 0
    (car,) = pipeline(image, ["car"]).objects
    cx1, cy1, cx2, cy2 = (int(v) for v in car.box)
    car_only = result.alpha[cy1:cy2, cx1:cx2].copy()
    car_only[max(0, y1 - cy1):max(0, y2 - cy1), max(0, x1 - cx1):max(0, x2 - cx1)] = 0
    assert (car_only > 0.5).mean() < 0.02
    inside = result.alpha[y1:y2, x1:x2]
    assert 0.2 < (inside > 0.5).mean() < 0.9  # the person, not the whole box


def _own_part(result, index):
    """Mask of detection ``index``'s box less every other detection's box."""
    mask = np.zeros(result.alpha.shape, bool)
    x1, y1, x2, y2 = (int(v) for v in result.objects[index].box)
    mask[y1:y2, x1:x2] = True
    for j, other in enumerate(result.objects):
        if j != index:
            ox1, oy1, ox2, oy2 = (int(v) for v in other.box)
            mask[oy1:oy2, ox1:ox2] = False
    return mask


def test_bus_behind_people_is_opaque_not_a_ghost(pipeline):
    """In the bus's own crop ISNet's salient object is the people in front of it; the bus
    must still come out whole and opaque (GrabCut takes over for it), and each person too."""
    result = pipeline(rgb(EVAL / "ultralytics_bus.jpg"), ["person", "bus"])
    classes = [o.cls for o in result.objects]
    assert classes.count("bus") == 1 and classes.count("person") >= 3
    bus = _own_part(result, classes.index("bus"))
    alpha = result.alpha[bus]
    assert (alpha > 0.5).mean() > 0.6  # most of the bus's own part
    assert np.median(alpha[alpha > 0.05]) > 0.95  # opaque where it is, not translucent
    for i, cls in enumerate(classes):
        if cls == "person" and result.objects[i].score > 0.5:
            x1, y1, x2, y2 = (int(v) for v in result.objects[i].box)
            assert (result.alpha[y1:y2, x1:x2] > 0.5).mean() > 0.3
    # one matte per object at most, plus one regrown crop where a matte ran past its crop
    assert result.mattes <= 2 * len(classes) and not result.capped


def test_matte_cap_shares_one_whole_image_matte(registry):
    image = rgb(EVAL / "ultralytics_bus.jpg")
    full = CutPipeline(registry)(image, ["person", "bus"])
    capped = CutPipeline(registry, max_mattes=2)(image, ["person", "bus"])
    assert capped.capped and capped.mattes == 2
    assert len(capped.objects) == len(full.objects)  # every object is still cut
    assert (capped.alpha > 0.5).mean() > 0.5 * (full.alpha > 0.5).mean()


class _BoxedRegistry:
    """The test registry with the detector replaced by one that returns ``box`` (xyxy) for
    every request: a box that cuts its object short, as YOLOX-Nano's sometimes do."""

    def __init__(self, registry, box):
        self.registry, self.box, self.settings = registry, box, registry.settings

    def get(self, spec):
        if spec is not yolox.SPEC:
            return self.registry.get(spec)
        cls = yolox.COCO_CLASSES.index("person")
        return lambda image, min_score=0.25, class_ids=None: (
            np.array([self.box], np.float32), np.array([0.9], np.float32), np.array([cls]))


def test_matte_past_a_short_box_is_grown_and_matted_again(registry, monkeypatch):
    """rembg's girl with her box ending at 70 % of her height (above the knees): the matte
    runs into the crop's lower edge, so the crop is grown and matted again and the legs come
    back (alpha IoU with rembg's cut-out ≥ 0.9, measured 0.93); without the second matte the
    cut stops at the crop (measured 0.67)."""
    from api.pipelines import cut

    image = rgb(EVAL / "rembg_girl-1.jpg")
    x1, y1, x2, y2 = registry.get(yolox.SPEC)(
        image, class_ids=cut.class_ids(["person"]))[0][0].tolist()
    short = _BoxedRegistry(registry, [x1, y1, x2, y1 + 0.7 * (y2 - y1)])
    grown = CutPipeline(short)(image, ["person"])
    reference = EVAL / "rembg_girl-1.out.png"
    assert grown.mattes == 2
    assert reference_iou(image, grown.alpha, reference) >= 0.9
    assert CutPipeline(short, max_mattes=1)(image, ["person"]).mattes == 1  # the cap holds
    monkeypatch.setattr(cut, "GROW_TOUCH", 2.0)  # never grow
    stopped = CutPipeline(short)(image, ["person"])
    assert stopped.mattes == 1
    assert reference_iou(image, stopped.alpha, reference) < 0.75


def test_plan_mattes_merges_neighbours_of_like_size_only():
    from api.pipelines.cut import plan_mattes

    boxes = np.array([[100, 100, 300, 400], [120, 110, 310, 390],  # two people side by side
                      [0, 0, 800, 600], [600, 500, 640, 540]], np.float32)  # a bus, a ball
    plans = plan_mattes(boxes, 800, 600, max_mattes=10)
    members = sorted(p.members for p in plans)
    assert members == [(0, 1), (2,), (3,)] and not any(p.whole for p in plans)
    capped = plan_mattes(boxes, 800, 600, max_mattes=2)
    assert len(capped) == 2 and capped[-1].whole
    assert sorted(i for p in capped for i in p.members) == [0, 1, 2, 3]


def test_matte_shape_bounds_every_side():
    from api.engines.isnet import MAX_STRETCH, MIN_SIDE, STEP, matte_shape

    for h, w in [(1, 1), (40, 900), (700, 610), (5000, 100), (150, 150), (3000, 3000)]:
        mh, mw = matte_shape(h, w, 384)
        assert mh % STEP == 0 and mw % STEP == 0 and max(mh, mw) <= 384
        assert min(mh, mw) >= min(MIN_SIDE, max(mh, mw)) - 1e-9 or \
            min(mh, mw) * MAX_STRETCH >= max(mh, mw) - STEP
        assert (mh >= mw) == (h >= w) or h == w
    assert matte_shape(150, 150, 384) == (192, 192)  # small crops are matted small


def test_one_dynamic_isnet_session_matches_across_sizes(registry):
    """The rewritten ISNet graph runs at any multiple of 64; the elephant's mask at 256 and
    384 px agrees with the one at 512 px."""
    matte = registry.get("matte-isnet")
    image = rgb(TESTDATA / "photo_elephant.jpg")
    ref = matte(image, max_side=512) > 0.5
    for side in (256, 384):
        mask = matte(image, max_side=side) > 0.5 if side <= matte.max_side else None
        if mask is not None:
            assert (mask & ref).sum() / (mask | ref).sum() > 0.97


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


def test_tiles_find_the_clock_the_whole_image_pass_misses(registry):
    """At 416² the church's clock face is ~25 px and YOLOX-Nano misses it; in a 2 × 2 tile it
    is found. Tiles add no duplicate people on the zidane photo."""
    from api.engines.yolox import COCO_CLASSES
    from api.vision import box_iou

    detector = registry.get("detect-yolox-nano")
    church = rgb(SHARED / "data/seeds/objectcut/examples/church.jpg")
    clock = [COCO_CLASSES.index("clock")]
    assert len(detector(church, min_score=0.25, class_ids=clock, tiles=False,
                        mirror=False)[0]) == 0
    boxes, _, _ = detector(church, min_score=0.25, class_ids=clock)
    assert any(box_iou(list(b), [457, 772, 539, 848]) > 0.5 for b in boxes)  # the clock face
    zidane = rgb(EVAL / "ultralytics_zidane.jpg")
    _, _, ids = detector(zidane, min_score=0.25)
    assert [COCO_CLASSES[i] for i in ids].count("person") == 2


def test_mirrored_second_look_finds_what_the_first_pass_misses(registry):
    """YOLOX-Nano scores ObjectCut's spoon 0.09 and its dog (a sheep to it) 0.02; in the
    mirrored photo both score 0.30. Only missing classes are looked for again: the
    fork and knife found by the first pass get no second box."""
    from api.engines.yolox import COCO_CLASSES
    from api.vision import box_iou

    detector = registry.get("detect-yolox-nano")
    cutlery = rgb(OBJECTCUT / "test_cutlery.jpg")
    ids = [COCO_CLASSES.index(c) for c in ("fork", "knife", "spoon")]
    _, _, plain = detector(cutlery, min_score=0.25, class_ids=ids, mirror=False)
    assert sorted(COCO_CLASSES[i] for i in plain) == ["fork", "knife"]
    boxes, scores, found = detector(cutlery, min_score=0.25, class_ids=ids)
    assert sorted(COCO_CLASSES[i] for i in found) == ["fork", "knife", "spoon"]
    assert list(scores) == sorted(scores, reverse=True)
    spoon = boxes[list(found).index(ids[2])]
    assert box_iou(list(spoon), [324, 40, 428, 280]) > 0.8  # mirrored back onto the spoon
    dog, dog_id = rgb(OBJECTCUT / "test_dog.jpg"), [COCO_CLASSES.index("dog")]
    assert len(detector(dog, min_score=0.25, class_ids=dog_id, mirror=False)[0]) == 0
    assert len(detector(dog, min_score=0.25, class_ids=dog_id)[0]) == 1


#: What YOLOX-Nano cannot get at the default score, so the count test leaves them out: a
#: shirt it calls a tie, and a grey horse half hidden behind a dark one, inside that one's
#: box.
NANO_LIMITS = {"data/eval/cut/ultralytics_zidane.jpg", "data/eval/cut/darknet_horses.jpg"}


def test_detector_counts_match_the_counts_by_eye(registry):
    """Class-aware NMS at its tuned IoU and tiles on large photos: each requested class is
    found as many times as it is in the photo (tests/data/cut_counts.json, counted by eye;
    no duplicate box for one horse, person or sink, no overlapping horse merged away)."""
    import json

    from api.engines.yolox import NMS_IOU
    from scripts.eval_cut_counts import COUNTS, counts

    detector = registry.get("detect-yolox-nano")
    photos = json.loads(COUNTS.read_text())["photos"]
    assert len(photos) == 20 and NANO_LIMITS <= set(photos)
    for rel, truth in photos.items():
        if rel not in NANO_LIMITS:
            assert counts(detector, rgb(SHARED / rel), truth, NMS_IOU, 0.25) == truth, rel
