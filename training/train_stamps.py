"""Fine-tune YOLOX-Nano into Prism's stamp detector, export it to ONNX and evaluate it.

``make train-stamps`` runs ``python -m training.train_stamps`` with ``training/stamps.json``
(seed, steps, batch, …) and writes ``models/stamps/stamp_det.onnx`` plus its card
``models/stamps/stamp_det.json``. ``--smoke`` trains a few steps into a temporary folder (CI
runs it to prove the pipeline works end to end); ``--device cuda`` runs the same recipe on a
GPU.

Steps:

1. **Pretrained start.** Megvii's COCO YOLOX-Nano (``models/cut/yolox_nano.onnx``, the one
   ``/cut`` uses) is edited as ONNX — the three 80-class ``cls_preds`` convolutions keep one
   row (COCO "clock", the round-object prior), the sigmoids on objectness and class are
   bypassed so training sees logits, the head reshapes are set to 6 channels — and converted
   to a trainable ``torch.fx`` module with :mod:`training.onnx_torch`.
2. **Data.** The real ``train`` split of ``../shared/data/train/stamps`` (1,037 Roboflow
   pages, 54 Kazakh/Russian project pages of which 31 hold no stamp) plus ``synthetic``
   pages from :func:`training.synth.page` (with their signatures, logos and printed-seal
   hard negatives). Augmented with ``albumentations``: scale/rotate/shift, bbox-safe zoom,
   colour (HSV, channel shuffle, grey), blur, noise and JPEG. Roboflow's pages were stretched
   to 640 × 640; their width is squeezed back at random (``unstretch``). Optional ``ignore``
   regions (:func:`make_ignore`: probable unlabelled stamps) get no objectness loss; tried,
   not adopted (``training/experiments.md``), so the shipped config has none. Optional
   ``added`` labels (``training/stamps_added.json``: unlabelled stamps a person confirmed on
   contact sheets) join the train and valid boxes; not in the shipped model's run.
   Optional ``mosaic`` (the share of samples laid 2 × 2 with three other pages,
   :func:`mosaic_augmenter`; off after ``mosaic_until`` of the run, as YOLOX ends without
   it, 0.85 unless set); off unless set, and off in the shipped members' runs.
   Optional ``copy_paste`` (the share of samples that get 1 to ``copy_paste_max`` real
   stamps of the train split pasted on, :func:`stamp_donors`, :func:`paste_stamps`; donors
   thinner than ``thin_side`` at the letterbox entered ``copy_paste_thin`` times); off
   unless set, and off in the shipped members' runs.
3. **Training.** YOLOX's loss (Ge et al., 2021): SimOTA assignment (centre prior 2.5
   strides, dynamic k from the top-10 IoUs, cost = class BCE + 3 · −log IoU), IoU loss
   ``1 − IoU²`` ×5 on the matched anchors, objectness BCE on all, class BCE against the IoU.
   AdamW, warm-up then cosine over ``steps`` or over the time ``time_limit_s`` leaves,
   whichever ends first (so a slower machine still ends annealed;
   :func:`training.accel.warmup_cosine`); optional ``bf16`` autocast and ``compile``
   (:mod:`training.accel`), off in the shipped config. Every ``eval_every``
   steps the model is scored on the ``valid`` split (recall/precision at IoU 0.5, best F1
   over a threshold grid); the best checkpoint is kept; the shipped threshold is chosen on
   the exported model (step 4). ``time_limit_s`` ends training early, keeping the best
   checkpoint so far.
4. **Export** (opset 17, ``images`` ``[1, 3, S, S]`` → ``output`` ``[1, A, 6]``, sigmoids
   inside), the shipped ``min_score`` chosen on the valid split (:func:`evaluate_model`), and
   evaluation with ONNX Runtime through :class:`api.engines.stampdet.StampDetector`
   as the service runs it: the valid split per source and the hand-labelled real scans of
   ``tests/data/stamps_truth.json``. The service fuses two such members
   (:data:`api.engines.stampdet.MEMBERS`; the second trained with ``--set
   added='"training/stamps_added.json"' name='"stamp_det_added"'``);
   ``--evaluate-ensemble`` chooses the fused threshold on the valid split and writes
   ``models/stamps/ensemble.json``.

Nothing of the held-out test split is read.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
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

from api import modelfiles
from api.engines import stampdet, yolox
from api.metrics import match_boxes
from training import accel, onnx_torch, synth
from training import config as training_config

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "training" / "stamps.json"
TRUTH = REPO_ROOT / "tests" / "data" / "stamps_truth.json"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
POOL = SHARED_DATA / "train" / "stamps"
PRETRAINED = REPO_ROOT / "models" / "cut" / "yolox_nano.onnx"
OUT = REPO_ROOT / "models" / "stamps"
COCO_PRIOR = yolox.COCO_CLASSES.index("clock")
#: Score thresholds tried on the valid split: while training (checkpoint choice) and, on the
#: exported model, for the shipped ``min_score``.
THRESHOLDS = tuple(round(0.1 + 0.05 * i, 2) for i in range(15))  # 0.10 … 0.80


# ----------------------------------------------------------------------------- model

def stamp_graph(onnx_path: Path = PRETRAINED, prior: int = COCO_PRIOR) -> nn.Module:
    """YOLOX-Nano COCO ONNX → one-class trainable module: ``[B, 3, S, S]`` BGR 0–255 →
    ``[B, A, 6]`` (box regression, objectness logit, stamp logit; A anchors over strides
    8/16/32). The class head starts from COCO class ``prior``."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for level in range(3):
        for part in ("weight", "bias"):
            t = inits[f"head.cls_preds.{level}.{part}"]
            t.CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(t)[prior:prior + 1].copy(), t.name))
    producer = {o: n for n in g.node for o in n.output}
    bypassed = 0
    for node in g.node:  # each level: Concat(reg, Sigmoid(obj), Sigmoid(cls)) → logits
        srcs = [producer.get(i) for i in node.input]
        if (node.op_type == "Concat" and len(srcs) == 3 and all(srcs)
                and [s.op_type for s in srcs] == ["Conv", "Sigmoid", "Sigmoid"]):
            node.input[1], node.input[2] = srcs[1].input[0], srcs[2].input[0]
            bypassed += 1
    reshaped = 0
    for node in g.node:  # Reshape(level, [1, 85, -1]) → [batch, 6, -1]
        if node.op_type == "Reshape" and node.input[1] in inits:
            t = inits[node.input[1]]
            t.CopyFrom(numpy_helper.from_array(np.array([0, 6, -1], np.int64), t.name))
            reshaped += 1
    if bypassed != 3 or reshaped != 3:
        raise ValueError(f"{onnx_path} is not the YOLOX-Nano export Prism expects")
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    kept = [n for n in g.node if any(o in used for o in n.output)]
    del g.node[:]
    g.node.extend(kept)
    del g.output[0].type.tensor_type.shape.dim[:]
    return onnx_torch.convert(model)


