"""Stamp ink on real scans: a detected box that cuts the ring, or runs wide, becomes the
stamp's whole impression; signatures of another colour stay out; the mask and the removal
work on the ink itself. Truth: the tight hand boxes of tests/data/stamps_truth.json."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from api import inkmask
from api.vision import box_contains, box_iou

from .conftest import REPO_ROOT, rgb, shared
from .helpers import FAKTURA, SLACK, STAVER, WHOLE

TRUTH = json.loads((REPO_ROOT / "tests/data/stamps_truth.json").read_text())["pages"]


@pytest.fixture(scope="module")
def pages():
    return {rel: rgb(shared(f"data/{rel}")) for rel in {r for r, _ in WHOLE}}


def _cut(box, frac=0.12):
    """The box with its left and top ``frac`` cut off (the issue's 225 px box in a 245 px ring)."""
    w, h = box[2] - box[0], box[3] - box[1]
    return [box[0] + frac * w, box[1] + frac * h, box[2], box[3]]


def _loose(box, frac=0.12):
    w, h = box[2] - box[0], box[3] - box[1]
    return [box[0] - frac * w, box[1] - frac * h, box[2] + frac * w, box[3] + frac * h]


@pytest.mark.parametrize("rel,index", WHOLE)
def test_a_box_that_cuts_the_stamp_grows_to_the_whole_impression(pages, rel, index):
    truth = TRUTH[rel][index]
    for start in (_cut(truth), _loose(truth), truth):
        ink = inkmask.refine(pages[rel], start)
        assert ink is not None
        box = ink.box.tolist()
        assert box_iou(box, truth) >= 0.9, (start, box)
        assert box_contains(box, truth, SLACK), (start, box)


def test_a_faded_part_of_the_ring_stays_inside_the_box(pages):
    """The StaVer ring with its left third faded to 7 % of its contrast (a worn or lightly
    inked side): that arc falls below the full ink thresholds, but as faint ink of the seal's
    colour joined to the rest it keeps the box from shrinking past it (inkmask.FAINT)."""
    rel = STAVER[0]
    truth = TRUTH[rel][0]
    page = pages[rel].copy()
    x1, y1, x2, y2 = (int(v) for v in truth)
    xm = x1 + int(0.35 * (x2 - x1))
    paper = np.median(page[y1:y2, x1:x2].reshape(-1, 3), axis=0)
    side = page[y1 - 10:y2 + 10, x1 - 10:xm].astype(float)
    page[y1 - 10:y2 + 10, x1 - 10:xm] = (paper + 0.07 * (side - paper)).clip(0, 255)
    ink = inkmask.refine(page, truth)
    assert box_contains(ink.box.tolist(), truth, SLACK), ink.box
    assert box_iou(ink.box.tolist(), truth) >= 0.9
    assert ink.mask[:, :int(0.25 * ink.mask.shape[1])].mean() < 0.02  # the faded arc: not mask


def test_coloured_and_black_stamps_are_told_apart(pages):
    assert inkmask.refine(pages[STAVER[0]], TRUTH[STAVER[0]][0]).kind == "coloured"
    zaplatene = inkmask.refine(pages[FAKTURA], TRUTH[FAKTURA][0])
    assert zaplatene.kind == "coloured" and 300 <= zaplatene.hue <= 360  # pink-red a*b* angle
    assert inkmask.refine(pages[FAKTURA], TRUTH[FAKTURA][1]).kind == "dark"


def test_a_blue_signature_through_a_black_stamp_stays_outside(pages):
    """The ATLANTIS stamp has a blue pen signature running far above and below it; the
    refined box ends where the black impression does."""
    truth = TRUTH[FAKTURA][1]
    ink = inkmask.refine(pages[FAKTURA], _loose(truth, 0.2))
    assert ink.box[1] >= truth[1] - SLACK and ink.box[3] <= truth[3] + SLACK
    page = pages[FAKTURA]
    x1, y1, x2, y2 = inkmask.pixel_box(ink.box)
    region = page[y1:y2, x1:x2].astype(int)
    blue = (region[..., 2] - region[..., 0] > 60)  # the pen: blue well above red
    assert blue.sum() > 200  # the signature crosses the stamp ...
    assert (ink.mask & blue).sum() < 0.05 * blue.sum()  # ... and is not its ink


def test_mask_is_the_stamps_ink_at_the_box_size(pages):
    ink = inkmask.refine(pages[STAVER[1]], TRUTH[STAVER[1]][0])
    x1, y1, x2, y2 = inkmask.pixel_box(ink.box)
    assert ink.mask.shape == (y2 - y1, x2 - x1) and ink.mask.dtype == bool
    assert 0.1 < ink.mask.mean() < 0.6  # a ring, emblem and text, not a filled disc
    region = pages[STAVER[1]][y1:y2, x1:x2].astype(int)
    inked = region[ink.mask]
    assert (inked[:, 2] > inked[:, 0] + 15).mean() > 0.95  # the seal's blue
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(ink.mask_png()))))
    assert decoded.shape == ink.mask.shape and set(np.unique(decoded)) <= {0, 255}
    assert np.array_equal(decoded == 255, ink.mask)


