"""Write the small real images and videos the ipernity and Flickr sandboxes serve (dev time only).

Run once from the repository root with Pillow installed and ffmpeg on the PATH:

    python tools/make_sandbox_media.py

The sandboxes never import Pillow: at run time they take these templates as they are and add, per
document, an EXIF segment (date taken, orientation) and a padding segment derived from the document's
key, which makes every document's bytes distinct (see each plugin's ``sandbox/media`` module).

Each picture is a flat-colour landscape (sky, sun, hills) with a red bar along its top edge and an
arrow pointing up, so a viewer that honours the EXIF orientation shows the bar at the top.  The pixels
of the orientation-3/6/8 templates are stored turned the way a camera stores them: applying the
orientation (Pillow's ``ImageOps.exif_transpose``) gives back the upright picture.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
IPERNITY = ROOT / "plugins/ipernity_source/migrator_ipernity/sandbox/assets"
FLICKR = ROOT / "plugins/flickr_sink/migrator_flickr/sandbox/assets"

# (sky, sun, far hill, near hill) per palette
PALETTES = (
    ((110, 170, 230), (250, 210, 60), (70, 140, 70), (40, 100, 50)),
    ((240, 150, 110), (255, 240, 170), (120, 90, 140), (70, 50, 90)),
)
# ipernity's nominal sizes (4000x3000, 3000x4000, 2048x2048, 800x533) as small pictures
IPERNITY_ASPECTS = {"4x3": (160, 120), "3x4": (120, 160), "1x1": (128, 128), "3x2": (162, 108)}
# Flickr's seeded originals are stored at their real size
FLICKR_SIZES = ((320, 240), (240, 320), (400, 300), (128, 96))
# EXIF orientation -> how the camera stored the upright picture (the inverse of exif_transpose)
STORED = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
DISPLAY = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}


def scene(width: int, height: int, palette: int) -> Image.Image:
    sky, sun, far, near = PALETTES[palette]
    im = Image.new("RGB", (width, height), sky)
    d = ImageDraw.Draw(im)
    r = min(width, height) // 8
    d.ellipse((width * 3 // 4 - r, height // 3 - r, width * 3 // 4 + r, height // 3 + r), fill=sun)
    d.polygon([(0, height * 2 // 3), (width // 3, height // 2), (width * 2 // 3, height * 2 // 3),
               (width, height * 3 // 5), (width, height), (0, height)], fill=far)
    d.polygon([(0, height * 5 // 6), (width // 2, height * 3 // 4), (width, height * 7 // 8),
               (width, height), (0, height)], fill=near)
    d.rectangle((0, 0, width - 1, max(2, height // 20)), fill=(200, 30, 30))  # the top edge
    s = min(width, height) // 6  # an arrow pointing up, left of centre
    x, y = width // 4, height // 6
    d.polygon([(x, y), (x - s // 2, y + s // 2), (x + s // 2, y + s // 2)], fill=(255, 255, 255))
    d.rectangle((x - s // 6, y + s // 2, x + s // 6, y + s), fill=(255, 255, 255))
    return im


def stored(upright: Image.Image, orientation: int) -> Image.Image:
    how = STORED[orientation]
    im = upright if how is None else upright.transpose(how)
    back = im if orientation == 1 else im.transpose(DISPLAY[orientation])
    assert back.tobytes() == upright.tobytes(), orientation  # applying the tag gives the upright picture
    return im


def encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=70, optimize=True)
    else:  # flat colours: a small palette keeps PNG and GIF tiny
        im.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, fmt, optimize=True)
    return buf.getvalue()


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"{path.relative_to(ROOT)}: {len(data)} bytes")


def videos(folder: Path) -> None:
    """A one-second 160x90 test pattern, H.264 in MP4 and in QuickTime."""
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("mp4", "mov"):
            out = Path(tmp) / f"clip.{ext}"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=5:duration=1",
                            "-c:v", "libx264", "-preset", "veryslow", "-crf", "35", "-pix_fmt", "yuv420p",
                            "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact",
                            "-flags:v", "+bitexact", str(out)], check=True)
            write(folder / f"video.{ext}", out.read_bytes())


def main() -> None:
    for name, (w, h) in IPERNITY_ASPECTS.items():
        for orientation in STORED:
            for palette in range(len(PALETTES)):
                write(IPERNITY / f"photo-{name}-o{orientation}-p{palette}.jpg",
                      encode(stored(scene(w, h, palette), orientation), "JPEG"))
            write(IPERNITY / f"photo-{name}-o{orientation}.png", encode(stored(scene(w, h, 0), orientation), "PNG"))
        write(IPERNITY / f"photo-{name}.gif", encode(scene(w, h, 1), "GIF"))
    for w, h in FLICKR_SIZES:
        for palette in range(len(PALETTES)):
            write(FLICKR / f"photo-{w}x{h}-p{palette}.jpg", encode(scene(w, h, palette), "JPEG"))
    videos(IPERNITY)
    videos(FLICKR)


if __name__ == "__main__":
    main()
