"""Upload and replace endpoints of the Flickr sandbox."""

from __future__ import annotations

import hashlib
import io
import os
import time
import xml.etree.ElementTree as ET

import flickrapi
import pytest
from migrator_flickr.sandbox import media


def _err(resp) -> tuple[str, str]:
    root = ET.fromstring(resp.content)
    assert root.get("stat") == "fail", resp.text
    err = root.find("err")
    return err.get("code"), err.get("msg")


def test_sync_upload_stores_file_and_fields(sb, flickr, up, make_jpeg):
    data = make_jpeg(300, 200, "unique", exif_date="2009-07-14 10:20:30")
    pid = up(flickr, data, title="Tour Eiffel", description="<b>Paris</b>", tags='paris "eiffel tower" '
             'ipernity:docid=42 "dc:title=two words"', is_public=0, is_friend=1, is_family=0, safety_level=2,
             hidden=2, content_type=1)
    st = sb.state()
    (p,) = st["photos"]
    assert p["id"] == pid and p["title"] == "Tour Eiffel" and p["description"] == "<b>Paris</b>"
    assert p["tags"] == ["paris", "eiffel tower"]
    assert p["tags_normalized"] == ["paris", "eiffeltower"]
    assert p["machine_tags"] == ["ipernity:docid=42", "dc:title=two words"]
    assert (p["is_public"], p["is_friend"], p["is_family"]) == (0, 1, 0)
    assert p["safety_level"] == 2 and p["hidden"] == 2
    assert p["original"] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert (p["width"], p["height"]) == (300, 200)
    assert p["date_taken"] == "2009-07-14 10:20:30" and p["date_taken_unknown"] == 0  # from EXIF
    assert sb.calls["upload"] == 1
    info = flickr.photos.getInfo(photo_id=pid)["photo"]
    raws = {t["raw"]: t for t in info["tags"]["tag"]}
    assert raws["eiffel tower"]["_content"] == "eiffeltower" and raws["eiffel tower"]["machine_tag"] == 0
    assert raws["ipernity:docid=42"]["machine_tag"] == 1
    assert info["safety_level"] == "1"  # getInfo reports 0..2
    assert info["visibility"] == {"ispublic": 0, "isfriend": 1, "isfamily": 0}
    # the original is served byte-identical
    import requests

    url = flickr.people.getPhotos(user_id="me", extras="url_o")["photos"]["photo"][0]["url_o"]
    assert requests.get(url, timeout=10).content == data


def test_upload_defaults_title_and_bools(sb, flickr, make_jpeg):
    # flickrapi sends title=basename when none is given; bools are sent as "True" and ignored
    flickr.upload("holiday.jpg", fileobj=io.BytesIO(make_jpeg()), format="etree", is_public=False)
    (p,) = sb.state()["photos"]
    assert p["title"] == "holiday.jpg"
    assert p["is_public"] == 1  # "False" is not 0/1, so the account default applies
    assert p["date_taken_unknown"] == 1


def test_upload_answer_is_xml_even_for_json_clients(sb, flickr, make_jpeg):
    with pytest.raises(ValueError):  # flickrapi parses the XML answer as JSON (issue #93)
        flickr.upload("a.jpg", fileobj=io.BytesIO(make_jpeg()), format="parsed-json")
    rsp = flickr.upload("a.jpg", fileobj=io.BytesIO(make_jpeg(8, 8, "2")), format="rest")
    assert rsp.startswith(b"<?xml") and b"<photoid>" in rsp