def test_removal_clears_the_ink_and_nothing_else(pages):
    page = pages[FAKTURA]
    inks = [inkmask.refine(page, box) for box in TRUTH[FAKTURA]]
    clean = inkmask.remove(page, inks)
    assert clean.shape == page.shape and clean.dtype == np.uint8
    x1, y1, x2, y2 = inkmask.pixel_box(inks[0].box)
    before, after = page[y1:y2, x1:x2].astype(int), clean[y1:y2, x1:x2].astype(int)
    pink = lambda a: (a[..., 0] - a[..., 1] > 60)  # noqa: E731
    assert pink(before).sum() > 5000 and pink(after).sum() < 0.02 * pink(before).sum()
    outside = np.ones(page.shape[:2], bool)
    for ink in inks:
        bx1, by1, bx2, by2 = inkmask.pixel_box(ink.box)
        outside[by1:by2, bx1:bx2] = False
    assert np.array_equal(clean[outside], page[outside])


def test_blank_paper_and_tiny_boxes_are_left_alone():
    paper = np.full((400, 400, 3), 250, np.uint8)
    assert inkmask.refine(paper, [100, 100, 300, 300]) is None
    assert inkmask.refine(paper, [10, 10, 12, 12]) is None
    assert np.array_equal(inkmask.remove(paper, []), paper)


def test_a_huge_box_is_analysed_at_a_bounded_size():
    """A whole 6000 × 6000 photo as one box: the window is reduced to MAX_WINDOW_PIXELS, and
    the answer comes back at page scale."""
    page = np.full((6000, 6000, 3), 255, np.uint8)
    import cv2

    cv2.circle(page, (3000, 3000), 2000, (30, 40, 200), 60)
    ink = inkmask.refine(page, [800, 800, 5200, 5200])
    assert ink is not None and box_iou(ink.box.tolist(), [970, 970, 5030, 5030]) > 0.95
    x1, y1, x2, y2 = inkmask.pixel_box(ink.box)
    assert ink.mask.shape == (y2 - y1, x2 - x1)


def test_paper_share_tells_scanned_pages_from_photos(pages):
    """Real scans are mostly paper; real photos are not (the document check's second
    clause, :data:`api.pipelines.stamps.PHOTO_MAX_PAPER`)."""
    for rel, page in pages.items():
        assert inkmask.paper_share(page) > 0.85, rel
    for rel in ("data/eval/cut/darknet_dog.jpg", "data/eval/cut/ultralytics_bus.jpg",
                "data/seeds/objectcut/docs/images/test_pizza.jpeg"):
        assert inkmask.paper_share(rgb(shared(rel))) < 0.4, rel
    with pytest.raises(ValueError):
        inkmask.paper_share(np.zeros((0, 5, 3), np.uint8))
