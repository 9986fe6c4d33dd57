"""/stamps on real scans: the detector finds the hand-labelled stamps, embeddings tell the
same stamp from different ones, and the three routes answer as the spec says."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import numpy as np
import pymupdf
import pytest
from PIL import Image

from api.engines import stampdet
from api.pipelines.stamps import MATCH_THRESHOLD, MIN_DOCUMENT, StampsPipeline
from api.vision import box_iou, crop_box
from scripts.eval_stamp_embed import crops as stamp2vec_crops
from scripts.eval_stamp_embed import retrieval

from .conftest import REPO_ROOT, png_bytes, rgb, shared
from .helpers import FAKTURA, SLACK, STAVER, WHOLE, assert_problem

TRUTH = json.loads((REPO_ROOT / "tests/data/stamps_truth.json").read_text())["pages"]
NO_STAMP = "eval/stamps/mullevik_bg_papercon_ZDF_12_30053.jpg"
FULL_DOC = "seeds/stamp2vec/tests/test_data/test_full_doc.jpeg"
CROPPED = "seeds/stamp2vec/tests/test_data/test_cropped_stamp.png"


@pytest.fixture(scope="module")
def pipeline(registry):
    return StampsPipeline(registry)


@pytest.fixture(scope="module")
def pages():
    return {rel: rgb(shared(f"data/{rel}")) for rel in TRUTH}


def _file(rel: str):
    path = shared(f"data/{rel}")
    return {"file": (path.name, path.read_bytes())}


def _found(pipeline, pages, min_score=stampdet.MIN_SCORE, **kwargs):
    from training.train_stamps import score_sets

    def predict(image, threshold):
        boxes, scores = pipeline.find(image, threshold, **kwargs)[:2]
        return boxes, scores

    truth = [(pages[rel], np.array(t, np.float32).reshape(-1, 4)) for rel, t in TRUTH.items()]
    return score_sets(predict, truth, (min_score,))[min_score]


def test_detector_recall_and_precision_on_real_scans(pipeline, pages):
    """Real scans the detector never trained on (tight hand boxes in
    tests/data/stamps_truth.json: 11 stamps on 10 pages), IoU ≥ 0.5, as /stamps finds them
    by default (two fused YOLOX detectors + ink refinement). Measured: 9 of 11 found, no
    false box (recall 0.82, precision 1.0; the first member alone found 8). The issue's
    target is 0.95 for both; the grey registry form stamp and the black ATLANTIS stamp under
    its signature are missed. This guards the measured level."""
    found = _found(pipeline, pages)
    assert found["stamps"] == 11
    assert found["tp"] >= 9 and found["fp"] == 0, found


def _turn_boxes(boxes, turns: int, shape) -> np.ndarray:
    """xyxy boxes of a page → the same boxes once the page is turned ``turns`` quarters
    clockwise (``shape`` the page's)."""
    h, w = shape[:2]
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    if turns == 1:
        return np.stack([h - b[:, 3], b[:, 0], h - b[:, 1], b[:, 2]], 1)
    if turns == 2:
        return np.stack([w - b[:, 2], h - b[:, 3], w - b[:, 0], h - b[:, 1]], 1)
    return np.stack([b[:, 1], w - b[:, 2], b[:, 3], w - b[:, 0]], 1)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_pages_scanned_sideways_keep_their_stamps(pipeline, pages, turns):
    """The real scans turned a quarter clockwise (1), upside down (2) or a quarter
    counter-clockwise (3) are turned upright for detection (api/orientation.py) and keep
    what the upright pages give: 9 of 11 stamps, no false box, boxes in the turned page's
    own frame. Without it the detector, trained on upright pages, found 7 of 11 on the pages
    turned clockwise and 7 of 11 on the pages upside down."""
    from training.train_stamps import score_sets

    turned = [(np.ascontiguousarray(np.rot90(pages[rel], -turns)),
               _turn_boxes(TRUTH[rel], turns, pages[rel].shape)) for rel in TRUTH]
    found = score_sets(lambda im, t: pipeline.find(im, t)[:2], turned,
                       (stampdet.MIN_SCORE,))[stampdet.MIN_SCORE]
    assert found["stamps"] == 11
    assert found["tp"] >= 9 and found["fp"] == 0, found


def test_sideways_page_gives_whole_boxes_and_masks_in_its_own_frame(client, pages):
    page = np.ascontiguousarray(np.rot90(pages[STAVER[1]], -1))
    truth = _turn_boxes(TRUTH[STAVER[1]], 1, pages[STAVER[1]].shape)[0].tolist()
    body = {"file": ("sideways.png", png_bytes(Image.fromarray(page)))}
    reply = client.post("/stamps", files=body, data={"mask": "true"}).json()
    # the page was found turned 90° clockwise and searched turned back
    assert [p["rotation"] for p in reply["pages"]] == [90]
    stamps = reply["stamps"]
    best = max(stamps, key=lambda s: box_iou(s["box"], truth))
    assert box_iou(best["box"], truth) >= 0.85, (best["box"], truth)
    mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(best["mask"]))))
    x1, y1, x2, y2 = best["box"]
    assert abs(mask.shape[1] - (x2 - x1)) <= 1 and abs(mask.shape[0] - (y2 - y1)) <= 1
    # the mask lies on the turned page's ink: darker under the mask than around it
    grey = page.mean(2)[int(y1):int(y1) + mask.shape[0], int(x1):int(x1) + mask.shape[1]]
    assert grey[mask == 255].mean() < grey[mask == 0].mean() - 40


