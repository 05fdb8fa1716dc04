"""The ipernity sandbox's originals are real files: photos decode, carry the ground truth's EXIF and
orientation, videos are MP4/QuickTime files, and no two documents share bytes."""

import hashlib
import io
import struct

import pytest
import requests
from migrator_ipernity.sandbox import build_account
from migrator_ipernity.sandbox.account import UNKNOWN_DATE
from migrator_ipernity.sandbox.media import ORIENTATION

Image = pytest.importorskip("PIL.Image", reason="Pillow (the root test extra) decodes the sandbox's photos")
ImageOps = pytest.importorskip("PIL.ImageOps")

FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF"}


@pytest.fixture(scope="module")
def account():
    return build_account(0)


def _decode(data: bytes):
    im = Image.open(io.BytesIO(data))
    im.load()  # reads every pixel: a broken file raises here
    return im


def test_every_photo_original_decodes_with_its_ground_truth_size_and_md5(account):
    photos = [d for d in account.docs if d.media == "photo"]
    assert {d.original.ext.lower() for d in photos} == {"jpg", "png", "gif"}
    for d in photos:
        data = d.content()
        assert len(data) == d.original.bytes and hashlib.md5(data).hexdigest() == d.original.md5
        assert _decode(data).format == FORMATS[d.original.ext.lower()], d.doc_id


def test_exif_holds_the_date_taken_and_the_rotation(account):
    with_exif = [d for d in account.docs if d.media == "photo" and d.original.ext.lower() in ("jpg", "png")]
    assert {d.rotation for d in with_exif} == {0, 90, 180, 270}
    assert any(d.created_at == UNKNOWN_DATE for d in with_exif)
    for d in with_exif:
        exif = _decode(d.content()).getexif()
        taken = exif.get_ifd(0x8769).get(0x9003)
        want = None if d.created_at == UNKNOWN_DATE else d.created_at.replace("-", ":")
        assert taken == want, d.doc_id
        assert exif.get(0x0112) == ORIENTATION[d.rotation], d.doc_id


def test_applying_the_orientation_shows_the_picture_upright_with_the_ground_truth_aspect(account):
    for d in (d for d in account.docs if d.media == "photo" and d.original.ext.lower() in ("jpg", "png")):
        upright = ImageOps.exif_transpose(_decode(d.content())).convert("RGB")
        w, h = upright.size
        assert (w > h, w < h) == (d.original.w > d.original.h, d.original.w < d.original.h), d.doc_id
        r, g, b = upright.getpixel((w // 2, 1))  # the pictures have a red bar along their top edge
        assert r > 150 and g < 90 and b < 90, (d.doc_id, d.rotation)


def test_videos_are_mp4_or_quicktime_files(account):
    videos = [d for d in account.docs if d.original.ext.lower() in ("mp4", "mov")]
    assert videos
    for d in videos:
        data = d.content()
        boxes = _boxes(data)
        assert boxes[0] == "ftyp" and {"moov", "mdat"} <= set(boxes), d.doc_id
        assert data[8:12] == (b"qt  " if d.original.ext.lower() == "mov" else b"isom")
        assert len(data) == d.original.bytes


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


def test_every_document_has_distinct_bytes_and_the_same_seed_the_same_bytes(account):
    md5s = [d.original.md5 for d in account.docs]
    assert len(set(md5s)) == len(md5s)
    assert [d.original.md5 for d in build_account(0).docs] == md5s
    assert [d.original.md5 for d in build_account(1).docs][:10] != md5s[:10]


def test_the_server_serves_the_real_original_and_real_jpeg_thumbnails(module_sandbox):
    sb = module_sandbox
    doc = next(d for d in sb.account.docs if d.media == "photo" and d.ispublic and d.rotation == 90
               and d.original.ext.lower() == "jpg")
    original = requests.get(sb.file_url(doc), timeout=10)
    assert original.status_code == 200 and original.content == doc.content()
    for label in ("75x", "500", "1024"):
        thumb = requests.get(sb.file_url(doc, label), timeout=10)
        assert thumb.status_code == 200
        im = _decode(thumb.content)
        assert im.format == "JPEG" and im.getexif().get(0x0112) in (None, 1)  # renditions are upright
    video = next(d for d in sb.account.docs if d.media == "video" and d.ispublic)
    clip = requests.get(sb.file_url(video, "mp4"), timeout=10)
    assert clip.status_code == 200 and _boxes(clip.content)[0] == "ftyp"


def test_small_asked_sizes_keep_stub_bytes_of_exactly_that_size():
    """The benchmark's 300-byte originals are smaller than any real picture: they stay stubs."""
    account = build_account(0, n_docs=20, original_bytes=300)
    assert all(len(d.content()) == 300 == d.original.bytes for d in account.docs)
