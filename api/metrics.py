"""Quality metrics used by evaluation scripts, training and tests."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from .vision import box_iou


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate: Levenshtein distance (rapidfuzz) over reference length, with
    runs of whitespace (including line breaks) collapsed to one space first. 0.0 is perfect."""
    hyp, ref = " ".join(hypothesis.split()), " ".join(reference.split())
    return Levenshtein.distance(hyp, ref) / max(1, len(ref))


def match_boxes(predicted, truth, iou: float = 0.5) -> tuple[int, int, int]:
    """Greedy one-to-one matching of predicted to true xyxy boxes (predictions best first).

    A prediction is a true positive when its IoU with a not-yet-matched true box is ≥ ``iou``
    (the PASCAL VOC rule). Returns ``(true positives, false positives, false negatives)``.
    """
    unmatched = list(range(len(truth)))
    tp = 0
    for box in predicted:
        best, best_iou = None, iou
        for j in unmatched:
            overlap = box_iou(list(box), list(truth[j]))
            if overlap >= best_iou:
                best, best_iou = j, overlap
        if best is not None:
            unmatched.remove(best)
            tp += 1
    return tp, len(predicted) - tp, len(unmatched)
