"""The stamp detector's training recipe: synthetic pages are reproducible and sane, and the
one-minute smoke run trains, exports an ONNX model the service loads, and writes its card."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from api.engines import stampdet
from api.settings import REPO_ROOT
from training import synth


def test_pages_are_reproducible_and_boxes_lie_inside():
    a, b = synth.page(123), synth.page(123)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert max(a.image.shape[:2]) == 512 and a.image.dtype == np.uint8
    counts = []
    for seed in range(40):
        page = synth.page(seed)
        h, w = page.image.shape[:2]
        boxes = page.boxes
        counts.append(len(boxes))
        assert ((boxes[:, 0] >= -1) & (boxes[:, 2] <= w + 1) & (boxes[:, 1] >= -1)
                & (boxes[:, 3] <= h + 1) & (boxes[:, 2] > boxes[:, 0])).all()
    assert 0 in counts and max(counts) >= 2  # pages without stamps and with several


def test_stamp_ink_is_drawn_where_the_box_is():
    page = synth.page(5)
    assert len(page.boxes)
    x1, y1, x2, y2 = page.boxes[0].astype(int)
    inside = page.image[y1:y2, x1:x2].astype(int)
    # stamp ink is coloured or dark: the box is not blank paper
    assert (inside.max(-1) - inside.min(-1)).mean() > 3 or inside.mean() < 235


def test_smoke_training_exports_a_loadable_model(tmp_path):
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, "-m", "training.train_stamps", "--smoke",
                          "--out", str(out), "--cache", str(tmp_path / "cache")],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    onnx_path = out / "stamp_det.onnx"
    assert 0 < onnx_path.stat().st_size <= 10 * 1024 * 1024
    card = json.loads((out / "stamp_det.json").read_text())
    assert card["config"]["steps"] == card["steps_done"] == 6
    assert card["valid"]["all"]["pages"] == 12 and card["history"][0]["step"] == 6
    assert card["real_scans"]["stamps"] == 11
    detector = stampdet.StampDetector(onnx_path, 1)
    assert detector.input_size == card["config"]["size"] == 256
    out_ = detector.infer(stampdet.preprocess(np.full((300, 200, 3), 255, np.uint8), 256)[0])
    assert out_.shape == (32 * 32 + 16 * 16 + 8 * 8, 6)
    assert ((out_[:, 4:] >= 0) & (out_[:, 4:] <= 1)).all()


#: The two fused members: name → the config keys their run set over training/stamps.json.
MEMBERS = {"stamp_det": {},
           "stamp_det_added": {"added": "training/stamps_added.json", "name": "stamp_det_added"}}


@pytest.mark.parametrize("name", MEMBERS)
def test_committed_models_match_their_cards(name):
    """Each shipped detector is the one its card describes, trained with the committed config
    (plus its member's settings), and reaches the figures the card claims (valid split of the
    real pool, real scans)."""
    from api import modelfiles

    card = json.loads((REPO_ROOT / f"models/stamps/{name}.json").read_text())
    model = REPO_ROOT / f"models/stamps/{name}.onnx"
    assert f"stamps/{name}.onnx" in stampdet.MEMBERS and card["model"] == f"stamps/{name}.onnx"
    assert model.stat().st_size == card["bytes"] <= 10 * 1024 * 1024
    entry = modelfiles.load_manifest()[f"stamps/{name}.onnx"]
    assert modelfiles.sha256_of(model) == entry.sha256
    assert card["config"] == {k: v for k, v in json.loads(
        (REPO_ROOT / "training/stamps.json").read_text()).items() if k != "smoke"} | MEMBERS[name]
    # measured: first member valid 0.885 / 0.848 at 0.3, real scans 8 of 11, no false box;
    # second 0.866 / 0.907 at 0.45 (valid with the added labels), 9 of 11 with one false box
    assert card["valid"]["all"]["recall"] >= 0.86 and card["valid"]["all"]["precision"] >= 0.84
    assert card["real_scans"]["tp"] >= 8 and card["real_scans"]["fp"] <= 1


def test_converted_yolox_matches_the_coco_model_before_training():
    """The ONNX surgery keeps YOLOX-Nano's boxes and objectness: the trainable module, before
    any step, gives ONNX Runtime's COCO outputs (box regression, sigmoid of objectness) and
    the COCO 'clock' probability as its stamp logit."""
    import torch

    from api.engines.onnx import cpu_session
    from training.train_stamps import COCO_PRIOR, PRETRAINED, Exported, stamp_graph

    net = Exported(stamp_graph()).eval()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (1, 3, 416, 416)).astype(np.float32)
    with torch.no_grad():
        ours = net(torch.from_numpy(x)).numpy()[0]
    coco = cpu_session(PRETRAINED, 1).run(None, {"images": x})[0][0]
    assert ours.shape == (3549, 6) and coco.shape == (3549, 85)
    assert np.abs(ours[:, :5] - coco[:, :5]).max() < 1e-3
    assert np.abs(ours[:, 5] - coco[:, 5 + COCO_PRIOR]).max() < 1e-3


def test_simota_assigns_anchors_inside_each_box_and_the_loss_falls():
    """YOLOX's SimOTA gives every truth box anchors near its centre, and a few steps of the
    loss on one page lower it (the recipe learns)."""
    import torch

    from api.engines import yolox
    from training.train_stamps import simota, stamp_graph, yolox_loss

    size = 256
    grid, stride = (torch.from_numpy(a) for a in yolox.grids(size))
    gt = torch.tensor([[30.0, 40.0, 110.0, 120.0], [150.0, 150.0, 230.0, 200.0]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0]]).repeat(len(grid), 1)
    zeros = torch.zeros(len(grid))
    idx, owner, iou = simota(boxes, zeros, zeros, (grid + 0.5) * stride, stride[:, 0], gt)
    assert set(owner.tolist()) == {0, 1} and len(idx) == len(owner) == len(iou)
    centres = ((grid + 0.5) * stride)[idx]
    mine = gt[owner]
    assert ((centres >= mine[:, :2] - 2.5 * stride[idx]) &
            (centres <= mine[:, 2:] + 2.5 * stride[idx])).all()

    torch.manual_seed(0)
    net = stamp_graph()
    page = np.full((size, size, 3), 255, np.uint8)
    cv2.circle(page, (70, 80), 38, (200, 40, 40), 5)
    cv2.circle(page, (190, 175), 30, (200, 40, 40), 5)
    x = torch.from_numpy(page.transpose(2, 0, 1)[None].astype(np.float32))
    opt = torch.optim.AdamW(net.parameters(), lr=5e-4)
    losses = []
    for _ in range(6):
        loss, _ = yolox_loss(net(x), [gt], grid, stride)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_ignore_regions_drop_only_background_objectness_inside_them():
    """An ignore region (a probable unlabelled stamp) removes the objectness loss of the
    background anchors centred in it, and nothing else: the matched anchors of a truth box
    inside it still count, and an all-positive objectness there costs nothing."""
    import torch

    from api.engines import yolox
    from training.train_stamps import yolox_loss

    size = 256
    grid, stride = (torch.from_numpy(a) for a in yolox.grids(size))
    out = torch.zeros(1, len(grid), 6)
    region = torch.tensor([[140.0, 140.0, 250.0, 250.0]])
    centres = (grid + 0.5) * stride
    inside = ((centres > region[:, :2]) & (centres < region[:, 2:])).all(-1)
    out[0, inside, 4] = 8.0  # confident "stamp" where no label says so
    empty = [torch.zeros(0, 4)]
    plain, parts = yolox_loss(out, empty, grid, stride)
    ignored, parts_i = yolox_loss(out, empty, grid, stride, [region])
    assert parts["ignored"] == 0 and parts_i["ignored"] == int(inside.sum()) > 0
    assert ignored < plain
    without = yolox_loss(torch.where(inside[None, :, None], torch.zeros_like(out), out),
                         empty, grid, stride)[0]
    assert torch.isclose(ignored, without - (inside.sum() * np.log(2)), rtol=1e-4)
    gt = [torch.tensor([[160.0, 160.0, 230.0, 230.0]])]
    assert yolox_loss(out, gt, grid, stride, [region])[1]["fg"] > 0


def test_thin_repeat_weights_pages_by_their_thinnest_stamp_at_the_letterbox():
    """Repeat-factor sampling by stamp shape: the thinness is measured after the page is
    fitted into the letterbox, so the same 40-px-high stamp is thin on a 1280-px page and
    not on a 640-px one; pages without stamps keep weight 1."""
    from training.train_stamps import thin_repeat

    stamp = np.array([[100, 100, 400, 140]], np.float32)  # 300 × 40 px
    rows = [{"width": 640, "height": 640, "boxes": stamp},
            {"width": 1280, "height": 960, "boxes": stamp},
            {"width": 1280, "height": 960, "boxes": np.zeros((0, 4), np.float32)},
            {"width": 640, "height": 900, "boxes": np.concatenate([stamp * 0 + [0, 0, 99, 99],
                                                                  stamp])}]
    # at 512 px: 40 × 0.8 = 32 px, 40 × 0.4 = 16 px, none, 40 × 0.569 = 22.8 px
    assert thin_repeat(rows, 512, 20, 3) == [1.0, 3.0, 1.0, 1.0]
    assert thin_repeat(rows, 512, 30, 3) == [1.0, 3.0, 1.0, 3.0]
    assert thin_repeat(rows, 512, 50, 2.5) == [2.5, 2.5, 1.0, 2.5]


def test_mosaic_lays_four_pages_and_moves_each_pages_boxes_with_it(tmp_path):
    """``mosaic_augmenter``: the page and three others, each with one filled square of its
    own colour as its stamp, come back as one ``size``² image in which every returned box
    still frames a square of one page's colour, and squares of several pages appear; with the
    shared probability set to 0 a sample is the page alone."""
    from training.train_stamps import NO_BOXES, StampSet

    colours = [(255, 0, 0), (0, 200, 0), (0, 0, 255), (200, 0, 200)]
    items = []
    for k, colour in enumerate(colours):
        page = np.full((400, 300, 3), 255, np.uint8)
        cv2.rectangle(page, (100, 150), (199, 249), colour, -1)
        cv2.imwrite(str(tmp_path / f"{k}.png"), page)
        items.append((str(tmp_path / f"{k}.png"), np.array([[100, 150, 200, 250]], np.float32),
                      False, NO_BOXES))
    data = StampSet(items, 256, seed=3, unstretch=(1.0, 1.0), mosaic=1.0)
    seen = set()
    for i in range(8):
        image, boxes, labels = data._page(i % 4)
        others = [data._page(k) for k in range(4) if k != i % 4]
        out = data.mosaic(image=image, bboxes=boxes, labels=labels.tolist(),
                          mosaic_metadata=[{"image": im, "bboxes": b, "labels": lab.tolist()}
                                           for im, b, lab in others])
        assert out["image"].shape == (256, 256, 3)
        for x0, y0, x1, y1 in np.array(out["bboxes"]).reshape(-1, 4):
            assert 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 256
            inside = out["image"][int(y0) + 2:int(y1) - 2, int(x0) + 2:int(x1) - 2].reshape(-1, 3)
            colour = tuple(int(v) for v in np.median(inside, axis=0))
            assert min(np.abs(np.subtract(colour, c)).max() for c in colours) <= 12, colour
            seen.add(min(colours, key=lambda c: np.abs(np.subtract(colour, c)).max()))
    assert len(seen) >= 3

    def refuse(**_):
        raise AssertionError("mosaic drawn at probability 0")

    data.mosaic_p[0] = 0.0
    data.mosaic = refuse
    x, stamps, ignored = data[0]
    assert x.shape == (3, 256, 256) and len(stamps) == 1 and len(ignored) == 0


def test_copy_paste_sets_real_ink_where_no_stamp_is_and_labels_it(tmp_path):
    """``stamp_donors`` cuts a page's blue ring (found by ``api.inkmask``) with its ink mask;
    ``paste_stamps`` lays copies on another page away from its labelled stamp, each new box
    framing blue ink at the donor's share of the page, the page's own print kept under the
    ink (darken blend); ``StampSet`` at probability 0 never pastes."""
    import random

    from training.train_stamps import NO_BOXES, StampSet, paste_stamps, stamp_donors, thin_donors_repeated

    donor_page = np.full((600, 400, 3), 250, np.uint8)
    cv2.circle(donor_page, (200, 300), 60, (200, 60, 20), 6)  # BGR blue ring
    cv2.putText(donor_page, "SEAL", (160, 310), cv2.FONT_HERSHEY_SIMPLEX, 1, (200, 60, 20), 3)
    cv2.imwrite(str(tmp_path / "donor.png"), donor_page)
    rows = [{"file": str(tmp_path / "donor.png"), "source": "project pages",
             "boxes": np.array([[130, 230, 270, 370]], np.float32)}]
    donors = stamp_donors(rows, (1.0, 1.0))
    assert len(donors) == 1
    patch, mask, share = donors[0]
    assert patch.shape[:2] == mask.shape and 0.2 < share < 0.26 and mask.mean() > 0.05

    target = np.full((800, 600, 3), 255, np.uint8)
    target[::9] = 0  # print: dark rows over the whole page
    own = np.array([[50, 50, 150, 150]], np.float32)
    image, boxes, labels = paste_stamps(target, own, np.zeros(1, np.int64), donors, 3,
                                        random.Random(4))
    assert len(boxes) == len(labels) >= 3 and (labels == 0).all()
    assert (boxes[0] == own[0]).all() and (image[::9] == 0).all()
    for x1, y1, x2, y2 in boxes[1:].astype(int):
        assert x2 <= 600 and y2 <= 800 and (x1 >= 150 or x2 <= 50 or y1 >= 150 or y2 <= 50)
        assert 0.8 * 0.23 * 800 <= max(x2 - x1, y2 - y1) <= 1.25 * 0.24 * 800 + 1
        crop = image[y1:y2, x1:x2].reshape(-1, 3).astype(int)
        assert ((crop[:, 0] - crop[:, 2]) > 100).sum() > 200  # blue ink inside
    outside = np.ones(image.shape[:2], bool)
    for x1, y1, x2, y2 in boxes[1:].astype(int):
        outside[y1:y2, x1:x2] = False
    assert (image[outside] == target[outside]).all()

    thin = (np.zeros((10, 100, 3), np.uint8), np.ones((10, 100), bool), 0.5)  # 256 × 26 px at 512
    assert len(thin_donors_repeated(donors + [thin], 512, 50, 3)) == 4  # ring once, thin 3×

    cv2.imwrite(str(tmp_path / "page.png"), target)
    data = StampSet([(str(tmp_path / "page.png"), own, False, NO_BOXES)], 256, seed=3,
                    unstretch=(1.0, 1.0), copy_paste=0.0, donors=donors)
    assert all(len(data[0][1]) == 1 for _ in range(5))


def test_ignore_file_names_train_pages_only():
    """``training/stamps_ignore.json`` (the recipe's ignore regions) holds boxes for pages of
    the pool's train split only, never of its valid split."""
    from training.train_stamps import POOL, ignore_regions

    regions = ignore_regions("training/stamps_ignore.json")
    assert regions and all(v.shape[1] == 4 and (v[:, 2:] > v[:, :2]).all()
                           for v in regions.values())
    labels = POOL / "labels.jsonl"
    if labels.is_file():
        split = {r["file"]: r["split"] for r in map(json.loads, labels.read_text().splitlines())}
        assert {split[k] for k in regions} == {"train"}


def test_decode_reads_yolox_output_at_the_model_size():
    """A hand-made output with two confident anchors → their two boxes, in page pixels."""
    from api.engines import yolox

    size = 320
    grid, stride = yolox.grids(size)
    out = np.zeros((len(grid), 6), np.float32)
    out[:, 2:4] = np.log(2.0)  # 2 strides wide
    a = int(np.nonzero((grid[:, 0] == 5) & (grid[:, 1] == 7) & (stride[:, 0] == 8))[0][0])
    b = int(np.nonzero((grid[:, 0] == 3) & (grid[:, 1] == 2) & (stride[:, 0] == 32))[0][0])
    out[[a, b], 4], out[[a, b], 5] = [0.9, 0.8], [1.0, 0.75]
    boxes, scores = stampdet.decode(out, scale=0.5, width=2000, height=2000, min_score=0.3)
    assert scores.tolist() == np.float32([0.9, 0.6]).tolist()
    # anchor (5, 7) at stride 8: centre (40, 56), 16 px wide → [32, 48, 48, 64] / 0.5
    assert boxes[0].tolist() == [64, 96, 96, 128]
    assert boxes[1].tolist() == [128, 64, 256, 192]  # (96 ± 32, 64 ± 32) / 0.5
    assert stampdet.decode(out, 0.5, 2000, 2000, min_score=0.95)[0].shape == (0, 4)


def test_page_weights_come_from_synth_json(monkeypatch, tmp_path):
    """The sampling weights are read from training/synth.json, not the code: the same seeds
    with zero stamps per page draw no stamp, and with one stamp (no zoom) at most one."""
    from training.synth import weights

    original = json.loads(weights.CONFIG.read_text())
    assert weights.config() == original

    def draw_with(**changes) -> list[int]:
        path = tmp_path / "synth.json"
        path.write_text(json.dumps({**original, **changes}))
        monkeypatch.setattr(weights, "CONFIG", path)
        weights.config.cache_clear()
        return [len(synth.page(seed).boxes) for seed in range(8)]

    try:
        assert draw_with(stamps_per_page={"0": 1}) == [0] * 8
        one = draw_with(stamps_per_page={"1": 1}, zoom=0.0)
        assert max(one) == 1 and sum(one) >= 6  # a stamp that does not fit is skipped
    finally:
        weights.config.cache_clear()


def test_recipe_overrides_win_over_the_smoke_block_and_reject_bad_items(tmp_path):
    """training.config.load (both trainers' --set): the smoke block applies only to a smoke
    run, --set values (JSON) win over the recipe and the smoke block, and an item that is
    not key=JSON is refused instead of silently training another recipe."""
    from training import config

    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"steps": 100, "name": "a", "smoke": {"steps": 2}}))
    assert config.load(recipe, [], smoke=False) == {"steps": 100, "name": "a"}
    assert config.load(recipe, [], smoke=True) == {"steps": 2, "name": "a"}
    assert config.load(recipe, ["steps=7", 'name="b"', "bf16=true"], smoke=True) == {
        "steps": 7, "name": "b", "bf16": True}
    with pytest.raises(ValueError):
        config.load(recipe, ["steps"], smoke=False)
    with pytest.raises(ValueError):
        config.load(recipe, ["name=b"], smoke=False)  # a bare word is not JSON
