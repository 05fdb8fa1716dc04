"""The Flickr sandbox's seeded originals are real files: photos decode at their listed size with the
date taken in EXIF, videos are MP4/QuickTime files, and no two items share bytes."""

from __future__ import annotations

import io
import struct

import pytest
import requests
from migrator_flickr.sandbox import build_seeded_account, media

Image = pytest.importorskip("PIL.Image", reason="Pillow (the root test extra) decodes the sandbox's photos")


@pytest.fixture(scope="module")
def account():
    return build_seeded_account(0)


def _decode(data: bytes):
    im = Image.open(io.BytesIO(data))
    im.load()  # reads every pixel: a broken file raises here
    return im


def _boxes(data: bytes) -> list[str]:
    """The top-level boxes of an ISO media file (their sizes must add up to the file's length)."""
    names, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        assert size >= 8, (at, size)
        names.append(kind.decode("latin-1"))
        at += size
    assert at == len(data)
    return names


def test_every_seeded_photo_decodes_at_its_size_with_the_date_taken_in_exif(account):
    photos = [p for p in account.photos.values() if p.media == "photo"]
    assert any(p.date_taken_unknown for p in photos) and any(not p.date_taken_unknown for p in photos)
    for p in photos:
        im = _decode(p.read_original())
        assert (im.format, im.size) == ("JPEG", (p.width, p.height)), p.id
        assert im.mode == "RGB" and len(im.getcolors(1 << 16)) > 3  # colour pictures, not flat grey
        exif = im.getexif()
        taken = exif.get_ifd(0x8769).get(0x9003)
        assert taken == (None if p.date_taken_unknown else p.date_taken.replace("-", ":")), p.id
        assert exif.get(0x0112) == 1 and p.rotation == 0  # seeded photos are not rotated
        assert media.exif_date_taken(p.read_original()) == (None if p.date_taken_unknown else p.date_taken)


def test_seeded_videos_are_mp4_or_quicktime_files(account):
    videos = [p for p in account.photos.values() if p.media == "video"]
    assert {p.original_format for p in videos} == {"mp4", "mov"}
    for p in videos:
        data = p.read_original()
        assert _boxes(data)[:1] == ["ftyp"] and {"moov", "mdat"} <= set(_boxes(data)), p.id
        assert media.sniff(data[:64]) == ("video", p.original_format)


def test_every_item_has_distinct_bytes_and_the_same_seed_the_same_bytes(account):
    shas = [p.sha256 for p in account.photos.values()]
    assert len(set(shas)) == len(shas)
    assert [p.sha256 for p in build_seeded_account(0).photos.values()] == shas
    assert media.make_photo("a", 320, 240) != media.make_photo("b", 320, 240)
    assert media.make_video("a") != media.make_video("b") and len(media.make_video("a", size=9000)) >= 9000


def test_video_renditions_served_are_real_clips(seeded):
    flickr = seeded.flickrapi_client("read", format="parsed-json")
    video = next(p for p in seeded.account.photos.values() if p.media == "video" and p.is_public)
    sizes = {s["label"]: s for s in flickr.photos.getSizes(photo_id=video.id)["sizes"]["size"]}
    clip = requests.get(sizes["Site MP4"]["source"], timeout=10)
    assert clip.status_code == 200 and _boxes(clip.content)[0] == "ftyp"
    still = requests.get(sizes["Original"]["source"], timeout=10)
    assert _decode(still.content).format == "JPEG"