class Exported(nn.Module):
    """The trained module with the service's sigmoids: ``[1, 3, S, S]`` → ``[1, A, 6]``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        return torch.cat([y[..., :4], torch.sigmoid(y[..., 4:])], -1)


# ----------------------------------------------------------------------------- loss

def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(N, 4)`` × ``(M, 4)`` xyxy → ``(N, M)`` IoU."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter + 1e-9)


@torch.no_grad()
def simota(boxes: torch.Tensor, obj: torch.Tensor, cls: torch.Tensor, centres: torch.Tensor,
           strides: torch.Tensor, gt: torch.Tensor, radius: float = 2.5, top: int = 10):
    """YOLOX's SimOTA for one image: predicted ``boxes`` ``(A, 4)`` xyxy, ``obj``/``cls``
    logits ``(A,)``, anchor ``centres`` ``(A, 2)`` and ``strides`` ``(A,)`` pixels, truth
    ``gt`` ``(G, 4)``. Returns (anchor indices ``(F,)``, their truth index ``(F,)``, their
    IoU with it ``(F,)``)."""
    inside = ((centres[None] > gt[:, None, :2]) & (centres[None] < gt[:, None, 2:])).all(-1)
    mid = (gt[:, :2] + gt[:, 2:]) / 2
    near = ((centres[None] - mid[:, None]).abs() < radius * strides[None, :, None]).all(-1)
    cand = (inside | near).any(0).nonzero().squeeze(1)
    if len(cand) == 0:
        empty = torch.zeros(0, dtype=torch.long, device=gt.device)
        return empty, empty, torch.zeros(0, device=gt.device)
    both = (inside & near)[:, cand]
    ious = box_iou(gt, boxes[cand])
    p = (torch.sigmoid(cls[cand]) * torch.sigmoid(obj[cand])).sqrt().clamp(1e-6, 1)
    cost = -torch.log(p)[None] + 3.0 * -torch.log(ious + 1e-8) + 1e5 * (~both)
    k = min(top, len(cand))
    dynamic = ious.topk(k, 1).values.sum(1).int().clamp(min=1)
    matching = torch.zeros_like(cost)
    for g in range(len(gt)):
        matching[g, cost[g].topk(int(dynamic[g]), largest=False).indices] = 1
    shared = matching.sum(0) > 1
    if shared.any():
        best = cost[:, shared].argmin(0)
        matching[:, shared] = 0
        matching[best, shared.nonzero().squeeze(1)] = 1
    fg = matching.sum(0) > 0
    owner = matching[:, fg].argmax(0)
    return cand[fg], owner, ious[owner, fg.nonzero().squeeze(1)]


def yolox_loss(out: torch.Tensor, targets: list[torch.Tensor], grid: torch.Tensor,
               stride: torch.Tensor, ignore: list[torch.Tensor] | None = None
               ) -> tuple[torch.Tensor, dict]:
    """YOLOX loss of a batch: ``out`` ``[B, A, 6]`` raw, ``targets`` per image ``(G, 4)`` xyxy
    network pixels, ``grid`` ``(A, 2)``, ``stride`` ``(A, 1)``. ``ignore`` per image
    ``(I, 4)`` xyxy: regions that are neither stamp nor background (probably unlabelled
    stamps); anchors centred in them and not matched to a truth box get no objectness loss.
    Returns the loss and its parts."""
    xy = (out[..., :2] + grid) * stride
    wh = torch.exp(out[..., 2:4].clamp(max=10)) * stride
    boxes = torch.cat([xy - wh / 2, xy + wh / 2], -1)
    centres = (grid + 0.5) * stride
    obj_target = torch.zeros_like(out[..., 4])
    obj_weight = torch.ones_like(out[..., 4])
    for b, regions in enumerate(ignore or []):
        if len(regions):
            obj_weight[b] = (~((centres[None] > regions[:, None, :2])
                               & (centres[None] < regions[:, None, 2:])).all(-1).any(0)).float()
    iou_terms, cls_terms, n_fg = [], [], 0
    for b, gt in enumerate(targets):
        if len(gt) == 0:
            continue
        idx, owner, iou_t = simota(boxes[b].detach(), out[b, :, 4].detach(),
                                   out[b, :, 5].detach(), centres, stride[:, 0], gt)
        if len(idx) == 0:
            continue
        obj_target[b, idx] = 1.0
        obj_weight[b, idx] = 1.0
        iou = torch.diagonal(box_iou(boxes[b, idx], gt[owner]))
        iou_terms.append(1 - iou ** 2)
        cls_terms.append(F.binary_cross_entropy_with_logits(out[b, idx, 5], iou_t,
                                                            reduction="none"))
        n_fg += len(idx)
    norm = max(1, n_fg)
    obj = F.binary_cross_entropy_with_logits(out[..., 4], obj_target, obj_weight,
                                             reduction="sum") / norm
    iou_l = torch.cat(iou_terms).sum() / norm if iou_terms else out.sum() * 0
    cls_l = torch.cat(cls_terms).sum() / norm if cls_terms else out.sum() * 0
    total = 5.0 * iou_l + obj + cls_l
    return total, {"iou": float(iou_l.detach()), "obj": float(obj.detach()),
                   "cls": float(cls_l.detach()), "fg": n_fg,
                   "ignored": int((obj_weight == 0).sum())}


# ----------------------------------------------------------------------------- data

def added_labels(path: str | Path | None, split: str) -> dict[str, np.ndarray]:
    """``{labels.jsonl file: (A, 4) float32 xyxy}``: the stamps the pool's labels miss, from
    the ``split`` section of an added-labels document at ``path`` (relative to the repository;
    :data:`ADDED` is the one checked by eye); ``{}`` when ``path`` is empty."""
    if not path:
        return {}
    doc = json.loads((REPO_ROOT / path).read_text(encoding="utf-8"))
    return _box_table(doc.get(split, {}))


def _box_table(pages: dict[str, list]) -> dict[str, np.ndarray]:
    """``{file: [[x1, y1, x2, y2], …]}`` from JSON → ``{file: (N, 4) float32}``."""
    return {k: np.array(v, np.float32).reshape(-1, 4) for k, v in pages.items()}


def pool(split: str, added: str | Path | None = None) -> list[dict]:
    """Rows of the stamp pool's ``split`` (``train``|``valid``): ``file`` (absolute path),
    ``rel`` (the path in ``labels.jsonl``), ``boxes`` ``(G, 4)`` xyxy pixels, ``source``,
    ``width`` and ``height`` (pixels); with ``added`` (see :func:`added_labels`) the missing
    stamps found by eye are appended to ``boxes``. Empty when ``../shared`` is absent."""
    labels = POOL / "labels.jsonl"
    if not labels.is_file():
        return []
    extra = added_labels(added, split)
    rows = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["split"] == split:
            boxes = np.array(row["boxes"], np.float32).reshape(-1, 4)
            if row["file"] in extra:
                boxes = np.concatenate([boxes, extra[row["file"]]])
            rows.append({"file": str(POOL.parent / row["file"]), "rel": row["file"],
                         "source": row["source"], "boxes": boxes,
                         "width": row["width"], "height": row["height"]})
    return rows


def stretched(row: dict) -> bool:
    """Whether a pool row's page was stretched to a square by its source (Roboflow's 640 ×
    640 export), so training squeezes its width back (``unstretch``)."""
    return "Roboflow" in row["source"] or "Nihal" in row["source"]


def squeeze_width(image: np.ndarray, boxes: np.ndarray, f: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A page ``(H, W, 3)`` narrowed to ``f`` × its width (area averaging) and its ``(N, 4)``
    xyxy pixel boxes with it: undoes a source's stretch to a square (``unstretch``)."""
    image = cv2.resize(image, (max(8, int(image.shape[1] * f)), image.shape[0]),
                       interpolation=cv2.INTER_AREA)
    return image, boxes * np.array([f, 1, f, 1], np.float32)


