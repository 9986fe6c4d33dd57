"""Job ``cut`` (``POST /cut``): named COCO objects cut out of a photo as a transparent PNG."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pipelines import cut as pipeline
from ..vision import encode_png
from .base import Context, Job, Reply, option, png_reply, register


@dataclass(frozen=True)
class CutOptions:
    """``objects`` COCO class names (required); ``min_score`` 0–1; ``return_white_bg`` RGB on
    white instead of RGBA; ``crop`` to the objects' union box; ``max_side`` px bound on the
    output; ``format`` json (base64 PNG) or png."""

    objects: tuple[str, ...] = option((), kind="names", max_length=80,
                                      help="comma-separated COCO class names, e.g. dog,person")
    min_score: float = option(pipeline.MIN_SCORE, minimum=0, maximum=1,
                              help="detector score from which an object is cut")
    return_white_bg: bool = option(False, help="RGB on white instead of transparency",
                                   cli="--white-bg")
    crop: bool = option(False, help="crop to the objects' union box")
    max_side: int | None = option(None, kind=int, minimum=16, maximum=10000,
                                  help="scale the output down to this longer side (px)")
    format: str = option("json", choices=("json", "png"), help="json or png", cli=False)


@dataclass
class CutResult:
    """``image`` the RGB photo ``(H, W, 3)`` uint8 and ``cut`` the pipeline's
    :class:`api.pipelines.cut.CutResult` (objects, alpha)."""

    image: np.ndarray
    cut: pipeline.CutResult
    options: CutOptions

    def png(self) -> bytes:
        """The cut-out PNG as the options ask (RGBA, or RGB on white; cropped; bounded)."""
        return encode_png(pipeline.compose(self.image, self.cut,
                                           white_bg=self.options.return_white_bg,
                                           crop=self.options.crop,
                                           max_side=self.options.max_side))

    def as_dict(self, with_png: bool = False) -> dict:
        """``{"objects", "mattes", "capped", "width", "height"}`` plus ``image_base64`` with
        ``with_png``."""
        import base64

        h, w = self.image.shape[:2]
        out = {"objects": [o.as_dict() for o in self.cut.objects], "mattes": self.cut.mattes,
               "capped": self.cut.capped, "width": w, "height": h}
        return {"image_base64": base64.b64encode(self.png()).decode(), **out} if with_png \
            else out

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """``<stem>.png``: the cut-out (CLI ``--out``)."""
        return [(f"{stem}.png", self.png())]


def run(documents, options: CutOptions, ctx: Context) -> CutResult:
    """Cut ``options.objects`` out of the first image."""
    image = documents[0].pages[0].image
    cut = pipeline.CutPipeline(ctx.registry)(image, list(options.objects),
                                             min_score=options.min_score, timings=ctx.timings,
                                             deadline=ctx.deadline)
    return CutResult(image, cut, options)


def wants_png(options: CutOptions, accept: str) -> bool:
    """``format=png``, or an Accept header that asks for ``image/png`` (or ``image/*``) and
    not for JSON."""
    if options.format == "png":
        return True
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return bool({"image/png", "image/*"} & set(kinds)) and "application/json" not in kinds


def respond(options: CutOptions, result: CutResult, timings, accept: str = "") -> Reply:
    """The transparent PNG itself (:func:`wants_png`), else JSON with it in base64."""
    with timings.stage("encode"):
        if wants_png(options, accept):
            return png_reply(result.png())
        body = result.as_dict(with_png=True)
    return Reply({**body, "timings_ms": timings.as_dict()})


JOB = register(Job(
    name="cut", route="/cut", summary="named COCO objects cut out as a transparent PNG",
    options=CutOptions, models=("detect-yolox-nano", "matte-isnet"), run=run,
    required=("objects",), respond=respond))