def test_async_upload_and_check_tickets(sb, flickr, up, make_jpeg):
    sb.knobs.async_delay = 0.3
    tid = up(flickr, make_jpeg(), title="later", **{"async": 1})
    rsp = flickr.photos.upload.checkTickets(tickets=f"{tid},999")
    tickets = {t["id"]: t for t in rsp["uploader"]["ticket"]}
    assert tickets[tid]["complete"] == 0 and "photoid" not in tickets[tid]
    assert tickets["999"]["invalid"] == 1
    assert flickr.people.getPhotos(user_id="me")["photos"]["total"] == "0"
    time.sleep(0.35)
    t = flickr.photos.upload.checkTickets(tickets=tid)["uploader"]["ticket"][0]
    assert t["complete"] == 1 and t["photoid"] in sb.account.photos
    assert sb.account.photos[t["photoid"]].title == "later"
    # the knob makes every upload async; failures complete with 2
    sb.knobs.set(async_uploads=True, async_delay=0, async_fail_rate=1.0)
    tid2 = up(flickr, make_jpeg(9, 9))
    assert tid2 not in sb.account.photos
    assert flickr.photos.upload.checkTickets(tickets=tid2)["uploader"]["ticket"][0]["complete"] == 2


def test_upload_errors(sb, raw, make_jpeg):
    assert _err(raw.upload(b"ID3\x03\x00\x00\x00" + b"\x00" * 200)) == ("5", "Filetype was not recognised")
    assert _err(raw.upload(b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 64))[0] == "5"
    assert _err(raw.upload(b"just some text, not a picture"))[0] == "5"
    assert _err(raw.upload(b"")) == ("4", "Filesize was zero")
    sb.knobs.max_photo_bytes = 100
    assert _err(raw.upload(make_jpeg(64, 64, "x" * 200)))[0] == "8"
    sb.knobs.max_photo_bytes = 200 * 1024 * 1024
    # no photo part at all
    import requests

    r = requests.post(sb.upload_url, data={"api_key": sb.api_key, "title": "t"}, auth=raw.auth(), timeout=10)
    assert _err(r) == ("2", "No photo specified")
    # photo excluded from the signature, every other field included: a field not signed breaks it
    r = raw.upload(make_jpeg(), fields={"title": "a"}, sign_fields={"title": "b", "api_key": sb.api_key})
    assert _err(r) == ("96", "Invalid signature")
    # read token cannot upload
    read = type(raw)(sb, sb.grant_token("read"))
    assert _err(read.upload(make_jpeg()))[0] == "99"
    # wrong api_key field
    assert _err(raw.upload(make_jpeg(), fields={"api_key": "0" * 32}))[0] == "100"
    assert not os.listdir(sb.storage_dir)  # rejected uploads leave no file behind
    assert sb.account.photos == {}


def test_free_account_limits_and_upload_status(sb, flickr, up, make_jpeg):
    sb.knobs.set(free_account=True, max_items=3, max_nonpublic=1)
    st = flickr.people.getUploadStatus()["user"]
    assert st["ispro"] == 0 and st["photos"]["limit"] == 3 and st["photos"]["remaining"] == 3
    assert int(st["filesize"]["maxbytes"]) == 200 * 1024 * 1024
    up(flickr, make_jpeg(8, 8, "1"), is_public=0)
    with pytest.raises(flickrapi.FlickrError) as ei:
        up(flickr, make_jpeg(8, 8, "2"), is_public=0)
    assert ei.value.code == 6
    up(flickr, make_jpeg(8, 8, "3"))
    pid = up(flickr, make_jpeg(8, 8, "4"))
    with pytest.raises(flickrapi.FlickrError) as ei:
        up(flickr, make_jpeg(8, 8, "5"))
    assert ei.value.code == 6
    st = flickr.people.getUploadStatus()["user"]
    assert st["photos"]["uploaded"] == 3 and st["photos"]["remaining"] == 0 and st["photos"]["nonpublic"] == 1
    with pytest.raises(flickrapi.FlickrError) as ei:  # making one more item private is refused too
        flickr.photos.setPerms(photo_id=pid, is_public=0, is_friend=0, is_family=0)
    assert ei.value.code == 3
    # replace needs a pro account
    fx = sb.flickrapi_client("write", format="etree")
    with pytest.raises(flickrapi.FlickrError) as ei:
        fx.replace("x.jpg", pid, fileobj=io.BytesIO(make_jpeg(8, 8, "6")))
    assert ei.value.code == 1
    sb.knobs.free_account = False
    up(flickr, make_jpeg(8, 8, "7"), is_public=0)
    assert flickr.people.getUploadStatus()["user"]["ispro"] == 1