def stamp_donors(rows: list[dict], unstretch: tuple[float, float]
                 ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The real stamps copy-paste draws from (:func:`paste_stamps`): for every labelled box
    of the pool ``rows`` whose ink :func:`api.inkmask.refine` finds, the BGR uint8 patch
    ``(h, w, 3)`` of the box around both label and ink, its ink mask ``(h, w)`` bool, and
    the patch's long side as a share (0–1) of its page's long side. Stretched pages
    (:func:`stretched`) are first squeezed by the middle of ``unstretch``."""
    from api import inkmask

    donors = []
    for row in rows:
        if not len(row["boxes"]):
            continue
        image = cv2.imread(row["file"], cv2.IMREAD_COLOR)
        if image is None:
            continue
        boxes = row["boxes"].astype(np.float32)
        if stretched(row):
            image, boxes = squeeze_width(image, boxes, sum(unstretch) / 2)
        h, w = image.shape[:2]
        rgb = np.ascontiguousarray(image[..., ::-1])
        for box in boxes:
            ink = inkmask.refine(rgb, box)
            if ink is None:
                continue
            ix1, iy1, ix2, iy2 = inkmask.pixel_box(ink.box)
            bx1, by1, bx2, by2 = inkmask.pixel_box(box)
            x1, y1 = max(0, min(ix1, bx1)), max(0, min(iy1, by1))
            x2, y2 = min(w, max(ix2, bx2)), min(h, max(iy2, by2))
            if x2 - x1 < 4 or y2 - y1 < 4:
                continue
            mask = np.zeros((y2 - y1, x2 - x1), bool)
            ink_h = min(ink.mask.shape[0], y2 - iy1)
            ink_w = min(ink.mask.shape[1], x2 - ix1)
            mask[iy1 - y1:iy1 - y1 + ink_h, ix1 - x1:ix1 - x1 + ink_w] = ink.mask[:ink_h, :ink_w]
            if mask.any():
                donors.append((image[y1:y2, x1:x2].copy(), mask, max(x2 - x1, y2 - y1) / max(h, w)))
    return donors


def thin_donors_repeated(donors: list[tuple[np.ndarray, np.ndarray, float]], size: int,
                         thin_side: float, repeat: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Repeat-factor sampling on the donor bank (as :func:`thin_repeat` does on pages): each
    :func:`stamp_donors` donor whose shorter side, once its page is fitted into the
    ``size``-px letterbox, is under ``thin_side`` pixels appears ``repeat`` times, the
    others once."""
    def short(donor) -> float:
        patch, _, share = donor
        return min(patch.shape[:2]) / max(patch.shape[:2]) * share * size

    return donors + [d for d in donors if short(d) < thin_side] * (repeat - 1)


def paste_stamps(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray,
                 donors: list[tuple[np.ndarray, np.ndarray, float]], count: int,
                 rng: random.Random | None = None, scale: tuple[float, float] = (0.8, 1.25),
                 tries: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copy-paste (Dwibedi et al., ICCV 2017; Ghiasi et al., CVPR 2021) of real stamps onto a
    BGR uint8 page ``(H, W, 3)`` with its ``(N, 4)`` float32 xyxy pixel ``boxes`` and
    ``(N,)`` int64 ``labels`` (0 stamp, 1 ignore region): up to ``count`` donors of
    :func:`stamp_donors`, each resized to its share of the page's long side × ``scale``, set
    where it overlaps no box, its ink laid by a darken blend (the darker of page and ink:
    ink over print). Returns a new page and the boxes and labels with the pasted stamps
    appended (label 0); a donor that fits nowhere in ``tries`` places is skipped."""
    rng = rng or random
    h, w = image.shape[:2]
    out = image.copy()
    taken = [b for b in np.asarray(boxes, np.float32).reshape(-1, 4)]
    pasted = []
    for _ in range(count if donors else 0):
        patch, mask, share = donors[rng.randrange(len(donors))]
        side = share * max(h, w) * rng.uniform(*scale)
        f = side / max(patch.shape[:2])
        ph, pw = max(2, round(patch.shape[0] * f)), max(2, round(patch.shape[1] * f))
        if ph >= h or pw >= w:
            continue
        for _ in range(tries):
            x, y = rng.randrange(w - pw), rng.randrange(h - ph)
            if all(x >= b[2] or x + pw <= b[0] or y >= b[3] or y + ph <= b[1] for b in taken):
                break
        else:
            continue
        p = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        m = cv2.resize(mask.astype(np.uint8), (pw, ph), interpolation=cv2.INTER_NEAREST) > 0
        region = out[y:y + ph, x:x + pw]
        region[m] = np.minimum(region[m], p[m])
        box = np.array([x, y, x + pw, y + ph], np.float32)
        taken.append(box)
        pasted.append(box)
    if not pasted:
        return out, boxes, labels
    return (out, np.concatenate([np.asarray(boxes, np.float32).reshape(-1, 4), np.stack(pasted)]),
            np.concatenate([labels, np.zeros(len(pasted), labels.dtype)]))


def thin_repeat(rows: list[dict], size: int, thin_side: float, repeat: float) -> list[float]:
    """Sampling weights per pool row, after repeat-factor sampling (Gupta et al., LVIS,
    CVPR 2019) with stamp shape as the rare category: a page holding a stamp whose shorter
    side is under ``thin_side`` pixels once the page is fitted into the ``size``-px letterbox
    (frameless text stamps, date stamps: the shipped pair finds six in ten of those on the
    train pages it learnt from, against over nine in ten of the others) weighs ``repeat``,
    any other page 1 (``training/experiments.md``, 2026-12-07)."""
    out = []
    for row in rows:
        scale = size / max(row["width"], row["height"], 1)
        boxes = row["boxes"].reshape(-1, 4)
        short = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * scale
        out.append(float(repeat) if (short < thin_side).any() else 1.0)
    return out


NO_BOXES = np.zeros((0, 4), np.float32)
IGNORE = REPO_ROOT / "training" / "stamps_ignore.json"
#: Stamps the pool's labels miss, checked by eye (``--set added='"training/stamps_added.json"'``).
ADDED = REPO_ROOT / "training" / "stamps_added.json"


def make_ignore(teacher: Path, rows: list[dict], min_score: float = 0.5,
                max_iou: float = 0.3, threads: int = 2) -> dict:
    """Probable unlabelled stamps of the train split: ``teacher``'s detections (an exported
    stamp detector, run as the service runs it) scoring ≥ ``min_score`` whose IoU with every
    labelled box of the page is < ``max_iou``. The pool's labels miss a stamp on roughly one
    page in ten (``../shared/data/train/SOURCES.md``); training treats these regions as
    neither stamp nor background (:func:`yolox_loss`). Returns the ``stamps_ignore.json``
    document: teacher sha256, rule and ``{labels.jsonl file: [[x0, y0, x1, y1], …]}``
    (pixels of the original page)."""
    from api.vision import box_iou as iou_xyxy

    engine = stampdet.StampDetector(teacher, threads)
    pages = {}
    for row in rows:
        boxes, _ = engine(_load_rgb(row["file"]), min_score)
        extra = [[round(v, 1) for v in b] for b in boxes.tolist()
                 if all(iou_xyxy(b, t) < max_iou for t in row["boxes"].tolist())]
        if extra:
            pages[row["rel"]] = extra
    return {"teacher": hashlib.sha256(teacher.read_bytes()).hexdigest(),
            "rule": f"teacher score >= {min_score}, IoU < {max_iou} with every labelled box",
            "pages": pages}


def ignore_regions(path: str | None) -> dict[str, np.ndarray]:
    """``{labels.jsonl file: (I, 4) float32 xyxy}`` from a :func:`make_ignore` document at
    ``path`` (relative to the repository); ``{}`` when ``path`` is empty."""
    if not path:
        return {}
    return _box_table(json.loads((REPO_ROOT / path).read_text())["pages"])


def _render(args: tuple[int, str, int]) -> tuple[str, list]:
    seed, folder, size = args
    page = synth.page(seed, out_size=size)
    name = f"{seed}.jpg"
    cv2.imwrite(str(Path(folder) / name), page.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    return name, page.boxes.tolist()


def build_cache(folder: Path, seeds: range, workers: int, size: int) -> dict[str, list]:
    """Render synthetic pages ``seeds`` (longer side ``size`` px) into ``folder`` (skipped
    when ``labels.json`` is complete). Returns ``{file name: xyxy boxes}``."""
    folder.mkdir(parents=True, exist_ok=True)
    labels_path = folder / "labels.json"
    if labels_path.exists():
        labels = json.loads(labels_path.read_text())
        if len(labels) == len(seeds):
            return labels
    with mp.get_context("fork").Pool(workers) as pool_:
        labels = dict(pool_.imap_unordered(_render, [(s, str(folder), size) for s in seeds],
                                           chunksize=8))
    labels_path.write_text(json.dumps(labels))
    return labels


def augmenter(size: int, seed: int):
    """The training augmentation (albumentations): fit into ``size``, scale/rotate/shift,
    bbox-safe zoom, pad to ``size``², colour, blur, noise, JPEG. Boxes ``pascal_voc``."""
    import albumentations as A

    grey = dict(border_mode=cv2.BORDER_CONSTANT, fill=stampdet.PAD_VALUE)
    return A.Compose([
        A.LongestMaxSize(max_size=size, interpolation=cv2.INTER_AREA),
        A.OneOf([
            A.Affine(scale=(0.45, 1.0), rotate=(-8, 8), translate_percent=(-0.08, 0.08),
                     **grey, p=1.0),
            A.Compose([A.BBoxSafeRandomCrop(erosion_rate=0.0, p=1.0),
                       A.LongestMaxSize(max_size=size, interpolation=cv2.INTER_AREA)]),
        ], p=0.6),
        A.PadIfNeeded(size, size, position="top_left", **grey),
        A.HueSaturationValue(hue_shift_limit=12, sat_shift_limit=25, val_shift_limit=15, p=0.4),
        A.ChannelShuffle(p=0.15),
        A.ToGray(p=0.1),
        A.RandomBrightnessContrast(p=0.3),
        A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=(3, 5))], p=0.15),
        A.GaussNoise(std_range=(0.01, 0.05), p=0.15),
        A.ImageCompression(quality_range=(45, 95), p=0.3),
    ], bbox_params=A.BboxParams(format="pascal_voc", min_visibility=0.5,
                                label_fields=["labels"]), seed=seed)


def mosaic_augmenter(size: int, seed: int):
    """YOLO's mosaic (Bochkovskiy et al., YOLOv4, 2020; YOLOX trains with it) from
    ``albumentations.Mosaic``: the page and three others, each fitted whole into a
    ``size``² cell with its aspect kept (``cv2.INTER_AREA``, as the service shrinks scans),
    laid 2 × 2 and cropped to ``size``² around a random centre, so stamps keep the scale of
    single-page training but meet other pages' print and page edges. Boxes less than half
    visible are dropped, as in :func:`augmenter`."""
    import albumentations as A

    return A.Compose([
        A.Mosaic(grid_yx=(2, 2), target_size=(size, size), cell_shape=(size, size),
                 fit_mode="contain", interpolation=cv2.INTER_AREA, fill=stampdet.PAD_VALUE,
                 p=1.0),
    ], bbox_params=A.BboxParams(format="pascal_voc", min_visibility=0.5,
                                label_fields=["labels"]), seed=seed)


class StampSet(torch.utils.data.Dataset):
    """``items`` (path, ``(G, 4)`` boxes, unstretch?, ``(I, 4)`` ignore regions) →
    (``[3, S, S]`` float32 BGR 0–255, ``(G', 4)`` and ``(I', 4)`` float32 xyxy network
    pixels). With probability ``mosaic`` (``mosaic_p``, which training may lower while the
    loader's workers run) a page is first laid with three random others by
    :func:`mosaic_augmenter`. With probability ``copy_paste`` a page first gets 1 to
    ``paste_max`` stamps of ``donors`` (:func:`paste_stamps`)."""

    def __init__(self, items: list[tuple[str, np.ndarray, bool, np.ndarray]], size: int,
                 seed: int, unstretch: tuple[float, float], mosaic: float = 0.0,
                 copy_paste: float = 0.0, donors: list | None = None, paste_max: int = 3):
        self.items, self.size, self.seed, self.unstretch = items, size, seed, unstretch
        self.copy_paste, self.donors, self.paste_max = copy_paste, donors or [], paste_max
        self.transform = augmenter(size, seed)
        # Shared with the loader's worker processes, so training can turn mosaic off late.
        self.mosaic_p = torch.tensor([float(mosaic)]).share_memory_()
        self.mosaic = mosaic_augmenter(size, seed) if mosaic > 0 else None

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        image, boxes, labels = self._page(i)
        if self.donors and random.random() < self.copy_paste:
            image, boxes, labels = paste_stamps(image, boxes, labels, self.donors,
                                                random.randint(1, self.paste_max))
        if self.mosaic is not None and random.random() < float(self.mosaic_p[0]):
            others = [self._page(random.randrange(len(self.items))) for _ in range(3)]
            out = self.mosaic(image=image, bboxes=boxes, labels=labels.tolist(),
                              mosaic_metadata=[{"image": im, "bboxes": b, "labels": lab.tolist()}
                                               for im, b, lab in others])
            image = out["image"]
            boxes = np.array(out["bboxes"], np.float32).reshape(-1, 4)
            labels = np.array(out["labels"], np.int64).reshape(-1)
        out = self.transform(image=image, bboxes=boxes, labels=labels.tolist())
        x = torch.from_numpy(np.ascontiguousarray(out["image"].transpose(2, 0, 1))).float()
        moved = np.array(out["bboxes"], np.float32).reshape(-1, 4)
        kinds = np.array(out["labels"], np.int64).reshape(-1)
        return x, torch.as_tensor(moved[kinds == 0]), torch.as_tensor(moved[kinds == 1])

    def _page(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Item ``i`` read and unstretched: BGR uint8 page, ``(N, 4)`` float32 xyxy pixel
        boxes clipped to it, ``(N,)`` int64 kinds (0 stamp, 1 ignore region)."""
        path, boxes, stretched, ignore = self.items[i]
        image = cv2.imread(path, cv2.IMREAD_COLOR)  # BGR, as the model takes it
        labels = np.array([0] * len(boxes) + [1] * len(ignore))
        boxes = np.concatenate([boxes, ignore]).reshape(-1, 4)
        if stretched:
            image, boxes = squeeze_width(image, boxes, random.uniform(*self.unstretch))
        h, w = image.shape[:2]
        boxes = boxes.copy()
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        keep = ((boxes[:, 2] - boxes[:, 0]) > 2) & ((boxes[:, 3] - boxes[:, 1]) > 2)
        return image, boxes[keep], labels[keep]


def _collate(batch):
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch], [b[2] for b in batch]


def _worker_init(worker_id: int) -> None:
    cv2.setNumThreads(0)
    info = torch.utils.data.get_worker_info()
    seed = info.seed % 2**31
    random.seed(seed)
    info.dataset.transform.set_random_seed(seed)
    if info.dataset.mosaic is not None:
        info.dataset.mosaic.set_random_seed(seed + 1)


# ----------------------------------------------------------------------------- evaluate

def score_sets(predict, pages: list[tuple[np.ndarray, np.ndarray]],
               thresholds=THRESHOLDS) -> dict[float, dict]:
    """Recall/precision at IoU 0.5 of ``predict(image) -> (boxes, scores)`` (run once at the
    lowest threshold) at each of ``thresholds``: ``{threshold: {tp, fp, fn, recall,
    precision, f1}}``."""
    runs = [(predict(image, min(thresholds)), truth) for image, truth in pages]
    out = {}
    for t in thresholds:
        tp = fp = fn = 0
        for (boxes, scores), truth in runs:
            a, b, c = match_boxes(boxes[scores >= t].tolist(), truth.tolist(), 0.5)
            tp, fp, fn = tp + a, fp + b, fn + c
        r, p = tp / max(1, tp + fn), tp / max(1, tp + fp)
        out[t] = {"pages": len(pages), "stamps": tp + fn, "tp": tp, "fp": fp, "fn": fn,
                  "recall": round(r, 3), "precision": round(p, 3),
                  "f1": round(2 * r * p / max(1e-9, r + p), 3)}
    return out


def _load_rgb(path: str) -> np.ndarray:
    return np.ascontiguousarray(cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1])


