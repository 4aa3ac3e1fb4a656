"""Draws Reframe's app icons (www/icons/*.png): a wide 16:9 frame, dimmed, with the 9:16 crop
window lit inside it. Run once with Pillow (`python3 www/make_icons.py`); the PNGs are committed."""
from pathlib import Path
from PIL import Image, ImageDraw

ACCENT = (47, 111, 237)
HERE = Path(__file__).parent / "icons"


def icon(size: int, safe: float) -> Image.Image:
    """`safe`: the share of the side the drawing may use (maskable icons keep to the middle 80%)."""
    s = size * 4  # drawn large, then scaled down: smooth edges
    img = Image.new("RGBA", (s, s), ACCENT + (255,) if safe < 1 else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if safe == 1:
        d.rounded_rectangle([0, 0, s - 1, s - 1], radius=s // 5, fill=ACCENT)
    inner = s * safe * 0.78
    w, h = inner, inner * 9 / 16
    x0, y0 = (s - w) / 2, (s - h) / 2
    line = max(4, s // 40)
    d.rounded_rectangle([x0, y0, x0 + w, y0 + h], radius=s // 40, outline=(255, 255, 255, 140), width=line)
    cw = h * 9 / 16
    cx0 = x0 + w * 0.58 - cw / 2
    d.rounded_rectangle([cx0, y0 - line, cx0 + cw, y0 + h + line], radius=s // 40, fill=(255, 255, 255, 255))
    # a person in the crop window
    pr = cw * 0.16
    pcx, pcy = cx0 + cw / 2, y0 + h * 0.38
    d.ellipse([pcx - pr, pcy - pr, pcx + pr, pcy + pr], fill=ACCENT)
    d.pieslice([pcx - 2.2 * pr, pcy + 1.3 * pr, pcx + 2.2 * pr, pcy + 5.5 * pr], 180, 360, fill=ACCENT)
    return img.resize((size, size), Image.LANCZOS)


for size in (192, 512):
    icon(size, 1).save(HERE / f"icon-{size}.png", optimize=True)
icon(512, 0.8).save(HERE / "icon-maskable-512.png", optimize=True)
