"""Quality metrics used by evaluation scripts and tests."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate: Levenshtein distance (rapidfuzz) over reference length, with
    runs of whitespace (including line breaks) collapsed to one space first. 0.0 is perfect."""
    hyp, ref = " ".join(hypothesis.split()), " ".join(reference.split())
    return Levenshtein.distance(hyp, ref) / max(1, len(ref))
