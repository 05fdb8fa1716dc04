"""Make docs/images/viewer-*.png: the offline viewer of a backup, in headless Chromium.

    python docs/images/viewer_screenshots.py                 # a demo backup of 24 photos drawn with Pillow
    python docs/images/viewer_screenshots.py --backup DIR    # an existing backup (e.g. the sandbox's, after
                                                             # `migrator run ipernity local --sandbox`)

Needs chromium, chromedriver and selenium (the test extra)."""

from __future__ import annotations

import argparse
import io
import math
import tempfile
import time
from pathlib import Path

from migrator_local import LocalSink
from PIL import Image, ImageDraw
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from migrator import Container, Context, Document, Item, Original
from migrator.registry import load

HERE = Path(__file__).resolve().parent
SKIES = [((250, 160, 60), (60, 40, 120)), ((120, 200, 250), (20, 60, 110)), ((240, 230, 200), (90, 120, 60)),
         ((255, 120, 120), (40, 20, 60)), ((170, 230, 180), (30, 90, 90)), ((250, 210, 90), (160, 60, 40))]
PLACES = [("Reykjavik", 64.1466, -21.9426), ("Lisbon", 38.7223, -9.1393), ("Kyoto", 35.0116, 135.7681),
          ("Edinburgh", 55.9533, -3.1883), ("Quebec", 46.8139, -71.2080)]
TITLES = ["Harbour at dusk", "Old chapel", "Market street", "Snow on the bridge", "Garden in June", "Lighthouse",
          "Station clock", "River bend", "Autumn lane", "Rooftops", "Fishing boats", "Morning fog"]


def landscape(n: int) -> bytes:
    """A sky, a sun and hills: a JPEG that looks like a photo in a thumbnail."""
    top, bottom = SKIES[n % len(SKIES)]
    w, h = (1600, 1067) if n % 4 else (1067, 1600)
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    for y in range(h):
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * y / h) for a, b in zip(top, bottom)))
    draw.ellipse([w * .6, h * .15, w * .78, h * .15 + w * .18], fill=(255, 245, 210))
    for k in range(5):
        base = h * (.55 + k * .09)
        hills = [(x, base + math.sin(x / (90 + 30 * k) + n + k) * 40) for x in range(0, w + 40, 40)]
        draw.polygon(hills + [(w, h), (0, h)], fill=tuple(int(c * (0.8 - k * .12)) for c in bottom))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def demo_backup(root: Path) -> None:
    sink = LocalSink({"path": root}, Context("local", "sink", folder_formats=load().folder_formats))
    sink.open()
    ids = []
    for n in range(24):
        year, (place, lat, lon) = 2008 + n // 4, PLACES[n % len(PLACES)]
        data = landscape(n)
        doc = Document.from_json({
            "schema": 2, "source": "ipernity", "id": str(3079500 + n), "title": TITLES[n % len(TITLES)],
            "description": f"Seen from the <b>{place}</b> side, early. <i>Film scan</i>, see "
                           f'<a href="https://example.org/{n}">notes</a>.',
            "tags": ["travel", place.lower(), "film" if n % 3 else "digital"],
            "taken_at": f"{year}-{1 + n % 12:02d}-{1 + n:02d}T{8 + n % 10:02d}:15:00", "taken_granularity": "second",
            "posted_at": f"{year}-{1 + n % 12:02d}-{2 + n:02d}T20:00:00Z", "license": "CC-BY-NC-SA-2.0",
            "visibility": {"public": n % 5 != 0, "friends": True, "family": True},
            "geo": {"latitude": lat, "longitude": lon},
            "comments": [{"id": f"c{n}", "author": "Martine", "posted_at": f"{year}-12-01T10:00:00Z",
                          "text": "Lovely light! I remember that morning."}] if n % 2 == 0 else [],
            "file": {"ext": "jpg", "name": f"IMG_{4100 + n}.JPG", "size": len(data)}})
        sink.store(Item(doc, Original(lambda data=data: io.BytesIO(data), doc.key, size=len(data))), None)
        ids.append(doc.id)
    for a, title in enumerate(["Iceland, winter", "Portugal", "Kyoto by bike", "Scotland"]):
        sink.store_container(Container(kind="album", source="ipernity", id=str(900 + a), title=title,
                                       description="A week of walks, mostly <b>before breakfast</b>.",
                                       members=ids[a::5], position=a), None)
    sink.finish()
    sink.close()


def screenshots(root: Path) -> None:
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,760", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get((root / "index.html").as_uri())
        time.sleep(1.5)
        driver.save_screenshot(str(HERE / "viewer-photostream.png"))
        driver.find_elements(By.CSS_SELECTOR, ".tile")[1].click()
        time.sleep(1.5)
        driver.save_screenshot(str(HERE / "viewer-document.png"))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backup", type=Path, help="a backup folder with its viewer (default: a demo backup)")
    args = parser.parse_args()
    if args.backup:
        screenshots(args.backup.resolve())
        return
    with tempfile.TemporaryDirectory() as tmp:
        demo_backup(Path(tmp))
        screenshots(Path(tmp))


if __name__ == "__main__":
    main()
