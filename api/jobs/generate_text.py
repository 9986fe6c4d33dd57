"""Job ``generate-text`` (``POST /generate-text``): a Kosmos-2 grounded caption."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pipelines import generate_text as pipeline
from ..vision import draw_boxes, encode_png
from .base import Context, Job, Reply, json_reply, option, png_reply, register


@dataclass(frozen=True)
class GenerateTextOptions:
    """``prompt`` (Kosmos-2's grounding prompt by default); ``max_new_tokens`` (capped by
    ``PRISM_MAX_NEW_TOKENS``); ``mode`` json or annotated (PNG with the phrases' boxes)."""

    prompt: str = option(pipeline.DEFAULT_PROMPT, max_length=500, help="the text to continue")
    max_new_tokens: int = option(pipeline.MAX_NEW_TOKENS, minimum=1, maximum=512,
                                 help="tokens to generate (capped by PRISM_MAX_NEW_TOKENS)")
    mode: str = option("json", choices=("json", "annotated"), help="json or annotated PNG",
                       cli=False)


@dataclass
class GenerateTextResult:
    """``image`` the RGB input and ``text`` the pipeline's
    :class:`api.pipelines.generate_text.GeneratedText`."""

    image: np.ndarray
    text: pipeline.GeneratedText

    def as_dict(self) -> dict:
        """``{"text", "raw", "new_tokens", "entities"}``."""
        return self.text.as_dict()

    def annotated_png(self) -> bytes:
        """The image with each grounded phrase's boxes drawn and labelled."""
        boxes = [b["box"] for e in self.text.entities for b in e["boxes"]]
        labels = [e["phrase"] for e in self.text.entities for _ in e["boxes"]]
        return encode_png(draw_boxes(self.image, boxes, labels))

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """``<stem>_boxes.png`` when a phrase was grounded (CLI ``--out``)."""
        return [(f"{stem}_boxes.png", self.annotated_png())] if self.text.entities else []


def run(documents, options: GenerateTextOptions, ctx: Context) -> GenerateTextResult:
    """Caption the first image."""
    image = documents[0].pages[0].image
    text = pipeline.GenerateTextPipeline(ctx.registry)(
        image, prompt=options.prompt,
        max_new_tokens=min(options.max_new_tokens, ctx.settings.max_new_tokens),
        timings=ctx.timings, deadline=ctx.deadline)
    return GenerateTextResult(image, text)


def respond(options: GenerateTextOptions, result, timings, accept: str = "") -> Reply:
    """``mode`` json → the caption JSON; annotated → the image with its grounded phrases."""
    if options.mode == "annotated":
        return png_reply(result.annotated_png())
    return json_reply(result, timings)


JOB = register(Job(
    name="generate-text", route="/generate-text", summary="grounded caption (Kosmos-2)",
    options=GenerateTextOptions, models=("caption-kosmos2",), run=run, respond=respond))