def test_valid_split_of_the_real_pool_matches_the_card(pipeline):
    """The pool's valid split (real pages the detectors never trained on; their checkpoints
    and the fused threshold were chosen there): the shipped pair, fused as the service runs
    it, gives exactly the recall and precision per source of models/stamps/ensemble.json
    (detector boxes, IoU ≥ 0.5 against the pool's labels with the added stamps), and its
    threshold is the service default."""
    from training.train_stamps import ADDED, _load_rgb, pool, score_sets

    card = json.loads((REPO_ROOT / "models/stamps/ensemble.json").read_text())
    assert card["min_score"] == stampdet.MIN_SCORE
    assert card["members"] == list(stampdet.MEMBERS)
    rows = pool("valid", ADDED)
    assert len(rows) == 308
    for source in sorted({r["source"] for r in rows}):
        pages = [(_load_rgb(r["file"]), r["boxes"]) for r in rows if r["source"] == source]
        found = score_sets(lambda im, t: pipeline.detect(im, t), pages,
                           (stampdet.MIN_SCORE,))[stampdet.MIN_SCORE]
        assert found == card["valid"][source], source


def test_touching_stamps_of_one_ink_stay_two_stamps(pipeline):
    """A valid-split page of the real pool with two blue stamps whose rings touch: their
    refined boxes merge into one blob, but the detector saw two apart, so both are returned
    (each at IoU ≥ 0.5 with its label); the first keeps its ink, the second its detector box."""
    from training.train_stamps import _load_rgb, pool

    row = next(r for r in pool("valid") if "/2625_png_jpg" in r["rel"])
    image = _load_rgb(row["file"])
    boxes, scores, inks, _ = pipeline.find(image, stampdet.MIN_SCORE, verify=False)
    labels = [b for b in row["boxes"].tolist() if b[0] > image.shape[1] / 2]
    assert len(labels) == 2
    matched = []
    for label in labels:
        best = max(range(len(boxes)), key=lambda i: box_iou(boxes[i].tolist(), label))
        assert box_iou(boxes[best].tolist(), label) >= 0.5, (label, boxes)
        matched.append(best)
    assert len(set(matched)) == 2
    assert sorted(inks[i] is None for i in matched) == [False, True]
    detected, _ = pipeline.detect(image, stampdet.MIN_SCORE)
    right = [d for d in detected if d[0] > image.shape[1] / 2]
    assert len(right) == 2 and box_iou(right[0].tolist(), right[1].tolist()) < 0.2
    refined = [pipeline.refine(image, d[None], np.ones(1))[0][0] for d in right]
    assert box_iou(refined[0].tolist(), refined[1].tolist()) > stampdet.NMS_IOU  # one blob


