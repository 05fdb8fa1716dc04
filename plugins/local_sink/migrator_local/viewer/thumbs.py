"""Small JPEGs of the originals, made with Pillow, for the viewer's grids (and a larger preview of a big or
browser-unfriendly image). A file Pillow cannot decode (a video, a damaged or unknown file) gets none: the page
shows a placeholder."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Any

THUMB = 320  # px, the longer side: a grid cell on a high-density phone screen
PREVIEW = 1600
# shown as they are on a document's page (an SVG too: in an <img>, no script of it runs)
BROWSER_IMAGES = {"jpg", "jpeg", "png", "gif", "webp", "avif", "bmp", "svg"}
BIG = 12 * 1024 * 1024  # above this, the document page shows a preview, not the original
ROTATIONS = (90, 180, 270)  # clockwise, as a record's `rotation`


@functools.cache
def _pillow() -> tuple[Any, Any, tuple[str, ...], dict[int, Any]]:
    """Pillow, loaded on the first thumbnail (about 0.1 s with its plugins): a run that makes none, such as a
    rerun with no change, never pays for it."""
    from PIL import Image, ImageOps

    Image.init()
    # what cameras and services give (trying only these is faster than every format Pillow knows); others: none
    formats = tuple(f for f in ("JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "TIFF") if f in Image.OPEN)
    turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return Image, ImageOps, formats, turns


def needs_preview(ext: str, size: int | None, rotation: int = 0) -> bool:
    """Whether the document page shows a preview rather than the original: a big or browser-unfriendly file,
    or a turned one (a browser applies the file's own EXIF orientation to an <img> whatever the CSS says, and
    the service's rotation replaces that orientation, as the XMP's tiff:Orientation does)."""
    return ext.lower() not in BROWSER_IMAGES or (size or 0) > BIG or rotation in ROTATIONS


SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


def looks_like_an_image(path: Path) -> bool:
    """The file starts as a JPEG, PNG, GIF, BMP, TIFF or WebP does (cheaper than Pillow trying)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    return head.startswith(SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def make(original: Path, targets: list[tuple[Path, int]], rotation: int = 0) -> bool:
    """Write each `(path, longer side)` JPEG of `original`, turned upright: by the service's `rotation` if it
    has one (it replaces the file's EXIF orientation, as the XMP sidecar's tiff:Orientation does for photo
    managers), else by the EXIF orientation. False when the file is not an image Pillow decodes."""
    try:
        if not looks_like_an_image(original):
            return False
        image_module, image_ops, formats, turns = _pillow()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd but readable files
            with image_module.open(original, formats=formats) as image:
                side = max(s for _, s in targets)
                image.draft("RGB", (side, side))  # a JPEG decodes at a reduced scale: much faster
                if rotation in turns:
                    upright = image.transpose(turns[rotation])
                else:
                    upright = image_ops.exif_transpose(image)
                upright = upright.convert("RGB")
                for path, side in targets:
                    copy = upright.copy()
                    copy.thumbnail((side, side))
                    _save(copy, path)
        return True
    except Exception:  # noqa: BLE001 - a damaged file makes Pillow raise about anything: a placeholder, never a crash
        return False


def _save(image: Any, path: Path) -> None:
    """Through a temporary name: a stopped run never leaves half a JPEG (a cache: no fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    image.save(part, "JPEG", quality=80, optimize=True)
    os.replace(part, path)
