"""Grounded captioning: Kosmos-2 generation → caption, phrases and their boxes in pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engines import kosmos
from ..registry import Registry
from .base import Deadline, Timings, tracking

DEFAULT_PROMPT = "<grounding>An image of"
#: Tokens generated after the prompt unless asked otherwise (capped by PRISM_MAX_NEW_TOKENS).
MAX_NEW_TOKENS = 64


@dataclass
class GeneratedText:
    """``text`` clean caption; ``raw`` generated text with grounding tags; ``entities``
    ``[{"phrase", "span": [start, end], "boxes": [{"box_norm": xyxy 0–1, "box": xyxy px}]}]``."""

    text: str
    raw: str
    entities: list = field(default_factory=list)
    new_tokens: int = 0

    def as_dict(self) -> dict:
        return {"text": self.text, "raw": self.raw, "entities": self.entities,
                "new_tokens": self.new_tokens}


def to_entities(entities, width: int, height: int) -> list[dict]:
    """Kosmos-2 ``(phrase, (start, end), [normalised boxes])`` → JSON entities with pixel boxes
    (the processor resizes without cropping, so normalised coordinates map linearly)."""
    scale = np.array([width, height, width, height], np.float64)
    out = []
    for phrase, (start, end), boxes in entities:
        out.append({"phrase": phrase, "span": [int(start), int(end)], "boxes": [
            {"box_norm": [round(float(v), 4) for v in box],
             "box": [round(float(v), 1) for v in np.asarray(box, np.float64) * scale]}
            for box in boxes]})
    return out


class GenerateTextPipeline:
    """Args: ``registry`` with ``caption-kosmos2``. Raises 503 when its snapshot is missing."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def __call__(self, image: np.ndarray, *, prompt: str = DEFAULT_PROMPT,
                 max_new_tokens: int = MAX_NEW_TOKENS, timings: Timings | None = None,
                 deadline: Deadline | None = None) -> GeneratedText:
        """Caption an RGB ``(H, W, 3)`` uint8 image."""
        timings, deadline = tracking(timings, deadline)
        engine = self.registry.get(kosmos.SPEC)
        deadline.check()
        with timings.stage("generate"):
            gen = engine(image, prompt, max_new_tokens)
        h, w = image.shape[:2]
        return GeneratedText(text=gen.text, raw=gen.raw, entities=to_entities(gen.entities, w, h),
                       new_tokens=gen.new_tokens)