def real_pages() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The hand-labelled real scans of ``tests/data/stamps_truth.json`` that exist here."""
    truth = json.loads(TRUTH.read_text())["pages"]
    return [(rel, _load_rgb(str(SHARED_DATA / rel)), np.array(b, np.float32).reshape(-1, 4))
            for rel, b in truth.items() if (SHARED_DATA / rel).is_file()]


def torch_predictor(net: nn.Module, size: int, device: str):
    """``predict(rgb_image, min_score) -> (boxes, scores)`` with the torch module, through the
    service's own :func:`api.engines.stampdet.preprocess` and :func:`~api.engines.stampdet.decode`."""
    def predict(image: np.ndarray, min_score: float):
        tensor, scale = stampdet.preprocess(image, size)
        with torch.no_grad():
            y = net(torch.from_numpy(tensor).to(device))[0].float()
        y = torch.cat([y[:, :4], torch.sigmoid(y[:, 4:])], 1).cpu().numpy()
        return stampdet.decode(y, scale, image.shape[1], image.shape[0], min_score)
    return predict


#: The shipped ``min_score`` is the lowest threshold whose valid F1 is within this of the best:
#: the valid split's labels miss a stamp on roughly one page in ten (SOURCES.md), which counts
#: true detections as false and pushes the best-F1 threshold up; where F1 is flat, recall wins.
F1_TOLERANCE = 0.01


