"""Model engines, one module per model family; :data:`ALL_SPECS` feeds the registry."""

from . import isnet, korec, kosmos, layout, ppocr, sealtext, stampdet, stampembed, tesseract, yolox

ALL_SPECS = (ppocr.SPEC, korec.SPEC, tesseract.SPEC, layout.SPEC, yolox.SPEC, isnet.SPEC,
             stampdet.SPEC, sealtext.SPEC, stampembed.SPEC, kosmos.SPEC)