def test_video_upload_limits_and_filename_knob(sb, flickr, up, raw):
    vid = media.make_video("v1")
    pid = up(flickr, vid)
    assert sb.account.photos[pid].media == "video" and sb.account.photos[pid].original_format == "mp4"
    sb.knobs.max_videos = 1
    with pytest.raises(flickrapi.FlickrError) as ei:
        up(flickr, media.make_video("v2"))
    assert ei.value.code == 7
    sb.knobs.max_videos = None
    sb.knobs.strict_video_filename = True  # flickrapi's "dummy name" has no extension (issue #104)
    assert _err(raw.upload(media.make_video("v3")))[0] == "5"
    assert ET.fromstring(raw.upload(media.make_video("v3"), filename="clip.mp4").content).get("stat") == "ok"
    sb.knobs.videos_disabled = True
    assert _err(raw.upload(media.make_video("v4"), filename="clip.mp4"))[0] == "0"


def test_dedup_check_reports_duplicate_id(sb, raw, make_jpeg):
    data = make_jpeg(20, 20, "same")
    first = ET.fromstring(raw.upload(data).content).find("photoid").text
    assert ET.fromstring(raw.upload(data).content).get("stat") == "ok"  # no dedup_check: a second copy
    r = raw.upload(data, fields={"dedup_check": "1"})
    assert _err(r)[0] == "9"
    assert ET.fromstring(r.content).find("duplicate_photo_id").text == first


def test_replace(sb, up, make_jpeg):
    fx = sb.flickrapi_client("write", format="etree")
    pid = up(fx, make_jpeg(10, 10, "old"))
    before = sb.account.photos[pid].originalsecret
    new = make_jpeg(30, 20, "new")
    rsp = fx.replace("n.jpg", pid, fileobj=io.BytesIO(new))
    node = rsp.find("photoid")
    assert node.text == pid and node.get("originalsecret") != before and node.get("secret")
    p = sb.state()["photos"][0]
    assert p["original"]["sha256"] == hashlib.sha256(new).hexdigest() and (p["width"], p["height"]) == (30, 20)
    assert sb.calls["replace"] == 1


def test_streamed_upload_of_a_large_file(sb, flickr):
    head = media.make_jpeg(16, 16, "big")
    data = head[:-2] + os.urandom(12 * 1024 * 1024) + b"\xff\xd9"
    pid = flickr.upload("big.jpg", fileobj=io.BytesIO(data), format="etree").find("photoid").text
    p = sb.account.photos[pid]
    assert p.size == len(data) and p.sha256 == hashlib.sha256(data).hexdigest()
    assert p.blob is None and os.path.getsize(p.path) == len(data)


def test_chunked_upload_body(sb, raw, make_jpeg):
    import requests

    data = make_jpeg(12, 12, "chunked")
    boundary = "XyZ123"
    fields = {"api_key": sb.api_key, "title": "chunky"}
    dummy = requests.Request("POST", sb.upload_url, data=fields, auth=raw.auth()).prepare()
    parts = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in fields.items())
    parts += (f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="dummy name"\r\n\r\n'
              .encode() + data + f"\r\n--{boundary}--\r\n".encode())

    def gen():
        for i in range(0, len(parts), 7):
            yield parts[i:i + 7]

    r = requests.post(sb.upload_url, data=gen(), timeout=10, headers={
        "Authorization": dummy.headers["Authorization"], "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert ET.fromstring(r.content).get("stat") == "ok", r.text
    assert sb.state()["photos"][0]["title"] == "chunky"


def test_concurrent_uploads(sb, make_jpeg):
    from concurrent.futures import ThreadPoolExecutor

    clients = [sb.flickrapi_client("write") for _ in range(4)]

    def one(i):
        f = clients[i % 4]
        return f.upload(f"{i}.jpg", fileobj=io.BytesIO(make_jpeg(16, 16, f"c{i}")), format="etree").find("photoid").text

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(16)))
    assert len(set(ids)) == 16 and set(ids) == set(sb.account.photos)
    assert sb.calls["upload"] == 16
