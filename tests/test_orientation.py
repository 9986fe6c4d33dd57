"""Pages scanned sideways or upside down (api/orientation.py): real pages turned a quarter
either way or a half are told apart from upright ones, upright pages that the 0/180°
classifier alone would turn are left as they are, and boxes found on the page turned
upright map back onto it."""

from __future__ import annotations

import numpy as np
import pytest

from api import orientation
from api.engines import ppocr

from .conftest import rgb, shared

STAVER = "data/eval/stamps/staver_image_1.png"
PHOTOTEST = "data/eval/ocr/tesseract_phototest.png"


def _turned(image: np.ndarray, turns: int) -> np.ndarray:
    """``image`` turned ``turns`` quarters clockwise."""
    return np.ascontiguousarray(np.rot90(image, -turns))


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_boxes_and_masks_found_upright_map_back_onto_the_page(turns):
    page = np.full((60, 100, 3), 255, np.uint8)
    page[10:25, 62:90] = 0  # rows 10-24, columns 62-89: the xyxy box [62, 10, 90, 25]
    page[10, 62] = 128  # marks the box's top-left pixel
    turned = _turned(page, turns)
    up = orientation.upright(turned, turns)
    assert np.array_equal(up, page)
    ys, xs = np.nonzero(turned[..., 0] < 255)
    found = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    # the box found on the upright page, mapped into the turned one, is where the ink is
    back = orientation.boxes_back(np.array([[62, 10, 90, 25]], np.float32), turns, turned.shape)
    assert np.array_equal(back, found)
    corners = np.array([[62, 10], [90, 10], [90, 25], [62, 25]], np.float32)
    points = orientation.points_back(corners, turns, turned.shape)
    assert np.array_equal(np.r_[points.min(0), points.max(0)], back[0])
    mask = orientation.mask_back(page[10:25, 62:90, 0] == 128, turns)
    x1, y1, x2, y2 = back[0].astype(int)
    assert mask.shape == (y2 - y1, x2 - x1)
    assert turned[y1:y2, x1:x2, 0][mask].tolist() == [128]


@pytest.mark.parametrize("rel", [STAVER, PHOTOTEST])
def test_text_lines_across_or_down_the_page(rel):
    page = rgb(shared(rel))
    assert orientation.line_direction(page) > 0.5
    assert orientation.line_direction(_turned(page, 1)) < -0.5
    assert orientation.line_direction(_turned(page, 3)) < -0.5


@pytest.mark.parametrize("rel", [STAVER, PHOTOTEST])
def test_quarter_turns_of_real_pages(registry, rel):
    ocr = registry.get(ppocr.SPEC)
    page = rgb(shared(rel))
    assert [orientation.quarter_turns(_turned(page, k), ocr) for k in (0, 1, 3)] == [0, 1, 3]


@pytest.mark.parametrize("rel", [STAVER, PHOTOTEST])
def test_page_turns_of_real_pages(registry, rel):
    ocr = registry.get(ppocr.SPEC)
    page = rgb(shared(rel))
    assert [orientation.page_turns(_turned(page, k), ocr) for k in (0, 1, 2, 3)] == [0, 1, 2, 3]
    # /ocr keeps its own 0/180° vote
    assert orientation.page_turns(_turned(page, 2), ocr, half=False) == 0


@pytest.mark.parametrize("rel", [
    # an upright Russian form: PP-OCR's 0/180° classifier calls its six widest lines upside
    # down (mean upright probability 0.10 as given, 0.75 turned), its recogniser reads them
    # better as given (0.72 against 0.58)
    "data/train/stamps/nihal-f3yka/111-257-_jpg.rf.d53c88a789d1a97b24ddb50a4a95ed11.jpg",
    # an upright close-up of an address stamp, letters too big to be letter blobs: the
    # first upside-down check turned it on the valid split for two scraps of its ring
    "data/train/stamps/nihal-f3yka/"
    "Screenshot-2023-12-19-181351_png_jpg.rf.cfaf5ab9e089a8ed1ef180a37929032a.jpg",
])
def test_upright_pages_the_classifier_doubts_are_not_turned(registry, rel):
    ocr = registry.get(ppocr.SPEC)
    assert orientation.page_turns(rgb(shared(rel)), ocr) == 0


def test_a_page_without_lines_is_left_as_it_is(registry):
    ocr = registry.get(ppocr.SPEC)
    blank = np.full((800, 600, 3), 250, np.uint8)
    assert orientation.quarter_turns(blank, ocr) == 0
    assert orientation.page_turns(blank, ocr) == 0
    # strips of a page, as a thin PDF page renders (shrinking one to 1000 px made an empty
    # image, and a 500), and a single pixel
    for shape in [(8, 40000, 3), (40000, 8, 3), (1, 1, 3)]:
        assert orientation.quarter_turns(np.full(shape, 200, np.uint8), ocr) == 0
        assert orientation.page_turns(np.full(shape, 200, np.uint8), ocr) == 0


def test_a_few_standing_lines_are_not_a_sideways_page_for_ocr(registry):
    # the first three lines of the phototest page, turned: sideways for /stamps and
    # /extract, but a column or two is what a vertical sign is, so /ocr leaves it
    ocr = registry.get(ppocr.SPEC)
    lines = _turned(rgb(shared(PHOTOTEST))[:130], 1)
    assert orientation.quarter_turns(lines, ocr) == 1
    assert orientation.quarter_turns(lines, ocr, orientation.OCR_MIN_LINES) == 0