def test_added_labels_join_the_pool_inside_their_pages():
    """The stamps the pool's labels miss, confirmed by eye (training/stamps_added.json), are
    appended to their pages' boxes on request only, each one inside its page and not a copy
    of a label it already has."""
    from training.train_stamps import ADDED, pool

    doc = json.loads(ADDED.read_text(encoding="utf-8"))
    for split in ("train", "valid"):
        plain = {r["rel"]: r for r in pool(split)}
        added = {r["rel"]: r for r in pool(split, ADDED)}
        assert set(plain) == set(added)
        extra = sum(len(v) for v in doc[split].values())
        assert extra > 0
        assert sum(len(r["boxes"]) for r in added.values()) == \
            sum(len(r["boxes"]) for r in plain.values()) + extra
        for rel, boxes in doc[split].items():
            width, height = Image.open(plain[rel]["file"]).size
            for box in boxes:
                assert 0 <= box[0] < box[2] <= width and 0 <= box[1] < box[3] <= height
                assert all(box_iou(box, b) < 0.3 for b in plain[rel]["boxes"].tolist())


def test_every_box_holds_the_whole_stamp(client):
    """StaVer's round seals and the faktura page's ZAPLATENÉ stamp: through /stamps, each
    hand box is matched by a returned box with IoU ≥ 0.85 that contains it (no ring pixel
    outside; 4 px slack for the 10 px grid the boxes were read on). The detector misses the
    page's black ATLANTIS stamp (see above); test_inkmask checks its refinement from a box."""
    from api.vision import box_contains

    for rel, index in WHOLE[:-1]:
        truth = TRUTH[rel][index]
        boxes = [s["box"] for s in client.post("/stamps", files=_file(rel)).json()["stamps"]]
        best = max(boxes, key=lambda b: box_iou(b, truth))
        assert box_iou(best, truth) >= 0.85 and box_contains(best, truth, SLACK), (rel, best, truth)


def test_stamp2vec_full_doc_stamp_is_found_first(client):
    """Stamp2vec's test page (a 214 × 235 screenshot): its stamp is the best detection."""
    r = client.post("/stamps", files=_file(FULL_DOC))
    assert r.status_code == 200, r.text
    body = r.json()
    assert box_iou(body["stamps"][0]["box"], TRUTH[FULL_DOC][0]) >= 0.5
    assert body["stamps"][0]["score"] == max(s["score"] for s in body["stamps"])
    assert body["pages"] == [{"page": 1, "width": 214, "height": 235,
                              "document": body["pages"][0]["document"], "rotation": 0}]
    assert body["pages"][0]["document"] >= MIN_DOCUMENT


def test_stamp2vec_full_doc_has_exactly_one_stamp(client):
    """Stamp2vec's own test expects one stamp; the signature beside it is not boxed, with or
    without the seal text check (on by default; ``verify_text=false`` turns it off)."""
    body = client.post("/stamps", files=_file(FULL_DOC)).json()
    assert len(body["stamps"]) == 1 and "verify" in body["timings_ms"]
    assert "refine" in body["timings_ms"]
    plain = client.post("/stamps", files=_file(FULL_DOC), data={"verify_text": "false"}).json()
    assert len(plain["stamps"]) == 1 and "verify" not in plain["timings_ms"]