def best_threshold(table: dict[float, dict], tolerance: float = 0.0) -> float:
    """The lowest threshold whose F1 is within ``tolerance`` of the best (0: the best
    threshold itself; ties: the higher one)."""
    top = max(v["f1"] for v in table.values())
    if tolerance <= 0:
        return max((t for t in table if table[t]["f1"] == top))
    return min(t for t in table if table[t]["f1"] >= top - tolerance)


# ----------------------------------------------------------------------------- main

def evaluate_model(onnx_path: Path, config: dict, valid_rows: list[dict] | None = None,
                   valid_pages: list | None = None, log=print) -> dict:
    """Score an exported model with ONNX Runtime as the service runs it
    (:func:`score_detector`; the config's ``min_score`` when there is no valid split).
    Returns the card's ``bytes``, ``min_score``, ``valid_thresholds``, ``valid`` and
    ``real_scans``."""
    engine = stampdet.StampDetector(onnx_path, int(config["threads"]))
    if valid_rows is None:
        valid_rows = pool("valid")
        valid_pages = [(_load_rgb(r["file"]), r["boxes"]) for r in valid_rows]
    out: dict = {"bytes": onnx_path.stat().st_size}
    out.update(score_detector(engine, valid_rows, valid_pages or [],
                              float(config["min_score"]), log))
    return out


