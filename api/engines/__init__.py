"""Model engines, one module per model family; :data:`ALL_SPECS` feeds the registry."""

from . import layout, ppocr, tesseract

ALL_SPECS = (ppocr.SPEC, tesseract.SPEC, layout.SPEC)
