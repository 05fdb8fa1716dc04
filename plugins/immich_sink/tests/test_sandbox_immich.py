"""The Immich sandbox itself, through plain HTTP: the behaviours the sink's exactly-once protocol relies on."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests
from migrator_immich.sandbox import ImmichSandbox

JPEG = b"\xff\xd8sandbox bytes\xff\xd9"


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


class Api:
    def __init__(self, sb: ImmichSandbox, key: str) -> None:
        self.sb, self.key = sb, key

    def __call__(self, verb: str, path: str, **kwargs) -> requests.Response:
        return requests.request(verb, f"{self.sb.url}/api{path}", headers={"x-api-key": self.key, **kwargs.pop(
            "headers", {})}, timeout=10, **kwargs)

    def upload(self, data: bytes = JPEG, name: str = "a.jpg", **fields) -> requests.Response:
        form = {"fileCreatedAt": "2020-01-01T00:00:00+01:00", "fileModifiedAt": "2020-01-01T00:00:00Z",
                "deviceAssetId": "d1", "deviceId": "test", **fields}
        return self("POST", "/assets", data=form, files={"assetData": (name, data, "image/jpeg")})


@pytest.fixture
def api(sb):
    return Api(sb, sb.api_key)


def test_uploads_dedup_per_user_by_checksum_trash_included(sb, api):
    first = api.upload()
    assert first.status_code == 201 and first.json()["status"] == "created"
    again = api.upload(name="other-name.jpg")
    assert again.status_code == 200 and again.json() == {"id": first.json()["id"], "status": "duplicate"}
    api("DELETE", "/assets", json={"ids": [first.json()["id"]]})
    check = api("POST", "/assets/bulk-upload-check", json={"assets": [
        {"id": "a", "checksum": sha1(JPEG)}, {"id": "b", "checksum": hashlib.sha1(b"x").hexdigest()}]}).json()
    assert check["results"] == [{"id": "a", "action": "reject", "reason": "duplicate", "assetId": first.json()["id"],
                                 "isTrashed": True}, {"id": "b", "action": "accept"}]
    other_user = sb.world.add_user("other@example.org", "Other")
    sb.world.add_key(other_user, "other-key")
    assert Api(sb, "other-key").upload().status_code == 201  # another user's same bytes: another asset


def test_auth_and_permissions(sb, api):
    assert api("GET", "/server/version").status_code == 200  # no key needed
    assert Api(sb, "")("GET", "/users/me").json()["message"] == "Authentication required"
    assert Api(sb, "nope")("GET", "/users/me").status_code == 401
    sb.world.add_key(next(iter(sb.world.data["users"])), "read-only", ("asset.read", "user.read"))
    refused = Api(sb, "read-only").upload()
    assert refused.status_code == 403 and refused.json()["message"] == "Missing required permission: asset.upload"


def test_each_version_its_shapes(sb, api):
    version = api("GET", "/server/version").json()
    bad = api("PUT", "/assets/00000000-0000-4000-8000-000000000000", json={"description": "x"})
    assert bad.status_code == 400
    if sb.major >= 3:
        assert "prerelease" in version and bad.headers.get("X-Correlation-ID") and set(bad.json()) == {"message"}
        naive = api.upload(fileCreatedAt="2020-01-01T00:00:00")
        assert naive.status_code == 400 and naive.json()["message"] == "Validation failed"
        assert api.upload(duration="0:00:00.000000").status_code == 400
        assert api("POST", "/assets/exist", json={}).status_code == 404
    else:
        assert "prerelease" not in version and bad.json()["correlationId"] == bad.headers["x-immich-cid"]
        assert api.upload(deviceId="").status_code == 400
        assert api.upload(duration="0:00:00.000000").status_code == 201


def test_the_checksum_header_answers_before_the_body(api):
    created = api.upload().json()["id"]
    answer = api("POST", "/assets", headers={"x-immich-checksum": hashlib.sha1(JPEG).hexdigest()},
                 data={"fileCreatedAt": "2020-01-01T00:00:00Z"}, files={"assetData": ("a.jpg", JPEG)})
    assert answer.status_code == 200 and answer.json() == {"id": created, "status": "duplicate"}


def test_albums_tags_and_search(sb, api):
    assets = [api.upload(JPEG + bytes([n]), f"{n}.jpg").json()["id"] for n in range(3)]
    album = api("POST", "/albums", json={"albumName": "Same", "assetIds": [assets[0]]}).json()
    twin = api("POST", "/albums", json={"albumName": "Same"}).json()
    assert album["id"] != twin["id"] and album["assetCount"] == 1  # names are not unique
    added = api("PUT", f"/albums/{album['id']}/assets", json={"ids": [assets[0], assets[1], "x"]}).json()
    assert [r.get("error") for r in added] == ["duplicate", None, "no_permission"]
    assert [a["id"] for a in api("GET", "/albums", params={"assetId": assets[1]}).json()] == [album["id"]]
    first = api("PUT", "/tags", json={"tags": ["Places/France/Paris", "plain"]}).json()
    assert [t["value"] for t in first] == ["Places/France/Paris", "plain"]
    assert api("PUT", "/tags", json={"tags": ["Places/France/Paris"]}).json()[0]["id"] == first[0]["id"]
    assert len(api("GET", "/tags").json()) == 4  # Places, Places/France, Places/France/Paris, plain
    assert api("PUT", "/tags/assets", json={"tagIds": [first[0]["id"]], "assetIds": assets}).json() == {"count": 3}
    page = api("POST", "/search/metadata", json={"albumIds": [album["id"]], "page": 1, "size": 1}).json()["assets"]
    assert page["count"] == 1 and page["nextPage"] == "2"
    found = api("POST", "/search/metadata", json={"checksum": sha1(JPEG + b"\x01")}).json()["assets"]["items"]
    assert [a["id"] for a in found] == [assets[1]]
    updated = api("PUT", f"/assets/{assets[2]}", json={"dateTimeOriginal": "2011-05-01T14:30:00+02:00",
                                                        "latitude": 48.8, "longitude": 2.3, "visibility": "archive"})
    assert updated.json()["exifInfo"]["timeZone"] == "UTC+02:00" and updated.json()["visibility"] == "archive"


def test_faults_lose_answers_after_the_work_is_done(sb, api):
    sb.knobs.lose_answer("upload", 1, "reset")
    with pytest.raises(requests.ConnectionError):
        api.upload()
    assert len(sb.state()["assets"]) == 1 and sb.lost_answers == [("upload", "reset")]
    sb.knobs.burst(1, 502)
    assert api("GET", "/users/me").status_code == 502
    sb.knobs.max_body_bytes = 10
    assert api.upload(JPEG + b"more").status_code == 413