def score_detector(engine, valid_rows: list[dict], valid_pages: list, default: float,
                   log=print) -> dict:
    """A detector ``engine(image, min_score) -> (boxes, scores)`` on the valid split and the
    real scans: ``min_score`` is the lowest threshold of :data:`THRESHOLDS` within
    :data:`F1_TOLERANCE` of the best F1 on ``valid_pages`` (``default`` without any), then
    recall/precision at it per source of ``valid_rows`` (and ``all``) and on the real scans.
    Returns ``min_score``, ``valid_thresholds`` (with a valid split), ``valid`` and
    ``real_scans`` (where the scans exist)."""
    out: dict = {}
    threshold = default
    if valid_pages:
        table = score_sets(engine, valid_pages)
        threshold = best_threshold(table, F1_TOLERANCE)
        out["valid_thresholds"] = {str(t): {k: v[k] for k in ("recall", "precision", "f1")}
                                   for t, v in table.items()}
    out["min_score"] = threshold
    by_source: dict[str, list] = {}
    for row, page in zip(valid_rows, valid_pages):
        by_source.setdefault(row["source"], []).append(page)
    out["valid"] = {src: score_sets(engine, pages, (threshold,))[threshold]
                    for src, pages in sorted(by_source.items())}
    if valid_pages:
        out["valid"]["all"] = score_sets(engine, valid_pages, (threshold,))[threshold]
    real = real_pages()
    if real:
        out["real_scans"] = score_sets(engine, [(im, t) for _, im, t in real],
                                       (threshold,))[threshold]
        out["real_scans"]["files"] = [rel for rel, _, _ in real]
    log(json.dumps({k: out[k] for k in ("min_score", "valid", "real_scans") if k in out}))
    return out


