"""Train Prism's stamp detector on synthetic pages, export it to ONNX and evaluate it.

``make train-stamps`` runs ``python -m training.train_stamps`` with ``training/stamps.json``
(seed, page count, epochs, …) and writes ``models/stamps/stamp_det.onnx`` plus its card
``models/stamps/stamp_det.json`` (config, training time, synthetic validation and real-scan
recall/precision at IoU 0.5). ``--smoke`` trains for about a minute into a temporary folder
(CI runs it to prove the pipeline works end to end).

Steps: (1) draw ``pages`` training and ``val_pages`` validation pages with
:func:`training.synth.page` in worker processes and cache them as JPEG + boxes; (2) train
:class:`StampNet` with AdamW and a cosine schedule: CenterNet penalty-reduced focal loss on
the centre heat map, L1 on log size and offset at object centres; (3) export ONNX (opset 17)
with input ``image`` ``[1, 3, S, S]`` and output ``maps`` ``[1, 5, S/8, S/8]``, S being the
config's ``size`` (512 when absent; see
:mod:`api.engines.stampdet`, whose decoder this script also uses for evaluation).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing as mp
import random
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from api.engines import stampdet
from api.metrics import match_boxes
from training import synth

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "training" / "stamps.json"
TRUTH = REPO_ROOT / "tests" / "data" / "stamps_truth.json"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
STRIDE = stampdet.STRIDE


def _cbr(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class StampNet(nn.Module):
    """Backbone to stride 32 (channels ``widths``), FPN fused at stride 8 (``neck``
    channels), CenterNet head → ``[B, 5, H/8, W/8]`` (score logit, log w, log h, dx, dy).
    Outputs a sigmoid score in channel 0 when ``export`` is set."""

    def __init__(self, widths=(16, 24, 48, 96, 128), neck: int = 64):
        super().__init__()
        c = widths
        self.stem = nn.Sequential(_cbr(3, c[0], 2), _cbr(c[0], c[1], 2))
        self.b8 = nn.Sequential(_cbr(c[1], c[2], 2), _cbr(c[2], c[2]))
        self.b16 = nn.Sequential(_cbr(c[2], c[3], 2), _cbr(c[3], c[3]))
        self.b32 = nn.Sequential(_cbr(c[3], c[4], 2), _cbr(c[4], c[4]))
        self.l8, self.l16, self.l32 = (nn.Conv2d(c[2], neck, 1), nn.Conv2d(c[3], neck, 1),
                                       nn.Conv2d(c[4], neck, 1))
        self.fuse = _cbr(neck, neck)
        self.head = nn.Sequential(nn.Conv2d(neck, 32, 3, 1, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(32, 5, 1))
        nn.init.constant_(self.head[-1].bias[:1], -2.19)  # prior 0.1 (CenterNet)
        self.export = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f8 = self.b8(self.stem(x))
        f16 = self.b16(f8)
        f32 = self.b32(f16)
        p = self.l32(f32)
        p = F.interpolate(p, scale_factor=2.0, mode="nearest") + self.l16(f16)
        p = F.interpolate(p, scale_factor=2.0, mode="nearest") + self.l8(f8)
        out = self.head(self.fuse(p))
        if self.export:
            out = torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:]], 1)
        return out


# ----------------------------------------------------------------------------- data

def _render(args: tuple[int, str, int]) -> tuple[str, list]:
    seed, folder, size = args
    page = synth.page(seed, out_size=size)
    name = f"{seed}.jpg"
    cv2.imwrite(str(Path(folder) / name), page.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    return name, page.boxes.tolist()


def build_cache(folder: Path, seeds: range, workers: int, size: int) -> dict[str, list]:
    """Render pages ``seeds`` (longer side ``size`` px) into ``folder`` (skipped when
    ``labels.json`` is complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    labels_path = folder / "labels.json"
    if labels_path.exists():
        labels = json.loads(labels_path.read_text())
        if len(labels) == len(seeds):
            return labels
    with mp.get_context("fork").Pool(workers) as pool:
        labels = dict(pool.imap_unordered(_render, [(s, str(folder), size) for s in seeds],
                                         chunksize=8))
    labels_path.write_text(json.dumps(labels))
    return labels


class PageSet(torch.utils.data.Dataset):
    """Cached pages → (``[3, size, size]`` float tensor, ``[5, size/8, size/8]`` target, mask).

    With ``augment``: random down-scaling (0.55–1) and placement inside the letterbox,
    horizontal flip, colour-channel shuffle and brightness jitter.
    """

    def __init__(self, folder: Path, labels: dict[str, list], augment: bool, seed: int,
                 size: int):
        self.folder, self.items, self.size = folder, sorted(labels.items()), size
        self.augment, self.seed = augment, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        name, boxes = self.items[i]
        rng = random.Random((self.seed, self.epoch, i).__hash__())
        image = cv2.imread(str(self.folder / name))[..., ::-1]
        boxes = np.array(boxes, np.float32).reshape(-1, 4)
        h, w = image.shape[:2]
        size = self.size
        scale, ox, oy = 1.0, 0, 0
        if self.augment and rng.random() < 0.4:
            scale = rng.uniform(0.55, 1.0)
        nh, nw = max(8, int(h * scale)), max(8, int(w * scale))
        if self.augment:
            ox, oy = rng.randint(0, size - nw), rng.randint(0, size - nh)
            if rng.random() < 0.6:
                ox, oy = 0, 0  # the service letterboxes top-left: keep that case common
        canvas = np.full((size, size, 3), stampdet.PAD_VALUE, np.uint8)
        canvas[oy:oy + nh, ox:ox + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
        boxes = boxes * scale + np.array([ox, oy, ox, oy], np.float32)
        if self.augment and rng.random() < 0.5:
            canvas = canvas[:, ::-1]
            boxes = np.stack([size - boxes[:, 2], boxes[:, 1], size - boxes[:, 0], boxes[:, 3]], 1)
        if self.augment and rng.random() < 0.3:
            canvas = canvas[..., rng.sample(range(3), 3)]
        x = torch.from_numpy(np.ascontiguousarray(canvas).transpose(2, 0, 1).copy()).float() / 255
        if self.augment and rng.random() < 0.3:
            x = (x * rng.uniform(0.85, 1.15) + rng.uniform(-0.08, 0.08)).clamp(0, 1)
        target, mask = encode_targets(boxes, size)
        return x, torch.from_numpy(target), torch.from_numpy(mask)


def encode_targets(boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """xyxy network-pixel boxes on a ``size``² canvas → CenterNet target ``[5, C, C]``
    (Gaussian heat, log w/h, offsets; C = size / 8) and a ``[C, C]`` mask of centre cells."""
    cells = size // STRIDE
    target = np.zeros((5, cells, cells), np.float32)
    mask = np.zeros((cells, cells), np.float32)
    ys, xs = np.mgrid[0:cells, 0:cells].astype(np.float32)
    for x1, y1, x2, y2 in boxes:
        w, h = (x2 - x1) / STRIDE, (y2 - y1) / STRIDE
        if w < 0.5 or h < 0.5:
            continue
        cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
        ix, iy = int(min(cells - 1, max(0, cx))), int(min(cells - 1, max(0, cy)))
        sigma_x, sigma_y = max(0.5, w / 6), max(0.5, h / 6)
        g = np.exp(-((xs - ix) ** 2 / (2 * sigma_x ** 2) + (ys - iy) ** 2 / (2 * sigma_y ** 2)))
        target[0] = np.maximum(target[0], g)
        target[0, iy, ix] = 1.0
        target[1, iy, ix], target[2, iy, ix] = math.log(w), math.log(h)
        target[3, iy, ix], target[4, iy, ix] = cx - ix, cy - iy
        mask[iy, ix] = 1.0
    return target, mask


def centernet_loss(out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Penalty-reduced focal loss (α=2, β=4) on the heat map + L1 on size and offset."""
    pred = torch.sigmoid(out[:, 0]).clamp(1e-4, 1 - 1e-4)
    gt = target[:, 0]
    pos = gt.eq(1).float()
    pos_loss = torch.log(pred) * (1 - pred) ** 2 * pos
    neg_loss = torch.log(1 - pred) * pred ** 2 * (1 - gt) ** 4 * (1 - pos)
    n = pos.sum().clamp(min=1)
    focal = -(pos_loss.sum() + neg_loss.sum()) / n
    m = mask.unsqueeze(1)
    size = (F.l1_loss(out[:, 1:3] * m, target[:, 1:3] * m, reduction="sum") / n)
    offset = (F.l1_loss(out[:, 3:5] * m, target[:, 3:5] * m, reduction="sum") / n)
    return focal + size + offset


# ----------------------------------------------------------------------------- evaluate

def evaluate(predict, pages: list[tuple[np.ndarray, np.ndarray]], min_score: float) -> dict:
    """Recall and precision at IoU 0.5 of ``predict(image, min_score) -> (boxes, scores)``."""
    tp = fp = fn = 0
    for image, truth in pages:
        boxes, _ = predict(image, min_score)
        a, b, c = match_boxes(boxes.tolist(), truth.tolist(), 0.5)
        tp, fp, fn = tp + a, fp + b, fn + c
    return {"pages": len(pages), "stamps": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "recall": round(tp / max(1, tp + fn), 3), "precision": round(tp / max(1, tp + fp), 3)}


def real_pages() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The hand-labelled real scans of ``tests/data/stamps_truth.json`` that exist here."""
    truth = json.loads(TRUTH.read_text())["pages"]
    out = []
    for rel, boxes in truth.items():
        path = SHARED_DATA / rel
        if path.is_file():
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]
            out.append((rel, np.ascontiguousarray(image), np.array(boxes, np.float32).reshape(-1, 4)))
    return out


# ----------------------------------------------------------------------------- main

def train(config: dict, out_dir: Path, cache_root: Path, log=print) -> dict:
    """Run the whole recipe with ``config``; returns the card written next to the model."""
    seed = int(config["seed"])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(config["threads"]))
    started = time.time()
    n_train, n_val = int(config["pages"]), int(config["val_pages"])
    size = int(config.get("size", stampdet.INPUT_SIZE))
    # the cache is keyed by the generator's source too: editing synth.py re-renders the pages
    digest = hashlib.sha256(Path(synth.__file__).read_bytes()).hexdigest()[:10]
    px = "" if size == stampdet.INPUT_SIZE else f"-px{size}"  # 512 keeps its old cache name
    folder = cache_root / f"stamps-s{seed}-n{n_train}{px}-{digest}"
    labels = build_cache(folder / "train", range(seed * 10**6, seed * 10**6 + n_train),
                         int(config["workers"]), size)
    val_labels = build_cache(folder / "val", range(seed * 10**6 + 900_000,
                                                    seed * 10**6 + 900_000 + n_val),
                             int(config["workers"]), size)
    gen_s = time.time() - started
    log(f"pages ready in {gen_s:.0f} s")
    data = PageSet(folder / "train", labels, augment=True, seed=seed, size=size)
    loader = torch.utils.data.DataLoader(data, batch_size=int(config["batch"]), shuffle=True,
                                         num_workers=int(config["loader_workers"]),
                                         generator=torch.Generator().manual_seed(seed),
                                         persistent_workers=False, drop_last=True)
    model = StampNet(tuple(config["widths"]), int(config["neck"]))
    opt = torch.optim.AdamW(model.parameters(), lr=float(config["lr"]), weight_decay=1e-4)
    steps = max(1, int(config["epochs"]) * len(loader))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=float(config["lr"]), total_steps=steps,
                                                pct_start=0.05)
    step = 0
    for epoch in range(int(config["epochs"])):
        data.epoch = epoch
        model.train()
        total, count = 0.0, 0
        for x, target, mask in loader:
            loss = centernet_loss(model(x), target, mask)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, count, step = total + loss.item(), count + 1, step + 1
            if step % 50 == 0:
                log(f"epoch {epoch} step {step}/{steps} loss {total / count:.3f} "
                    f"({time.time() - started:.0f} s)")
        log(f"epoch {epoch} done, mean loss {total / max(1, count):.3f}")
    train_s = time.time() - started - gen_s
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "stamp_det.onnx"
    model.eval()
    model.export = True
    torch.onnx.export(model, torch.zeros(1, 3, size, size), str(onnx_path), input_names=["image"],
                      output_names=["maps"], opset_version=17, dynamo=False)
    model.export = False
    min_score = float(config["min_score"])
    val_pages = []
    for name, boxes in sorted(val_labels.items()):
        image = cv2.imread(str(folder / "val" / name))[..., ::-1]
        val_pages.append((np.ascontiguousarray(image), np.array(boxes, np.float32).reshape(-1, 4)))
    engine = stampdet.StampDetector(onnx_path, int(config["threads"]))
    card = {
        "model": "stamps/stamp_det.onnx",
        "architecture": "conv-BN-ReLU backbone to stride 32, FPN fused at stride 8, CenterNet head",
        "parameters": sum(p.numel() for p in model.parameters()),
        "bytes": onnx_path.stat().st_size,
        "config": config,
        "torch": torch.__version__,
        "generate_s": round(gen_s), "train_s": round(train_s),
        "min_score": min_score,
        "synthetic_val": evaluate(engine, val_pages, min_score),
    }
    real = real_pages()
    if real:
        card["real_scans"] = evaluate(engine, [(im, t) for _, im, t in real], min_score)
        card["real_scans"]["files"] = [rel for rel, _, _ in real]
    (out_dir / "stamp_det.json").write_text(json.dumps(card, indent=2) + "\n")
    log(json.dumps({k: card[k] for k in ("synthetic_val", "real_scans") if k in card}))
    return card


def main(argv: list[str] | None = None) -> None:
    """Command line: ``[--smoke] [--out DIR] [--cache DIR] [--set key=value ...]``."""
    parser = argparse.ArgumentParser(prog="python -m training.train_stamps")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "stamps")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "training" / "cache")
    parser.add_argument("--smoke", action="store_true",
                        help="about one minute: few pages, one epoch, into a temporary folder")
    parser.add_argument("--set", nargs="*", default=[], help="override config keys: key=value")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    if args.smoke:
        config.update(config.pop("smoke"))
    else:
        config.pop("smoke", None)
    for item in args.set:
        key, _, value = item.partition("=")
        config[key] = json.loads(value)
    if args.smoke and args.out == REPO_ROOT / "models" / "stamps":
        args.out = Path(tempfile.mkdtemp(prefix="prism-stamps-smoke-"))
    train(config, args.out, args.cache)
    print(f"model and card written to {args.out}")


if __name__ == "__main__":
    main()
