"""Text for synthetic pages: words in Latin, Cyrillic, Hangul or digits, and the Debian
fonts that draw them (DejaVu, Liberation, FreeFont; Nanum for Hangul)."""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from .weights import choose, config

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2",
             "/usr/share/fonts/truetype/freefont", "/usr/share/fonts/truetype/nanum")
LATIN = "abcdefghijklmnopqrstuvwxyzáčďéíľňóôŕšťúýž"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыэюя"
HANGUL = "가나다라마바사아자차카타파하국민은행서울특별시주식회사대표이사인감증명"
DIGITS = "0123456789"


@lru_cache(maxsize=None)
def font_files() -> dict[str, list[str]]:
    """Installed TrueType fonts by script: ``latin`` (Latin + Cyrillic) and ``hangul``."""
    files: dict[str, list[str]] = {"latin": [], "hangul": []}
    for folder in FONT_DIRS:
        for path in sorted(Path(folder).glob("*.ttf")):
            name = path.name.lower()
            if "nanum" in name:
                files["hangul"].append(str(path))
            elif "math" not in name and "extralight" not in name:
                files["latin"].append(str(path))
    if not files["latin"]:
        raise FileNotFoundError("no fonts found: install fonts-dejavu-core (make system)")
    return files


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The TrueType font at ``path`` in ``size`` px (at least 6), cached."""
    return ImageFont.truetype(path, max(6, int(size)))


def random_text(rng: random.Random, script: str | None = None, words: int | None = None) -> str:
    """``words`` (1–6 when ``None``) random words of ``script`` (drawn by the config's
    ``scripts`` weights when ``None``), sometimes capitalised, sometimes with a number."""
    script = script or choose(rng, config()["scripts"])
    alphabet = {"latin": LATIN, "cyrillic": CYRILLIC, "hangul": HANGUL, "digits": DIGITS}[script]
    n = words or rng.randint(1, 6)
    parts = []
    for _ in range(n):
        w = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))
        parts.append(w.capitalize() if rng.random() < 0.3 else w)
    if rng.random() < 0.3:
        parts.append("".join(rng.choice(DIGITS) for _ in range(rng.randint(2, 8))))
    return " ".join(parts)


def pick_font(rng: random.Random, text: str, size: int) -> ImageFont.FreeTypeFont:
    """A random installed font that has ``text``'s script (Nanum for Hangul)."""
    fonts = font_files()
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in text)
    pool = fonts["hangul"] if hangul and fonts["hangul"] else fonts["latin"]
    return load_font(rng.choice(pool), size)


def line_text(rng: random.Random) -> str:
    """A line of 2–10 words in one script (the config's ``line_scripts`` weights)."""
    script = choose(rng, config()["line_scripts"])
    return random_text(rng, script, rng.randint(2, 10))