def synth_digest() -> str:
    """10 hex digits of the page generator's code and weights (``training/synth/*.py`` and
    ``training/synth.json``): the synthetic page cache's key, so any change redraws it."""
    from training.synth.weights import CONFIG

    h = hashlib.sha256()
    for path in sorted(Path(synth.__file__).parent.glob("*.py")) + [CONFIG]:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:10]


def train(config: dict, out_dir: Path, cache_root: Path, device: str = "cpu",
          log=print) -> dict:
    """Run the whole recipe with ``config``; returns the card written next to the model."""
    seed = int(config["seed"])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(config["threads"]))
    started = time.time()
    size = int(config["size"])
    digest = synth_digest()
    n_syn = int(config["synthetic_pages"])
    folder = cache_root / f"stamps-s{seed}-n{n_syn}-px{config['synthetic_side']}-{digest}"
    synthetic = build_cache(folder, range(seed * 10**6, seed * 10**6 + n_syn),
                            int(config["workers"]), int(config["synthetic_side"]))
    gen_s = time.time() - started
    log(f"{len(synthetic)} synthetic pages ready in {gen_s:.0f} s")
    added = config.get("added")
    train_rows, valid_rows = pool("train", added), pool("valid", added)
    if config.get("limit_pool"):
        train_rows = train_rows[:int(config["limit_pool"])]
        valid_rows = valid_rows[:int(config["limit_pool"])]
    regions = ignore_regions(config.get("ignore"))
    items = [(r["file"], r["boxes"], stretched(r), regions.get(r["rel"], NO_BOXES))
             for r in train_rows]
    items += [(str(folder / name), np.array(b, np.float32).reshape(-1, 4), False, NO_BOXES)
              for name, b in sorted(synthetic.items())]
    log(f"{sum(len(v) for v in regions.values())} ignore regions on {len(regions)} pages")
    log(f"training on {len(train_rows)} real and {len(synthetic)} synthetic pages; "
        f"{len(valid_rows)} valid pages")
    mosaic = float(config.get("mosaic", 0.0))
    copy_paste = float(config.get("copy_paste", 0.0))
    donors = []
    if copy_paste > 0:
        donors = stamp_donors(train_rows, tuple(config["unstretch"]))
        thin = round(float(config.get("copy_paste_thin", 1)))
        if thin != 1:
            donors = thin_donors_repeated(donors, size, float(config["thin_side"]), thin)
            log(f"thin donors entered {thin}x: {len(donors)} in the bank")
        log(f"copy-paste: {len(donors)} real stamps to paste on {copy_paste:.0%} of samples")
    data = StampSet(items, size, seed, tuple(config["unstretch"]), mosaic, copy_paste, donors,
                    int(config.get("copy_paste_max", 3)))
    sampler = None
    if float(config.get("thin_repeat", 1.0)) != 1.0:
        weights = thin_repeat(train_rows, size, float(config["thin_side"]),
                              float(config["thin_repeat"]))
        weights += [1.0] * (len(items) - len(weights))  # synthetic pages
        log(f"{sum(w != 1.0 for w in weights)} pages with thin stamps drawn "
            f"{config['thin_repeat']}x as often")
        sampler = torch.utils.data.WeightedRandomSampler(
            weights, len(items), replacement=True,
            generator=torch.Generator().manual_seed(seed))
    loader = torch.utils.data.DataLoader(
        data, batch_size=int(config["batch"]), shuffle=sampler is None, sampler=sampler,
        drop_last=True,
        num_workers=int(config["loader_workers"]), collate_fn=_collate,
        worker_init_fn=_worker_init, generator=torch.Generator().manual_seed(seed),
        persistent_workers=int(config["loader_workers"]) > 0)
    net = stamp_graph().to(device)
    grid_np, stride_np = yolox.grids(size)
    grid = torch.from_numpy(grid_np).to(device)
    stride = torch.from_numpy(stride_np).to(device)
    decay = [p for p in net.parameters() if p.dim() > 1]
    rest = [p for p in net.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": float(config["weight_decay"])},
                             {"params": rest, "weight_decay": 0.0}], lr=float(config["lr"]))
    steps, warm = int(config["steps"]), int(config["warmup"])
    limit = float(config.get("time_limit_s", 1e12))
    sched = accel.warmup_cosine(opt, steps, warm, limit - (time.time() - started), floor=0.05)
    valid_pages = [(_load_rgb(r["file"]), r["boxes"]) for r in valid_rows]
    best = {"f1": -1.0}
    history = []
    step, running = 0, []

    def evaluate(at: int) -> None:
        net.eval()
        table = score_sets(torch_predictor(net, size, device), valid_pages)
        net.train()
        t = best_threshold(table)
        history.append({"step": at, "threshold": t, **table[t]})
        log(f"step {at}: valid {json.dumps(table[t])} at {t} ({time.time() - started:.0f} s)")
        if table[t]["f1"] > best["f1"]:
            best.update(f1=table[t]["f1"], step=at, threshold=t,
                        state=copy.deepcopy(net.state_dict()))

    fast = accel.compiled(net, accel.wanted(config, "compile"))  # evaluation stays eager
    net.train()
    stop = False
    while not stop:
        for x, targets, ignored in loader:
            x = x.to(device)
            targets = [t.to(device) for t in targets]
            ignored = [t.to(device) for t in ignored]
            with accel.autocast(device, accel.wanted(config, "bf16")):
                raw = fast(x)
            loss, parts = yolox_loss(raw.float(), targets, grid, stride, ignored)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
            sched.step()
            step += 1
            running.append(float(loss))
            if (mosaic and float(data.mosaic_p[0]) > 0
                    and sched.progress(step) >= float(config.get("mosaic_until", 0.85))):
                data.mosaic_p[0] = 0.0  # YOLOX's last epochs: plain pages only
                log(f"mosaic off from step {step}")
            if step % 25 == 0:
                log(f"step {step}/{steps} loss {np.mean(running):.3f} {parts} "
                    f"lr {sched.get_last_lr()[0]:.2e} ({time.time() - started:.0f} s)")
                running = []
            out_of_time = time.time() - started > limit
            if step % int(config["eval_every"]) == 0 or step >= steps or out_of_time:
                if valid_pages:
                    evaluate(step)
                if out_of_time:
                    log(f"time limit {limit:.0f} s reached at step {step}")
            if step >= steps or out_of_time:
                stop = True
                break
    train_s = time.time() - started - gen_s
    if "state" in best:
        net.load_state_dict(best["state"])
    out_dir.mkdir(parents=True, exist_ok=True)
    name = config.get("name", "stamp_det")
    onnx_path = out_dir / f"{name}.onnx"
    exported = Exported(net).to("cpu").eval()
    torch.onnx.export(exported, torch.zeros(1, 3, size, size), str(onnx_path),
                      input_names=["images"], output_names=["output"], opset_version=17,
                      dynamo=False)
    card = {
        "model": f"stamps/{name}.onnx",
        "architecture": "YOLOX-Nano (Megvii, COCO weights) fine-tuned to one class 'stamp'",
        "pretrained": "models/cut/yolox_nano.onnx (COCO val AP 25.8); class head from COCO "
                      f"'{yolox.COCO_CLASSES[COCO_PRIOR]}'",
        "input": f"images [1, 3, {size}, {size}] BGR 0-255, letterbox pad 114",
        "parameters": sum(p.numel() for p in net.parameters()),
        "config": config, "device": device, "torch": torch.__version__,
        "generate_s": round(gen_s), "train_s": round(train_s), "steps_done": step,
        "best_step": best.get("step"), "history": history,
    }
    card.update(evaluate_model(onnx_path, config, valid_rows, valid_pages, log))
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n")
    if out_dir.resolve() == OUT.resolve():
        modelfiles.record(f"stamps/{name}.onnx")
    return card


