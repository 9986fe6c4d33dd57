"""The stamp detector's training recipe: synthetic pages are reproducible and sane, and the
one-minute smoke run trains, exports an ONNX model the service loads, and writes its card."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

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
    assert 0 < onnx_path.stat().st_size <= 5 * 1024 * 1024
    card = json.loads((out / "stamp_det.json").read_text())
    assert card["config"]["epochs"] == 1 and card["synthetic_val"]["pages"] == 8
    assert card["real_scans"]["stamps"] == 11
    detector = stampdet.StampDetector(onnx_path, 1)
    maps = detector.infer(stampdet.preprocess(np.full((300, 200, 3), 255, np.uint8))[0])
    assert maps.shape == (5, 64, 64) and ((maps[0] >= 0) & (maps[0] <= 1)).all()


def test_committed_model_matches_its_card():
    card = json.loads((REPO_ROOT / "models/stamps/stamp_det.json").read_text())
    model = REPO_ROOT / "models/stamps/stamp_det.onnx"
    assert model.stat().st_size == card["bytes"] <= 5 * 1024 * 1024
    assert card["config"] == {k: v for k, v in json.loads(
        (REPO_ROOT / "training/stamps.json").read_text()).items() if k != "smoke"}
    assert card["real_scans"]["recall"] >= 0.8 and card["real_scans"]["precision"] >= 0.8


def test_targets_decode_back_to_their_boxes_at_another_input_size(tmp_path):
    """``size`` in the training config changes the letterbox; the service follows the model."""
    import torch

    from training.train_stamps import StampNet, encode_targets

    size = 320
    truth = np.array([[40.0, 60.0, 120.0, 110.0], [200.0, 210.0, 300.0, 316.0]], np.float32)
    target, mask = encode_targets(truth, size)
    assert target.shape == (5, 40, 40) and mask.sum() == 2
    # the target holds what a perfect net outputs: heat, log(w/8), log(h/8), cell offsets
    boxes, scores = stampdet.decode(target, scale=1.0, width=size, height=size, min_score=0.9)
    assert len(boxes) == 2 and (scores == 1).all()
    order = np.argsort(boxes[:, 0])
    assert np.allclose(boxes[order], truth, atol=0.01)

    net = StampNet().eval()
    net.export = True
    path = tmp_path / "det.onnx"
    torch.onnx.export(net, torch.zeros(1, 3, size, size), str(path), input_names=["image"],
                      output_names=["maps"], opset_version=17, dynamo=False)
    detector = stampdet.StampDetector(path, 1)
    assert detector.input_size == size
    tensor, scale = stampdet.preprocess(np.full((300, 200, 3), 255, np.uint8), detector.input_size)
    assert tensor.shape == (1, 3, size, size) and scale == size / 300
    assert detector.infer(tensor).shape == (5, 40, 40)
