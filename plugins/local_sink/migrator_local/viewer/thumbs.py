"""Small JPEGs of the originals, made with Pillow, for the viewer's grids (and a larger preview of a big or
browser-unfriendly image). A file Pillow cannot decode (a video, a damaged or unknown file) gets none: the page
shows a placeholder."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image, ImageOps

THUMB = 320  # px, the longer side: a grid cell on a high-density phone screen
PREVIEW = 1600
BROWSER_IMAGES = {"jpg", "jpeg", "png", "gif", "webp", "avif", "bmp", "svg_"}  # svg is renamed by the sink
BIG = 12 * 1024 * 1024  # above this, the document page shows a preview, not the original
ROTATE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
Image.MAX_IMAGE_PIXELS = 200_000_000  # a real panorama is fine; a decompression bomb beyond that is refused


def needs_preview(ext: str, size: int | None) -> bool:
    return ext.lower() not in BROWSER_IMAGES or (size or 0) > BIG


def make(original: Path, targets: list[tuple[Path, int]], rotation: int = 0) -> bool:
    """Write each `(path, longer side)` JPEG of `original`, turned upright (EXIF orientation, then the
    service's `rotation`); False when the file is not an image Pillow decodes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd but readable files
            with Image.open(original) as image:
                side = max(s for _, s in targets)
                image.draft("RGB", (side, side))  # a JPEG decodes at a reduced scale: much faster
                upright = ImageOps.exif_transpose(image)
                if rotation in ROTATE:
                    upright = upright.transpose(ROTATE[rotation])
                upright = upright.convert("RGB")
                for path, side in targets:
                    copy = upright.copy()
                    copy.thumbnail((side, side))
                    _save(copy, path)
        return True
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, MemoryError):
        return False


def _save(image: Image.Image, path: Path) -> None:
    """Through a temporary name: a stopped run never leaves half a JPEG (a cache: no fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    image.save(part, "JPEG", quality=80, optimize=True)
    os.replace(part, path)
