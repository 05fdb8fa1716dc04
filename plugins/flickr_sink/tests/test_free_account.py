"""The sandbox's free account since 2025-05-15: no original and nothing above 1024 px through the API, not even
for the owner (getSizes, the url_* extras, getInfo's originalsecret, the file host); Pro again: all back."""

from __future__ import annotations

import hashlib

import pytest
import requests
from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account

BIG = (3000, 2000)  # a photo whose 1600 and 2048 px sizes exist
ALL_URLS = "url_sq,url_q,url_t,url_s,url_n,url_w,url_m,url_z,url_c,url_l,url_h,url_k,url_o"


@pytest.fixture(scope="module")
def sb():
    account = build_seeded_account(1, n_photos=10)
    big = next(p for p in account.photos.values() if p.media == "photo")
    big.width, big.height = BIG
    with FlickrSandbox(seed=1, account=account, free_account=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def owner(sb):
    return sb.flickrapi_client("read", format="parsed-json")


def big_photo(sb):
    return next(p for p in sb.account.photos.values() if (p.width, p.height) == BIG)


def a_video(sb):
    return next(p for p in sb.account.photos.values() if p.media == "video")


def longest(size: dict) -> int:
    return max(int(size["width"]), int(size["height"]))


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


def test_the_account_says_it_is_free(owner, sb):
    assert owner.people.getUploadStatus()["user"]["ispro"] == 0
    assert owner.people.getInfo(user_id=sb.account.user.nsid)["person"]["ispro"] == 0


def test_get_sizes_stops_at_1024_px_and_has_no_original_even_for_the_owner(owner, sb):
    sizes = owner.photos.getSizes(photo_id=big_photo(sb).id)["sizes"]["size"]
    labels = [s["label"] for s in sizes]
    assert "Original" not in labels and "Large 1600" not in labels and "Large 2048" not in labels
    assert "Large" in labels and max(longest(s) for s in sizes) == 1024
    large = next(s for s in sizes if s["label"] == "Large")
    assert get(large["source"]).status_code == 200

    video = owner.photos.getSizes(photo_id=a_video(sb).id)["sizes"]["size"]
    labels = [s["label"] for s in video]
    assert "Video Original" not in labels and "HD MP4" not in labels and "Original" not in labels
    site = next(s for s in video if s["label"] == "Site MP4")
    assert get(site["source"]).status_code == 200  # follows the play redirect to the file


def test_listing_extras_and_get_info_name_no_original(owner, sb):
    photos = owner.people.getPhotos(user_id="me", extras=f"{ALL_URLS},original_format,o_dims,media",
                                    per_page=500)["photos"]["photo"]
    big = next(p for p in photos if p["id"] == big_photo(sb).id)
    assert "url_l" in big and not {"url_h", "url_k", "url_o", "originalsecret", "originalformat"} & set(big)
    assert (int(big["o_width"]), int(big["o_height"])) == BIG  # dimensions are no file: still told
    for item in photos:
        assert "url_o" not in item and "originalsecret" not in item
        for key in [k for k in item if k.startswith("url_")]:
            edge = key[4:]
            assert max(int(item[f"width_{edge}"]), int(item[f"height_{edge}"])) <= 1024
    info = owner.photos.getInfo(photo_id=big_photo(sb).id)["photo"]
    assert "originalsecret" not in info and "originalformat" not in info


def test_the_file_host_refuses_originals_and_big_sizes_even_with_urls_kept_from_a_pro_time(sb):
    photo, video = big_photo(sb), a_video(sb)
    base = sb.base_url
    refused = [
        f"{base}/{photo.server}/{photo.id}_{photo.originalsecret}_o.{photo.original_format}",
        f"{base}/{photo.server}/{photo.id}_{photo.secret}_h.jpg",
        f"{base}/{photo.server}/{photo.id}_{photo.secret}_k.jpg",
        f"{base}/photos/{sb.account.user.nsid}/{video.id}/play/orig/{video.originalsecret}/",
        f"{base}/photos/{sb.account.user.nsid}/{video.id}/play/hd/{video.secret}/",
        f"{base}/video/{video.id}_{video.originalsecret}.{video.original_format}",
        f"{base}/video/{video.id}_{video.secret}_hd.mp4",
    ]
    assert [get(url).status_code for url in refused] == [403] * len(refused)
    assert get(f"{base}/{photo.server}/{photo.id}_{photo.secret}_b.jpg").status_code == 200


def test_pro_again_gives_everything_back(sb):
    owner = sb.flickrapi_client("read", format="parsed-json")
    photo, video = big_photo(sb), a_video(sb)
    sb.knobs.free_account = False
    try:
        labels = [s["label"] for s in owner.photos.getSizes(photo_id=photo.id)["sizes"]["size"]]
        assert {"Original", "Large 1600", "Large 2048"} <= set(labels)
        item = next(p for p in owner.people.getPhotos(user_id="me", extras="url_o,url_k,original_format",
                                                      per_page=500)["photos"]["photo"] if p["id"] == photo.id)
        assert get(item["url_o"]).content == photo.read_original() and "url_k" in item
        sizes = owner.photos.getSizes(photo_id=video.id)["sizes"]["size"]
        original = next(s for s in sizes if s["label"] == "Video Original")
        assert hashlib.sha256(get(original["source"]).content).hexdigest() == video.sha256
    finally:
        sb.knobs.free_account = True
