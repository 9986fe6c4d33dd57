"""Text detection + recognition for English and Korean: preprocess → infer → postprocess.

Detection: PP-OCRv6 DB detector (``ocr-ppocrv6``). Recognition: PP-OCRv6 Chinese/English CTC
recogniser for Latin text. Korean lines are read by both Prism's own Korean recogniser
(``ocr-ko-rec``, PP-OCRv6 tiny fine-tuned on Hangul) and Tesseract 5 LSTM ``kor+eng``
(``ocr-tesseract-kor``): Tesseract's reading is kept where it is confident (printed
document lines, which it reads better), ``ocr-ko-rec``'s where it scores higher (scene text:
signboards, plates, styled words, where Tesseract fails). With
``lang="auto"`` every line is first read by PP-OCR; a line whose result is not confident Latin
text (low score, or CJK glyphs — PP-OCR has no Hangul and reads it as Chinese look-alikes) is
re-read as Korean, and so is a line ``ocr-ko-rec`` confidently reads as PP-OCR's text plus
Hangul (PP-OCR skips Hangul without losing confidence: ``02`` for ``서울02``); the Korean
reading wins when it contains Hangul.

A page scanned sideways (:func:`api.orientation.quarter_turns`, at least
:data:`api.orientation.OCR_MIN_LINES` lines standing) is read turned upright, its quads given
back in the page as sent; an upside-down page is turned by a page-level 0/180° vote, which
``ocr-ko-rec`` settles where the vote is undecided and in ``ko`` mode
(:meth:`OcrPipeline._upside_down`). Each page reports its turn (``rotation``).

A crop 1.5× taller than wide is read two ways (:func:`line_views`): turned 90° (a rotated
line) and with its characters laid side by side (vertical writing, as on Korean signboards:
:func:`~api.vision.restack_vertical`); the higher-scoring reading stands.

Every line crop is bounded before a recogniser sees it: wider than :data:`MAX_LINE_ASPECT`
times its height, it is squeezed to that aspect ratio, so no input builds a tensor wider than
``48 × MAX_LINE_ASPECT`` pixels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from .. import orientation
from ..engines import korec, ppocr, tesseract
from ..registry import Registry
from ..vision import (
    crop_quad,
    is_vertical,
    order_quad,
    paint_out_arrows,
    quad_to_xyxy,
    reading_order,
    restack_vertical,
    turn_vertical,
)
from .base import Deadline, Timings, tracking

LANGS = ("auto", "en", "ko")
#: Latin recogniser choices (:data:`api.engines.ppocr.RECOGNIZERS`); the first is the default
#: (``ppocr.DEFAULT_RECOGNIZER``).
MODELS = tuple(ppocr.RECOGNIZERS)
#: Lines read with a lower score are dropped (the job default).
MIN_SCORE = 0.5
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uac00-\ud7af\u3130-\u318f]")
_HAN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")
_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_LATIN_WORDS = re.compile(r"[A-Za-z\s]+")
#: PP-OCR results at or above this score with no CJK glyphs are accepted in ``auto`` mode.
AUTO_LATIN_SCORE = 0.85
#: An ``ocr-ko-rec`` reading of a confident PP-OCR line at or above this score that is the
#: PP-OCR reading plus Hangul (:func:`_skipped_hangul`) sends the line to the Korean readers
#: in ``auto`` mode.
AUTO_HANGUL_SCORE = 0.8
#: Confident PP-OCR lines with fewer characters per unit of width/height than this are
#: checked for skipped Hangul (:func:`_sparse`). Confident English lines of the development
#: pages ran 1.22 and up (single digits 1.0); the second row of a plate ("무1413") 1.1. The
#: check only costs time: :func:`_skipped_hangul` decides.
SKIP_CHECK_DENSITY = 1.2
RECOGNIZE_CHUNK = 64  # line crops per recognition call; the deadline is checked between calls
#: Images with no detected text and at most this height are read as one line.
LINE_FALLBACK_MAX_HEIGHT = 200
#: Widest line crop (width / height) handed to a recogniser; wider ones are squeezed to it.
MAX_LINE_ASPECT = 50
#: Fewest lines for the page-level 0/180° vote: one or two lines are no page, and the
#: classifier (trained on Chinese) calls single Hangul signboard words upside down.
MIN_ORIENTATION_VOTES = 3
#: A vote without a majority is undecided, and settled by ``ocr-ko-rec`` (:meth:`OcrPipeline.
#: _reads_better_turned`), when at least this many lines, and this share of them, are
#: confidently 180°: the classifier calls a Korean page upside down by a minority (3 of
#: 10 lines of ``tesseract_kor_lines_page.png``).
DOUBT_VOTES = 2
DOUBT_SHARE = 0.25
#: Widest lines ``ocr-ko-rec`` reads both ways to settle a page's vote.
SETTLE_LINES = 6
#: Tesseract's score (mean word confidence) from which its Korean reading is kept over
#: ``ocr-ko-rec``'s. Calibrated on the development lines (scripts/eval_ocr.py): Tesseract
#: read every printed document line exactly at 0.90–0.95, while ``ocr-ko-rec`` scored
#: 0.81–0.96 there with CER up to 0.25; on scene crops Tesseract scored ≤ 0.84 (wrong or
#: empty at ≤ 0.72) and ``ocr-ko-rec`` 0.98 exact.
TESS_TRUSTED = 0.88
#: ``ocr-ko-rec``'s score from which its reading with a Hangul syllable stands against a
#: Tesseract reading without Hangul, whatever Tesseract's score. Plates whose syllable
#: Tesseract reads as a digit: 0.9999 (``68오8269`` against ``682 8269`` at 0.93); symbols
#: and figure labels ``ocr-ko-rec`` misreads as Hangul on the development pages: 0.80–0.87
#: (``8마`` for an axis label ``80``, ``드`` for ``=``).
KO_OVER_HANGUL_FREE_TESS = 0.99


def _sparse(text: str, crop: np.ndarray) -> bool:
    """Whether ``text`` has fewer characters than :data:`SKIP_CHECK_DENSITY` per unit of the
    crop's width/height: Latin runs about 1.5–2 per unit and a Hangul syllable takes one whole
    unit, so a line PP-OCR read with Hangul left out ("80" for 서울80: 0.6) is sparse while an
    English line is not, and only sparse lines pay for the ``ocr-ko-rec`` check."""
    h, w = crop.shape[:2]
    return len("".join(text.split())) < SKIP_CHECK_DENSITY * w / max(1, h)


def _numeric(text: str) -> bool:
    """Whether PP-OCR's reading ``text`` is mostly digits (at least half of two or more
    characters, spaces aside) with no word that is only symbols: a licence plate or a number
    line, where PP-OCR, which has no Hangul, reads a syllable as a digit or a symbol
    (``6913333`` for 69고3333, ``332±8193`` for 332소8193), and not a measure such as
    ``288 ± 51``, whose spaced ``±`` ``ocr-ko-rec`` would read as 노."""
    letters = _letters(text)
    return (len(letters) >= 2 and 2 * sum(c.isdigit() for c in letters) >= len(letters)
            and not any(not any(c.isalnum() for c in word) for word in text.split()))


def _misread_hangul(latin: str, korean: str) -> bool:
    """Whether ``korean`` is ``latin`` with Hangul PP-OCR misread: ``korean`` holds a Hangul
    syllable, and without spaces it matches ``latin`` with each of its syllables standing for
    up to two of ``latin``'s characters (or none) and every other character the same
    (``69고3333`` for ``6913333``, ``수7960`` for ``÷7960``, ``울산06`` for ``N06``);
    ``latin`` may carry one character more at its start or end: a plate's band read as a
    letter (``C0128813`` for ``01오8813``) or its frame or a bolt read as a digit
    (``83723921`` for ``83라2392``). Measured on the pool's real plate photos and the
    development images: training/experiments.md, 2026-12-08."""
    letters = _letters(korean)
    if not _SYLLABLE.search(letters):
        return False
    pattern = "".join(".{0,2}" if _SYLLABLE.fullmatch(c) else re.escape(c) for c in letters)
    return re.fullmatch(f".?{pattern}|{pattern}.?", _letters(latin)) is not None


def _letter_spaced(text: str) -> bool:
    """Whether ``text`` is two or more words that are each one Hangul syllable: a
    letter-spaced sign word (``서 울``), not a line of words."""
    words = text.split()
    return len(words) >= 2 and all(_SYLLABLE.fullmatch(word) for word in words)


def _korean_or_tesseract(korean: tuple[str, float, str], text: str, score: float
                         ) -> tuple[str, float, str]:
    """Which reading of a Korean line stands: ``korean`` (``ocr-ko-rec``'s ``(text, score,
    engine)``) or Tesseract's ``text`` at ``score`` (0–1). Tesseract's at a score ≥
    :data:`TESS_TRUSTED`, else the higher-scoring one, except:

    - the same letters spaced differently: ``ocr-ko-rec``'s spacing stands (Tesseract splits
      letter-spaced signboard words into syllables, "평 양" for 평양, while on the 18 Korean
      document lines of the development set the two spaced alike), unless ``ocr-ko-rec``
      itself spaces every syllable apart (:func:`_letter_spaced`) and Tesseract does not;
      then Tesseract's spacing stands at the higher of the two scores (both read these
      letters);
    - a Tesseract reading without Hangul never replaces an ``ocr-ko-rec`` reading with a
      syllable at ≥ :data:`KO_OVER_HANGUL_FREE_TESS` (on a licence plate Tesseract reads the
      syllable as a digit at 0.89–0.93, ``682 8269`` for 68오8269, above
      :data:`TESS_TRUSTED`, which was set on document lines, where both read Hangul), nor,
      from :data:`AUTO_HANGUL_SCORE`, one of Latin letters only (``AF`` at 0.93 for a lone 샹).
    """
    if _letters(text) == _letters(korean[0]) and text.split() != korean[0].split():
        if _letter_spaced(korean[0]) and not _letter_spaced(text):
            return text, max(score, korean[1]), "tesseract"
        return korean
    if _SYLLABLE.search(korean[0]) and not _HANGUL.search(text) and (
            korean[1] >= KO_OVER_HANGUL_FREE_TESS
            or (korean[1] >= AUTO_HANGUL_SCORE and _LATIN_WORDS.fullmatch(text))):
        return korean
    if text.strip() and (score >= TESS_TRUSTED or score > korean[1]):
        return text, score, "tesseract"
    return korean


def _letters(text: str) -> str:
    """``text`` without whitespace."""
    return "".join(text.split())


def _skipped_hangul(latin: str, korean: str) -> bool:
    """Whether ``korean`` is ``latin`` plus Hangul PP-OCR did not see: ``korean`` holds
    Hangul and, without its Hangul and spaces, equals ``latin`` without spaces. (A looser
    rule turns symbols PP-OCR reads right, ``±`` or ``=``, into Hangul look-alikes.)"""
    return bool(_HANGUL.search(korean)) and _letters(_HANGUL.sub("", korean)) == _letters(latin)


@dataclass
class OcrLine:
    """One recognised line. ``quad`` ``(4, 2)`` pixels clockwise from top-left; ``box`` xyxy
    pixels; ``score`` 0–1; ``lang`` ``en`` or ``ko`` (the script read); ``engine`` which
    recogniser produced ``text``."""

    text: str
    score: float
    quad: list[list[float]]
    box: list[float]
    lang: str
    engine: str

    def as_dict(self) -> dict:
        """JSON-ready dict with coordinates rounded to 0.1 px."""
        return {"text": self.text, "score": round(self.score, 4),
                "quad": [[round(x, 1), round(y, 1)] for x, y in self.quad],
                "box": [round(v, 1) for v in self.box], "lang": self.lang,
                "engine": self.engine}


@dataclass
class OcrPage:
    """OCR result for one image or PDF page (``page`` is 1-based; width/height in pixels;
    ``turns`` the quarter turns clockwise the page was found to have been scanned with and
    read turned back from, :func:`api.orientation.quarter_turns` or 2 for the page-level
    0/180° vote: the lines' quads are in the page as sent either way)."""

    page: int
    width: int
    height: int
    lines: list[OcrLine] = field(default_factory=list)
    turns: int = 0

    @property
    def text(self) -> str:
        """``lines`` (already in reading order) joined: a line that shares its row with the
        previous one (overlap across the lines ≥ half the shorter line, on the upright page)
        follows a space, else a newline."""
        lo, hi = (0, 2) if self.turns % 2 else (1, 3)  # a sideways page's rows run down it
        parts: list[str] = []
        for prev, line in zip([None, *self.lines], self.lines):
            if prev is not None:
                overlap = min(prev.box[hi], line.box[hi]) - max(prev.box[lo], line.box[lo])
                shorter = min(prev.box[hi] - prev.box[lo], line.box[hi] - line.box[lo])
                parts.append(" " if overlap >= 0.5 * shorter else "\n")
            parts.append(line.text)
        return "".join(parts)

    def as_dict(self) -> dict:
        """JSON-ready dict (``lines`` already in reading order; ``rotation``:
        :func:`api.orientation.rotation` of ``turns``)."""
        return {"page": self.page, "width": self.width, "height": self.height,
                "rotation": orientation.rotation(self.turns),
                "lines": [line.as_dict() for line in self.lines], "text": self.text}


def _script(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "en"


def bound_line(crop: np.ndarray, max_aspect: float = MAX_LINE_ASPECT) -> np.ndarray:
    """``crop`` ``(h, w, 3)`` uint8, squeezed horizontally to ``w ≤ max_aspect × h`` when
    wider (area interpolation); returned unchanged otherwise."""
    h, w = crop.shape[:2]
    limit = max(1, int(max_aspect * h))
    if w <= limit:
        return crop
    return cv2.resize(crop, (limit, h), interpolation=cv2.INTER_AREA)


def line_views(crop: np.ndarray) -> list[np.ndarray]:
    """The ways a line crop ``(h, w, 3)`` uint8 (upright, as cut from the page) is read: the
    crop with its arrow pictograms painted out (:func:`~api.vision.paint_out_arrows`: a
    recogniser reads a sign's ← as ``1``), or for a crop 1.5× taller than wide
    (:func:`~api.vision.is_vertical`) the crop turned 90° (a rotated line of text, as
    PaddleOCR reads it) and its characters laid side by side
    (:func:`~api.vision.restack_vertical`: vertical writing, common on Korean signboards,
    which a line recogniser cannot read turned)."""
    if not is_vertical(crop):
        return [paint_out_arrows(crop)]
    return [turn_vertical(crop), *restack_vertical(crop)]


#: :func:`join_stacked_syllables`: the largest gap between two stacked syllables (a share of
#: their mean height), the least horizontal overlap (a share of the narrower box) and the
#: largest width ratio.
STACK_GAP, STACK_OVERLAP, STACK_WIDTH_RATIO = 0.5, 0.6, 1.5


def _syllable(text: str) -> bool:
    """Whether ``text`` is one Hangul syllable (spaces aside)."""
    letters = _letters(text)
    return len(letters) == 1 and "\uac00" <= letters <= "\ud7a3"


def _stacked(upper: list[float], lower: list[float]) -> bool:
    """Whether xyxy box ``lower`` continues a column under ``upper``: it starts below
    ``upper``'s top and at most :data:`STACK_GAP` × their mean height below its bottom,
    overlaps it horizontally by at least :data:`STACK_OVERLAP` × the narrower width, and
    neither is more than :data:`STACK_WIDTH_RATIO` × as wide as the other."""
    a, b = upper, lower
    wa, wb = a[2] - a[0], b[2] - b[0]
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    return (b[1] > a[1] and b[1] - a[3] <= STACK_GAP * (a[3] - a[1] + b[3] - b[1]) / 2
            and overlap >= STACK_OVERLAP * min(wa, wb)
            and max(wa, wb) <= STACK_WIDTH_RATIO * max(1e-6, min(wa, wb)))


def join_stacked_syllables(items: list[tuple[np.ndarray, tuple[str, float, str]]]
                           ) -> list[tuple[np.ndarray, tuple[str, float, str]]]:
    """Join detections that are one Hangul syllable each and stand one under the next into
    one line: a vertical sign whose syllables the detector boxed one by one. Two boxes join
    when the lower continues the upper's column (:func:`_stacked`). The joined
    line's quad is the boxes' bounding rectangle, its text the syllables top to bottom, its
    score their mean and its engine the first's. ``items``: ``(quad (4, 2) pixels,
    (text, score, engine))``; returns them with every such column joined (others as given)."""
    boxes = [quad_to_xyxy(q) for q, _ in items]
    # singles top to bottom: a box's candidates below it end where none can be close enough
    singles = sorted((i for i, (_, r) in enumerate(items) if _syllable(r[0])),
                     key=lambda k: boxes[k][1])
    tallest = max((boxes[k][3] - boxes[k][1] for k in singles), default=0.0)
    claims: dict[int, int] = {}  # lower box -> the nearest single above that it continues
    for rank, i in enumerate(singles):
        a, nearest = boxes[i], None
        for j in singles[rank + 1:]:
            b = boxes[j]
            if b[1] - a[3] > STACK_GAP * tallest:
                break
            if _stacked(a, b) and (nearest is None or b[1] < boxes[nearest][1]):
                nearest = j
        if nearest is not None and (nearest not in claims
                                    or a[3] > boxes[claims[nearest]][3]):
            claims[nearest] = i
    below = {i: j for j, i in claims.items()}
    chains = []
    for head in (i for i in below if i not in claims):
        chain = [head]
        while chain[-1] in below:
            chain.append(below[chain[-1]])
        chains.append(chain)
    joined = {k for chain in chains for k in chain}
    out = [item for i, item in enumerate(items) if i not in joined]
    for chain in chains:
        x1, y1 = min(boxes[k][0] for k in chain), min(boxes[k][1] for k in chain)
        x2, y2 = max(boxes[k][2] for k in chain), max(boxes[k][3] for k in chain)
        quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)
        text = "".join(_letters(items[k][1][0]) for k in chain)
        score = float(np.mean([items[k][1][1] for k in chain]))
        out.append((quad, (text, score, items[chain[0]][1][2])))
    return out


class OcrPipeline:
    """English/Korean OCR over one RGB image.

    Args: ``registry`` provides ``ocr-ppocrv6`` and (for Korean) ``ocr-ko-rec`` and
    ``ocr-tesseract-kor``.
    Options per call: ``lang`` ∈ ``auto|en|ko``; ``model`` ∈ :data:`MODELS` the PP-OCRv6
    recogniser for Latin lines (``fast`` tiny, ``accurate`` small); ``min_score`` 0–1 drops
    weaker lines; ``det_max_side`` detector input size in pixels.
    Raises :class:`~api.errors.ModelUnavailable` when a needed model is not installed and
    :class:`~api.errors.GatewayTimeout` past the deadline.
    """

    def __init__(self, registry: Registry, det_max_side: int = 1280):
        self.registry = registry
        self.det_max_side = det_max_side

    # -- preprocess ------------------------------------------------------------------
    @staticmethod
    def _pad(image: np.ndarray) -> tuple[np.ndarray, int]:
        """Replicate-pad small or very flat images so DB detection sees margins."""
        h, w = image.shape[:2]
        pad = int(min(32, max(8, 0.25 * min(h, w))))
        padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        return padded, pad

    # -- inference -------------------------------------------------------------------
    def _detect(self, image: np.ndarray) -> np.ndarray:
        det = self.registry.get(ppocr.SPEC)
        padded, pad = self._pad(image)
        side = max(padded.shape[:2])
        max_side = int(min(self.det_max_side, max(640, 32 * round(side / 32))))
        quads, _ = det.detect(cv2.cvtColor(padded, cv2.COLOR_RGB2BGR), max_side=max_side)
        h, w = image.shape[:2]
        quads = quads - pad
        quads[..., 0] = np.clip(quads[..., 0], 0, w - 1)
        quads[..., 1] = np.clip(quads[..., 1], 0, h - 1)
        return np.stack([order_quad(q) for q in quads]) if len(quads) else quads

    @staticmethod
    def _tess_input(crop: np.ndarray) -> np.ndarray:
        """Upscale short lines to ≥ 40 px high and add a margin; Tesseract reads these best."""
        h = crop.shape[0]
        if h < 40:
            scale = 40.0 / h
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        m = max(4, crop.shape[0] // 4)
        return cv2.copyMakeBorder(crop, m, m, m, m, cv2.BORDER_REPLICATE)

    def _read_ko_rec(self, crops: list[np.ndarray], idx: list[int],
                     deadline: Deadline) -> dict[int, tuple[str, float, str]]:
        """Read crops ``idx`` with ``ocr-ko-rec`` in chunks. Returns
        ``{index: (text, score, "ocr-ko-rec")}``."""
        korean = self.registry.get(korec.SPEC)
        out: dict[int, tuple[str, float, str]] = {}
        for start in range(0, len(idx), RECOGNIZE_CHUNK):
            chunk = idx[start:start + RECOGNIZE_CHUNK]
            for i, (text, score) in zip(chunk, korean.recognize([crops[i] for i in chunk])):
                out[i] = (text, score, "ocr-ko-rec")
            deadline.check()
        return out

    def _read_korean(self, crops: list[np.ndarray], idx: list[int], deadline: Deadline,
                     known: dict[int, tuple[str, float, str]] | None = None
                     ) -> dict[int, tuple[str, float, str]]:
        """Read crops ``idx`` with ``ocr-ko-rec`` (batched; ``known`` readings are reused)
        and Tesseract, and keep per line the reading :func:`_korean_or_tesseract` chooses.
        Returns ``{index: (text, score, engine)}``."""
        tess = self.registry.get(tesseract.SPEC)
        known = known or {}
        out = {i: known[i] for i in idx if i in known}
        out |= self._read_ko_rec(crops, [i for i in idx if i not in known], deadline)
        for i in idx:
            deadline.check()
            out[i] = _korean_or_tesseract(out[i], *tess.recognize(self._tess_input(crops[i])))
        return out

    def _upside_down(self, crops: list[np.ndarray], timings: Timings, lang: str) -> bool:
        """Page-level vote of the PP-OCR 0/180 line classifier over RGB line crops: the page
        is upside down when most lines are confidently 180° (≥ 0.9), and at least
        :data:`MIN_ORIENTATION_VOTES` vote. Per-line decisions misfire on quotation marks
        and on Hangul (the classifier was trained on Chinese), so no single line is
        flipped. An undecided vote (no majority, but at least :data:`DOUBT_VOTES` and
        :data:`DOUBT_SHARE` of the lines confidently 180°), and in ``ko`` mode any vote
        that would turn the page, is settled by :meth:`_reads_better_turned`.
        """
        if len(crops) < MIN_ORIENTATION_VOTES:
            return False
        with timings.stage("orientation"):
            votes = self.registry.get(ppocr.SPEC).orientation(
                [c[:, :, ::-1].copy() for c in crops])
            flipped = sum(1 for angle, score in votes if angle == 180 and score >= 0.9)
            if flipped > len(votes) / 2 and lang != "ko":
                return True
            if flipped < max(DOUBT_VOTES, DOUBT_SHARE * len(votes)):
                return False
            return self._reads_better_turned(crops)

    def _reads_better_turned(self, crops: list[np.ndarray]) -> bool:
        """Whether ``ocr-ko-rec`` (Hangul, Latin and digits) reads the :data:`SETTLE_LINES`
        widest RGB line crops better turned 180°
        (:func:`api.orientation.reads_better_turned`, which :func:`api.orientation.half_turn`
        asks of PP-OCR's recogniser, which reads no Hangul)."""
        widest = sorted(range(len(crops)), key=lambda i: -crops[i].shape[1])[:SETTLE_LINES]
        return orientation.reads_better_turned([crops[i] for i in widest],
                                               self.registry.get(korec.SPEC).recognize)

    def _recognize(self, crops: list[np.ndarray], lang: str, timings: Timings,
                   deadline: Deadline, model: str = MODELS[0]) -> list[tuple[str, float, str]]:
        """Read RGB line crops; returns ``(text, score, engine)`` per crop (see module doc).
        Every crop is bounded here (:func:`bound_line`), whichever recogniser reads it."""
        crops = [bound_line(c) for c in crops]
        results: list[tuple[str, float, str]] = []
        if lang != "ko":
            latin = self.registry.get(ppocr.SPEC)
            with timings.stage("recognize"):
                # in chunks, so a page with hundreds of lines still stops at its deadline
                for start in range(0, len(crops), RECOGNIZE_CHUNK):
                    bgr = [c[:, :, ::-1].copy() for c in crops[start:start + RECOGNIZE_CHUNK]]
                    results += [(t, s, "ppocr") for t, s in latin.recognize(bgr, model)]
                    deadline.check()
        if lang == "ko":
            todo = list(range(len(crops)))
        elif lang == "auto":
            todo = [i for i, (t, s, _) in enumerate(results)
                    if s < AUTO_LATIN_SCORE or _CJK.search(t)]
        else:
            todo = []
        known: dict[int, tuple[str, float, str]] = {}
        if lang == "auto":
            # PP-OCR has no Hangul and can skip it silently ("02" for 서울02, at 0.99) or read
            # it as a digit ("6913333" for 69고3333): ocr-ko-rec (a few ms a line) looks at the
            # confident sparse lines and number lines too
            queued = set(todo)
            sparse = {i for i in range(len(crops))
                      if i not in queued and _sparse(results[i][0], crops[i])}
            numeric = {i for i in range(len(crops))
                       if i not in queued and _numeric(results[i][0])}
            with timings.stage("recognize_ko"):
                known = self._read_ko_rec(crops, sorted(sparse | numeric), deadline)
            todo = sorted(set(todo) | {
                i for i, (t, s, _) in known.items() if s >= AUTO_HANGUL_SCORE and (
                    (i in sparse and _skipped_hangul(results[i][0], t))
                    or (i in numeric and _misread_hangul(results[i][0], t)))})
        if not todo:
            return results
        with timings.stage("recognize_ko"):
            korean = self._read_korean(crops, todo, deadline, known)
        if lang == "ko":
            return [korean[i] for i in range(len(crops))]
        for i, (text, score, engine) in korean.items():
            if _HANGUL.search(text) and (score >= 0.5 or score >= results[i][1]):
                results[i] = (text, score, engine)
            elif _HAN.search(results[i][0]):
                # Chinese is not a language Prism reads: PP-OCR's Han output here is almost
                # always Hangul it cannot read, so its confidence is halved.
                results[i] = (results[i][0], results[i][1] * 0.5, "ppocr")
        return results

    def _read_views(self, views: list[list[np.ndarray]], lang: str, timings: Timings,
                    deadline: Deadline, model: str = MODELS[0]) -> list[tuple[str, float, str]]:
        """Read every view of every line (:func:`line_views`) in one :meth:`_recognize`
        call; per line the first view's reading stands unless another reads text at a
        higher score. The other views are stacked columns, whose readings lose their
        spaces: the gaps between pieces are the cut's margins, not word breaks (vertical
        signs are written without spaces). Returns ``(text, score, engine)`` per line."""
        flat = [view for line in views for view in line]
        readings = iter(self._recognize(flat, lang, timings, deadline, model))
        results = []
        for line in views:
            options = [next(readings) for _ in line]
            best = options[0]
            for text, score, engine in options[1:]:
                if text.strip() and score > best[1]:
                    best = ("".join(text.split()), score, engine)
            results.append(best)
        return results

    def _reread_in_columns(self, quads: np.ndarray, views: list[list[np.ndarray]],
                           results: list[tuple[str, float, str]], timings: Timings,
                           deadline: Deadline) -> list[tuple[str, float, str]]:
        """``auto`` mode: a box PP-OCR read as one or two Latin characters that stands in a
        column with a Hangul syllable (:func:`_stacked`, either way) is read as Korean too,
        and a single syllable read at a score ≥ 0.5 replaces it. PP-OCR confidently reads
        some lone syllables as Latin (``CH`` for 대), so a vertical sign boxed syllable by
        syllable lost them; a column of syllables is one script."""
        boxes = [quad_to_xyxy(q) for q in quads]
        hangul = [j for j, r in enumerate(results) if _syllable(r[0])]
        suspects = [i for i, (text, _, engine) in enumerate(results)
                    if engine == "ppocr" and 1 <= len(_letters(text)) <= 2
                    and not _CJK.search(text)
                    and any(_stacked(boxes[i], boxes[j]) or _stacked(boxes[j], boxes[i])
                            for j in hangul)]
        if not suspects:
            return results
        with timings.stage("recognize_ko"):
            korean = self._read_korean([views[i][0] for i in suspects],
                                       list(range(len(suspects))), deadline)
        results = list(results)
        for k, i in enumerate(suspects):
            text, score, engine = korean[k]
            if _syllable(text) and score >= 0.5:
                results[i] = (_letters(text), score, engine)
        return results

    def __call__(self, image: np.ndarray, *, page: int = 1, lang: str = "auto",
                 model: str = MODELS[0], min_score: float = MIN_SCORE,
                 timings: Timings | None = None,
                 deadline: Deadline | None = None,
                 orient: bool = orientation.ORIENT) -> OcrPage:
        """OCR one image.

        A small image (height ≤ :data:`LINE_FALLBACK_MAX_HEIGHT`) with at most one detected
        row, or weakly read rows, is also read whole, as one line, and that reading replaces the
        detected lines when it scores higher: tight word
        crops often defeat the detector. With ``orient`` a page scanned sideways (at least
        :data:`api.orientation.OCR_MIN_LINES` lines standing) is read turned upright and its
        quads are given back in ``image``. Args: ``image`` ``(H, W, 3)`` uint8 RGB.
        Returns an :class:`OcrPage` whose lines are in reading order.
        """
        timings, deadline = tracking(timings, deadline)
        h, w = image.shape[:2]
        if orient:
            with timings.stage("orient"):
                turns = orientation.quarter_turns(image, self.registry.get(ppocr.SPEC),
                                                  orientation.OCR_MIN_LINES)
            if turns:
                found = self(orientation.upright(image, turns), page=page, lang=lang,
                             model=model, min_score=min_score, timings=timings,
                             deadline=deadline, orient=False)
                for line in found.lines:
                    quad = orientation.points_back(np.array(line.quad), turns, image.shape)
                    line.quad, line.box = quad.tolist(), quad_to_xyxy(quad)
                return OcrPage(page=page, width=w, height=h, lines=found.lines, turns=turns)
        with timings.stage("detect"):
            quads = self._detect(image)
        deadline.check()
        with timings.stage("crop"):
            crops = [crop_quad(image, q, rotate_vertical=False) for q in quads]
        turned = self._upside_down([turn_vertical(c) for c in crops], timings, lang)
        if turned:  # read the page the right way up; coordinates are mapped back below
            image = np.ascontiguousarray(image[::-1, ::-1])
            quads = np.stack([order_quad(np.array([w - 1, h - 1], np.float32) - q)
                              for q in quads])
            crops = [crop_quad(image, q, rotate_vertical=False) for q in quads]
        with timings.stage("crop"):  # once the page is the right way up
            views = [line_views(c) for c in crops]
        results = self._read_views(views, lang, timings, deadline, model) if views else []
        if lang == "auto":
            results = self._reread_in_columns(quads, views, results, timings, deadline)
        mean = sum(r[1] for r in results) / len(results) if results else 0.0
        single_row = len(reading_order([quad_to_xyxy(q) for q in quads])) <= 1
        if h <= LINE_FALLBACK_MAX_HEIGHT and (single_row or mean < AUTO_LATIN_SCORE):
            whole = self._read_views([line_views(image)], lang, timings, deadline, model)[0]
            if whole[0].strip() and whole[1] > mean:
                quads = np.array([[[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]], np.float32)
                results = [whole]
        with timings.stage("postprocess"):
            kept = join_stacked_syllables(
                [(q, r) for q, r in zip(quads, results) if r[0].strip() and r[1] >= min_score])
            order = [i for row in reading_order([quad_to_xyxy(q) for q, _ in kept]) for i in row]
            lines = []
            for q, (t, s, e) in (kept[i] for i in order):
                if turned:  # back to the input's frame, still starting at the text's top-left
                    q = np.array([w - 1, h - 1], np.float32) - q
                lines.append(OcrLine(text=t, score=s, quad=q.tolist(), box=quad_to_xyxy(q),
                                     lang=_script(t), engine=e))
        return OcrPage(page=page, width=w, height=h, lines=lines, turns=2 if turned else 0)