def test_refine_false_returns_the_detectors_boxes(client, pipeline, pages):
    raw = client.post("/stamps", files=_file(STAVER[1]), data={"refine": "false"}).json()
    boxes, _ = pipeline.detect(pages[STAVER[1]], stampdet.MIN_SCORE)
    assert [s["box"] for s in raw["stamps"]] == [[round(float(v), 1) for v in b] for b in boxes]
    assert "refine" not in raw["timings_ms"]


def test_mask_option_gives_each_stamps_ink(client):
    r = client.post("/stamps", files=_file(STAVER[2]), data={"mask": "true"})
    assert r.status_code == 200, r.text
    stamp = r.json()["stamps"][0]
    mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(stamp["mask"]))))
    x1, y1, x2, y2 = stamp["box"]
    assert abs(mask.shape[1] - (x2 - x1)) <= 1 and abs(mask.shape[0] - (y2 - y1)) <= 1
    assert 0.1 < (mask == 255).mean() < 0.6
    assert "mask" not in client.post("/stamps", files=_file(STAVER[2])).json()["stamps"][0]


def test_removed_mode_returns_the_page_without_stamp_ink(client):
    r = client.post("/stamps", files=_file(FAKTURA), data={"mode": "removed"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    clean = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")).astype(int)
    page = rgb(shared(f"data/{FAKTURA}")).astype(int)
    assert clean.shape == page.shape
    x1, y1, x2, y2 = TRUTH[FAKTURA][0]  # ZAPLATENÉ, pink
    pink = lambda a: (a[..., 0] - a[..., 1] > 60).sum()  # noqa: E731
    assert pink(page[y1:y2, x1:x2]) > 5000 and pink(clean[y1:y2, x1:x2]) < 100
    assert np.array_equal(clean[:1500], page[:1500])  # the invoice above the stamps is kept


def test_text_under_a_stamp_is_read_after_removal(client, pages):
    """A blue seal stamped across a printed line hides it from /ocr; with ``mode=removed``
    first, /ocr reads the line."""
    import cv2
    from PIL import ImageDraw, ImageFont

    from api import inkmask

    seal = inkmask.refine(pages[STAVER[1]], TRUTH[STAVER[1]][0])
    x1, y1, x2, y2 = inkmask.pixel_box(seal.box)
    ink = pages[STAVER[1]][y1:y2, x1:x2].astype(np.float32) / 255
    canvas = Image.new("RGB", (900, 400), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    ImageDraw.Draw(canvas).text((40, 170), "INVOICE 2024-117 PAID", fill="black", font=font)
    page = np.asarray(canvas).astype(np.float32) / 255
    h, w = ink.shape[:2]
    region = page[80:80 + h, 330:330 + w]
    alpha = seal.mask[..., None]
    page[80:80 + h, 330:330 + w] = np.where(alpha, region * ink, region)  # multiply, as ink does
    stamped = (page * 255).astype(np.uint8)
    data = png_bytes(Image.fromarray(stamped))

    def text(png):
        body = client.post("/ocr", files={"file": ("p.png", png)}, data={"lang": "en"}).json()
        return " ".join(line["text"] for line in body["pages"][0]["lines"])

    cleaned = client.post("/stamps", files={"file": ("p.png", data)}, data={"mode": "removed"})
    assert cleaned.status_code == 200
    assert "INVOICE 2024-117 PAID" in text(cleaned.content)
    assert cv2.absdiff(stamped, np.asarray(Image.open(io.BytesIO(cleaned.content)).convert("RGB"))).max() > 0


def test_seal_text_check_keeps_real_stamps_and_drops_signatures(registry):
    """Every real stamp crop of Stamp2vec (46 embedding crops and 22 cropped stamps, none
    from the detector's evaluation pages) holds text; pen signatures drawn by the training
    generator on white paper mostly do not."""
    import random

    from scripts.eval_stamp_verify import real_crops
    from training import synth

    checker = registry.get("seal-text")
    crops = real_crops()
    assert len(crops) == 68
    assert all(checker.text_regions(c) > 0 for c in crops)
    empty = 0
    for seed in range(20):
        canvas = np.full((160, 260, 3), 255, np.uint8)
        synth.draw_signature(random.Random(seed), canvas, 10, 10, 240, 140)
        empty += checker.text_regions(canvas) == 0
    assert empty >= 17, empty
    assert checker.text_regions(np.full((200, 200, 3), 255, np.uint8)) == 0


def test_page_without_stamps_is_200_with_empty_list(client):
    r = client.post("/stamps", files=_file(NO_STAMP))
    assert r.status_code == 200, r.text
    assert r.json()["stamps"] == [] and r.json()["similarity"] == []


def test_embeddings_and_similarity_matrix(client):
    """Two different stamps in one PDF (a StaVer seal, the faktura's ZAPLATENÉ): unit
    embeddings, a symmetric matrix with 1 on the diagonal, the two below the match line."""
    doc = pymupdf.open()
    for rel in (STAVER[0], FAKTURA):
        scan = Image.open(shared(f"data/{rel}")).convert("RGB").resize((1240, 1754))
        buf = io.BytesIO()
        scan.save(buf, "JPEG", quality=90)
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=buf.getvalue())
    r = client.post("/stamps", files={"file": ("two.pdf", doc.tobytes())},
                    data={"embeddings": "true", "dpi": "150"})
    body = r.json()
    assert [s["page"] for s in body["stamps"]] == [1, 2], body["stamps"]
    emb = np.array([s["embedding"] for s in body["stamps"]])
    assert emb.shape == (2, 1280)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    sim = np.array(body["similarity"])
    assert np.allclose(sim, sim.T) and np.allclose(np.diag(sim), 1.0, atol=1e-3)
    assert sim[0, 1] == pytest.approx(float(emb[0] @ emb[1]), abs=1e-3)
    assert sim[0, 1] < MATCH_THRESHOLD  # the blue seal and the red "paid" stamp differ


def test_same_stamp_on_five_scans_is_closer_than_different_stamps(pipeline, pages):
    """StaVer's five pages carry one physical stamp; other eval stamps are different ones."""
    same = [crop_box(pages[rel], TRUTH[rel][0]) for rel in STAVER]
    others = [crop_box(pages[rel], box) for rel, boxes in TRUTH.items()
              if rel not in STAVER for box in boxes]
    a, b = pipeline.embed(same), pipeline.embed(others)
    within = (a @ a.T)[np.triu_indices(len(same), 1)]
    across = a @ b.T
    assert within.min() > across.max()
    assert within.min() >= MATCH_THRESHOLD > across.max()


def test_embed_route_matches_the_pipeline(client, pipeline):
    path = shared(f"data/{CROPPED}")
    r = client.post("/stamps/embed", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dim"] == 1280 and body["model"] == "stamp-embed"
    direct = pipeline.embed([rgb(path)])[0]
    assert float(np.array(body["embedding"]) @ direct) > 0.9999


def test_compare_finds_our_stamp_and_rejects_another(client, pages):
    reference = png_bytes(Image.fromarray(crop_box(pages[STAVER[0]], TRUTH[STAVER[0]][0])))
    ours = client.post("/stamps/compare", files={**_file(STAVER[1]), "reference": ("r.png", reference)})
    body = ours.json()
    assert ours.status_code == 200, ours.text
    assert body["match"] is True and body["best"] is not None
    assert box_iou(body["stamps"][body["best"]]["box"], TRUTH[STAVER[1]][0]) >= 0.5
    other = client.post("/stamps/compare", json={
        "image_base64": base64.b64encode(shared(
            "data/eval/stamps/mullevik_stamps_faktura-237279.jpg").read_bytes()).decode(),
        "reference_base64": base64.b64encode(reference).decode()})
    assert other.status_code == 200, other.text
    assert other.json()["match"] is False and len(other.json()["stamps"]) >= 1


def test_compare_without_stamps_has_no_best(client):
    ref = shared(f"data/{CROPPED}").read_bytes()
    r = client.post("/stamps/compare", files={**_file(NO_STAMP), "reference": ("r.png", ref)})
    assert r.json()["best"] is None and r.json()["match"] is False


def test_annotated_page_is_a_png_of_the_page(client):
    r = client.post("/stamps", files=_file(STAVER[0]), data={"mode": "annotated"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content))
    assert image.size == (2476, 3484)
    x1, y1, x2, y2 = TRUTH[STAVER[0]][0]
    # the box outline is drawn in colour on the stamp's left edge
    strip = np.asarray(image.convert("RGB"))[int(y1) + 20:int(y2) - 20, int(x1) - 12:int(x1) + 12]
    assert (np.abs(strip.astype(int) - [230, 25, 75]).sum(-1) < 60).any()


def test_pdf_pages_are_detected_with_page_numbers(client):
    image = shared(f"data/{STAVER[4]}").read_bytes()
    doc = pymupdf.open()
    for _ in range(2):
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=image)
    r = client.post("/stamps", files={"file": ("two.pdf", doc.tobytes())}, data={"dpi": "100"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["page"] for s in body["stamps"]] == [1, 2]
    assert body["similarity"][0][1] > 0.99  # the same page twice


def test_zip_mode_gives_every_pages_stamp_crops_and_their_manifest(client):
    """A two-page PDF of a StaVer scan: one crop per stamp, named by page, whose manifest
    boxes are the JSON answer's and whose pixels are that box of the rendered page."""
    image = shared(f"data/{STAVER[4]}").read_bytes()
    doc = pymupdf.open()
    for _ in range(2):
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=image)
    pdf = {"file": ("two.pdf", doc.tobytes())}
    found = client.post("/stamps", files=pdf, data={"dpi": "100"}).json()["stamps"]
    r = client.post("/stamps", files=pdf, data={"dpi": "100", "mode": "zip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    manifest = json.loads(archive.read("manifest.json"))["stamps"]
    assert [m["file"] for m in manifest] == ["stamps_p1_stamp_1.png", "stamps_p2_stamp_2.png"]
    assert [(m["page"], m["box"], m["score"]) for m in manifest] == [
        (s["page"], s["box"], s["score"]) for s in found]
    for m in manifest:
        crop = Image.open(io.BytesIO(archive.read(m["file"])))
        x1, y1, x2, y2 = m["box"]
        assert abs(crop.width - (x2 - x1)) <= 2 and abs(crop.height - (y2 - y1)) <= 2
        assert np.asarray(crop.convert("L")).min() < 128  # ink, not blank paper


def test_compare_bad_input_is_a_problem(client):
    crop = shared(f"data/{CROPPED}").read_bytes()
    assert_problem(client.post("/stamps/compare", files={"file": ("d.png", crop)}), 400)
    assert_problem(client.post("/stamps/compare", files={
        "file": ("d.png", crop), "reference": ("r.png", b"not an image")}), 415)


def test_compare_json_needs_exactly_one_reference(client):
    img = base64.b64encode(shared(f"data/{CROPPED}").read_bytes()).decode()
    assert_problem(client.post("/stamps/compare", json={"image_base64": img}), 400)
    assert_problem(client.post("/stamps/compare", json={
        "image_base64": img, "reference_base64": img, "reference_url": "http://example.com/x.png"}), 400)


def test_embeddings_retrieve_stamp2vec_identities():
    """On Stamp2vec's crops (identity = template name; see scripts/eval_stamp_embed.py) the
    ImageNet features retrieve the same stamp first for most queries; measured P@1 0.667,
    mAP@5 0.711 (Stamp2vec's ViT-S/8 reports mAP@5 0.80)."""
    from api.engines.stampembed import WEIGHTS, StampEmbedder
    from api.settings import Settings

    engine = StampEmbedder(REPO_ROOT / Settings.from_env({}).models_dir / WEIGHTS, 2)
    _, ids, images = stamp2vec_crops()
    result = retrieval(engine.embed(images), ids)
    assert result["queries"] == 15
    assert result["precision_at_1"] >= 0.6 and result["map_at_5"] >= 0.65


def test_text_check_stops_at_the_deadline(pipeline, pages):
    """The text check costs 70–100 ms a box, so a page with many low-score boxes checks the
    request deadline before each one (504, not a worker stuck past its budget)."""
    import time

    from api.errors import GatewayTimeout
    from api.pipelines.base import Deadline

    image = pages[FULL_DOC]
    boxes, _ = pipeline.detect(image, 0.05)
    assert len(boxes) >= 2
    assert pipeline.verify(image, boxes[:1], deadline=Deadline(30)).shape == (1,)
    expired = Deadline(0.001)
    time.sleep(0.01)
    with pytest.raises(GatewayTimeout):
        pipeline.verify(image, boxes, deadline=expired)


def test_confident_boxes_skip_the_text_check_and_doubtful_ones_are_checked(pipeline, pages,
                                                                          monkeypatch):
    """Boxes scoring at least VERIFY_BELOW are kept without running the seal text detector
    (not even loading it); lower ones go through it. On Stamp2vec's page the stamp scores
    above the gate and the detector's low boxes (a signature, print) below it."""
    from api.pipelines import stamps as stamps_pipeline

    image = pages[FULL_DOC]
    boxes, scores = pipeline.detect(image, 0.05)
    confident = scores >= stamps_pipeline.VERIFY_BELOW
    assert confident.any() and not confident.all()
    calls = []
    real_get = pipeline.registry.get
    monkeypatch.setattr(pipeline.registry, "get",
                        lambda spec: (calls.append(spec.name), real_get(spec))[1])
    assert pipeline.verify(image, boxes[confident], scores[confident]).all()
    assert calls == []  # nothing checked: the seal text model is not even fetched
    keep = pipeline.verify(image, boxes, scores)
    assert calls == ["seal-text"]
    assert keep[confident].all()
    unchecked = pipeline.verify(image, boxes[~confident])  # scores None: every box checked
    assert np.array_equal(keep[~confident], unchecked)


def test_a_photo_gets_no_stamps_unless_the_document_check_is_off(client):
    """The detector boxes the dog and the bicycle of a street photo as stamps; the document
    check (on by default) finds the photo is no document (ImageNet document score under
    ``MIN_DOCUMENT``, little paper) and returns none, and says why in ``pages``."""
    body = client.post("/stamps", files=_file("eval/cut/darknet_dog.jpg")).json()
    assert body["stamps"] == [] and body["pages"][0]["document"] < MIN_DOCUMENT
    assert "document" in body["timings_ms"] and "detect" not in body["timings_ms"]
    off = client.post("/stamps", files=_file("eval/cut/darknet_dog.jpg"),
                      data={"document_check": "false"}).json()
    assert len(off["stamps"]) >= 1 and off["pages"][0]["document"] is None


def test_a_mostly_blank_page_with_one_small_stamp_keeps_it(pipeline):
    """An almost empty letter with one small stamp (Stamp2vec's real stamp crop on paper)
    is no document to the ImageNet classifier, but it is nearly all paper, so the check lets
    it through and the stamp is found, whole."""
    stamp = np.asarray(Image.open(shared(f"data/{CROPPED}")).convert("RGB").resize((125, 91)))
    page = np.full((1400, 1000, 3), 250, np.uint8)
    page[1100:1191, 700:825] = stamp
    assert pipeline.document_score(page) < MIN_DOCUMENT
    boxes = pipeline.find(page, stampdet.MIN_SCORE).boxes
    assert len(boxes) == 1 and box_iou(boxes[0].tolist(), [700, 1100, 825, 1191]) >= 0.85