def evaluate_ensemble(out_dir: Path = OUT, threads: int = 2, log=print) -> dict | None:
    """Score the service's fused detector (:class:`api.engines.stampdet.StampEnsemble` over
    the members :data:`api.engines.stampdet.MEMBERS` in ``out_dir``) on the valid split with
    the added labels, as a member is scored (:func:`score_detector`).
    Writes ``out_dir/ensemble.json`` and returns it; ``None`` (nothing written) while a
    member is missing or the pool is absent."""
    paths = [out_dir / Path(m).name for m in stampdet.MEMBERS]
    rows = pool("valid", ADDED)
    if not all(p.is_file() for p in paths) or not rows:
        log("ensemble not scored: a member or the stamp pool is missing")
        return None
    engine = stampdet.StampEnsemble(paths, threads)
    pages = [(_load_rgb(r["file"]), r["boxes"]) for r in rows]
    out = {"members": list(stampdet.MEMBERS), "fuse_iou": stampdet.FUSE_IOU,
           "fuse_floor": stampdet.FUSE_FLOOR, "labels": "valid split with the added labels "
           "(training/stamps_added.json), detector boxes, IoU >= 0.5"}
    out.update(score_detector(engine, rows, pages, stampdet.MIN_SCORE, log))
    (out_dir / "ensemble.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: ``[--smoke] [--device cpu|cuda] [--out DIR] [--cache DIR] [--set k=v …]
    [--evaluate] [--evaluate-ensemble] [--make-ignore TEACHER_ONNX]``. The config key
    ``name`` (default ``stamp_det``) names the member written: ``stamp_det_added`` is the
    second one (``make train-stamps-added``)."""
    parser = argparse.ArgumentParser(prog="python -m training.train_stamps")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "training" / "cache")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--smoke", action="store_true",
                        help="about one minute: few pages and steps, into a temporary folder")
    parser.add_argument("--set", nargs="*", default=[], help="override config keys: key=value")
    parser.add_argument("--evaluate", action="store_true",
                        help="no training: re-score the model in --out (step 4) and update its card")
    parser.add_argument("--evaluate-ensemble", action="store_true",
                        help="no training: score the fused members in --out, write ensemble.json")
    parser.add_argument("--make-ignore", type=Path, metavar="TEACHER_ONNX",
                        help="no training: write training/stamps_ignore.json from this "
                             "detector's confident unlabelled boxes on the train split")
    args = parser.parse_args(argv)
    config = training_config.load(args.config, args.set, args.smoke)
    if args.make_ignore:
        doc = make_ignore(args.make_ignore, pool("train"), threads=int(config["threads"]))
        pages = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}"
                            for k, v in sorted(doc["pages"].items()))
        IGNORE.write_text(f'{{"teacher": "{doc["teacher"]}",\n "rule": "{doc["rule"]}",\n'
                          f' "pages": {{\n{pages}\n}}}}\n')
        print(f"{sum(len(v) for v in doc['pages'].values())} regions on "
              f"{len(doc['pages'])} pages written to {IGNORE}")
        return
    if args.evaluate_ensemble:
        evaluate_ensemble(args.out, int(config["threads"]))
        return
    if args.evaluate:
        name = config.get("name", "stamp_det")
        card_path = args.out / f"{name}.json"
        card = json.loads(card_path.read_text())
        card.update(evaluate_model(args.out / f"{name}.onnx", card["config"]))
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        return
    if args.smoke and args.out == OUT:
        args.out = Path(tempfile.mkdtemp(prefix="prism-stamps-smoke-"))
    train(config, args.out, args.cache, args.device)
    print(f"model and card written to {args.out}")


if __name__ == "__main__":
    main()
