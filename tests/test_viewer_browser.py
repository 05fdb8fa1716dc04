"""The offline viewer of a sandbox backup in a real browser: headless Chromium opens index.html from file://
(no server) and the DOM is checked: counts, an album's order, a document page's fields, search, ←/→, a
hostile title shown as text with no script run, and no request outside the backup folder.

One screenshot per main view goes to $MIGRATOR_VIEWER_SHOTS, else to this test's tmp folder (printed).
Needs `chromium` and `chromedriver` (Debian: apt-get install chromium chromium-driver) and selenium."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("migrator_local")
pytest.importorskip("migrator_ipernity")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")

from migrator_ipernity.sandbox import build_account  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from migrator import Container, Context, Document, Item, Original  # noqa: E402
from migrator.registry import load  # noqa: E402
from migrator.testing.cli import CliRunner  # noqa: E402

ALL = {"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity,local,flickr"}
BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
pytestmark = pytest.mark.skipif(BROWSER is None or DRIVER is None,
                                reason="no chromium/chromedriver on this machine: apt-get install chromium "
                                       "chromium-driver (.ci/run does it when it runs as root)")
# Every window.alert, confirm or prompt is recorded (set up before any page script runs): none may happen.
TRAP = ("window.__dialogs = [];"
        "for (const n of ['alert', 'confirm', 'prompt']) window[n] = m => { window.__dialogs.push(String(m)); };")


@pytest.fixture(scope="module")
def sandbox_backup(plugin_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`migrator run ipernity local --sandbox`, as a user runs it (its backup holds the viewer)."""
    home = tmp_path_factory.mktemp("viewer-home")
    for name in ("xdg_config_home", "xdg_state_home", "xdg_cache_home"):
        (home / name).mkdir()
    env = {**ALL, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg_config_home"),
           "XDG_STATE_HOME": str(home / "xdg_state_home"), "XDG_CACHE_HOME": str(home / "xdg_cache_home")}
    result = CliRunner(plugin_site, home)("run", "ipernity", "local", "--sandbox", env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    backup = home / "xdg_cache_home" / "migrator" / "sandbox" / "local-sink" / "backup"
    assert (backup / "index.html").is_file()
    return backup


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,900",
                "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)  # the system driver: nothing downloaded
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP})
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("MIGRATOR_VIEWER_SHOTS") or tmp_path_factory.mktemp("viewer-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"viewer screenshots in {folder}")
    return folder


class Page:
    def __init__(self, driver, root: Path, shots: Path) -> None:
        self.driver, self.root, self.shots = driver, root, shots

    def open(self, route: str = "") -> None:
        self.driver.get("about:blank")  # a fresh load each time: no view of the page before is mistaken for it
        self.driver.get(self.root.as_uri() + "/index.html" + route)
        self.wait_for_page()

    def click(self, element) -> None:
        self.mark_stale()
        element.click()
        self.wait_for_page()

    def mark_stale(self) -> None:
        self.driver.execute_script("document.getElementById('main').firstElementChild.dataset.stale = '1'")

    def wait_for_page(self) -> None:
        WebDriverWait(self.driver, 20).until(lambda d: d.execute_script(
            "const m = document.getElementById('main');"
            "return m.querySelector('h1') && !m.querySelector('[data-stale]') && !/Searching/.test(m.textContent)"
            " && (!document.getElementById('stream') || document.querySelector('#stream .tile'))"))

    def all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def field(self, name: str) -> str:
        return self.driver.execute_script(f"return document.querySelector('[data-field={name}]').textContent")

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def key(self, key: str) -> None:
        url = self.driver.current_url
        self.mark_stale()
        self.driver.find_element(By.TAG_NAME, "body").send_keys(key)
        WebDriverWait(self.driver, 20).until(lambda d: d.current_url != url)
        self.wait_for_page()


@pytest.fixture(scope="module")
def page(browser, sandbox_backup: Path, shots: Path) -> Page:
    return Page(browser, sandbox_backup, shots)


def sidecars(backup: Path) -> dict[str, dict]:
    return {d["id"]: d for d in (json.loads(p.read_text("utf-8")) for p in backup.glob("ipernity/*/*].json"))}


def month(doc: dict) -> str:
    return sort_date(doc)[:7] or "undated"


def sort_date(doc: dict) -> str:
    for date in (doc.get("taken_at") or "", doc.get("posted_at") or ""):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?", date):
            return date[:19]
    return ""


def doc_route(doc: dict, context: str = "") -> str:
    return f"#/doc/{month(doc)}/ipernity/{quote(doc['id'], safe='')}" + (f"/{context}" if context else "")


def test_photostream_albums_and_years_show_every_document_and_album(page, sandbox_backup):
    account = build_account(0)
    page.open()
    assert page.text("#total") == str(len(account.docs)) == str(len(sidecars(sandbox_backup)))
    page.shot("photostream")
    while page.all("#more") and page.all("#more")[0].is_displayed():
        count = len(page.all("#stream .tile"))
        page.all("#more")[0].click()
        WebDriverWait(page.driver, 20).until(lambda d, count=count: len(page.all("#stream .tile")) > count)
    titles = [t.get_attribute("title") for t in page.all("#stream .tile")]
    docs = sorted(sidecars(sandbox_backup).values(), key=lambda d: d["id"])
    docs.sort(key=lambda d: sort_date(d), reverse=True)  # newest first, then by id (a stable sort)
    docs.sort(key=lambda d: not sort_date(d))  # the undated last
    assert titles == [d["title"] for d in docs]

    page.open("#/albums")
    assert int(page.text("#album-count")) == len(account.albums) == len(page.all(".album"))
    captions = page.driver.execute_script("return [...document.querySelectorAll('.album .caption')]"
                                          ".map(c => c.textContent)")
    assert captions == [a.title or "(untitled)" for a in account.albums]  # the service's order, the very text
    page.shot("albums")
    page.open("#/years")
    years = {y.text for y in page.all(".years a")}
    assert years == {sort_date(d)[:4] for d in docs if sort_date(d)}
    page.shot("years")


def test_an_album_keeps_the_sources_order(page):
    account = build_account(0)
    album = max(account.albums, key=lambda a: len(a.doc_ids))
    page.open("#/albums")
    card = next(a for a in page.all(".album") if a.find_element(By.CSS_SELECTOR, ".caption").text == album.title)
    page.click(card)
    by_id = {d.doc_id: d for d in account.docs}
    shown = [t.get_attribute("title") for t in page.all(".grid .tile")]
    assert shown == [by_id[i].title for i in album.doc_ids]
    page.shot("album")

    page.click(page.all(".grid .tile")[0])  # ←/→ follow the album
    assert page.field("title") == by_id[album.doc_ids[0]].title
    page.key(Keys.ARROW_RIGHT)
    assert page.field("title") == by_id[album.doc_ids[1]].title
    page.key(Keys.ARROW_LEFT)
    assert page.field("title") == by_id[album.doc_ids[0]].title


def test_a_document_page_shows_its_fields(page, sandbox_backup):
    docs = sidecars(sandbox_backup)
    doc = max(docs.values(), key=lambda d: (bool(d["geo"]), len(d["comments"]), len(d["tags"]), bool(d["taken_at"])))
    page.open(doc_route(doc))
    assert page.field("title") == (doc["title"] or "(untitled)")
    assert page.field("origin") == f"ipernity {doc['id']}"
    assert page.field("name") == doc["file"]["name"]
    assert page.field("taken").startswith(doc["taken_at"][:10])
    assert page.field("license") == doc["license"]
    assert [t.text for t in page.all("[data-field=tags] .tag")] == doc["tags"]
    assert f"{doc['geo']['latitude']:.6f}" in page.field("place")
    assert page.all("[data-field=place] a")[0].get_attribute("href").startswith("https://www.openstreetmap.org/")
    assert len(page.all(".comment")) == len(doc["comments"]) > 0
    assert page.all(".comment .meta b")[0].text == doc["comments"][0]["author"]
    page.shot("document")
    page.driver.set_window_size(390, 844)  # a phone: one column, nothing wider than the screen
    try:
        assert page.driver.execute_script("return document.documentElement.scrollWidth") <= 390
        page.shot("document-phone")
    finally:
        page.driver.set_window_size(1100, 900)


def test_arrow_keys_walk_the_photostream(page):
    page.open()
    tiles = page.all("#stream .tile")
    first, second = tiles[0].get_attribute("title"), tiles[1].get_attribute("title")
    page.click(tiles[0])
    assert page.field("title") == first
    page.key(Keys.ARROW_RIGHT)
    assert page.field("title") == second
    page.key(Keys.ARROW_LEFT)
    assert page.field("title") == first


def test_search_finds_titles_descriptions_and_tags(page, sandbox_backup):
    docs = sidecars(sandbox_backup)
    word = "chapel"
    expected = sorted(d["title"] for d in docs.values()
                      if word in " ".join([d["title"], re.sub(r"<[^>]*>", "", d["description"]), *d["tags"]]).lower())
    assert expected
    page.open()
    page.mark_stale()
    page.driver.find_element(By.ID, "q").send_keys(word, Keys.ENTER)
    page.wait_for_page()
    WebDriverWait(page.driver, 20).until(lambda d: "found" in d.find_element(By.ID, "search-status").text
                                         and "Searching" not in d.find_element(By.ID, "search-status").text)
    assert sorted(t.get_attribute("title") for t in page.all("#results .tile")) == expected
    page.shot("search")


def test_a_hostile_title_is_text_no_script_runs_and_nothing_leaves_the_folder(page, sandbox_backup):
    docs = sidecars(sandbox_backup)
    hostile = next(d for d in docs.values() if "<script>" in d["title"])
    page.open(doc_route(hostile))
    assert page.field("title") == hostile["title"]  # shown as the very text
    page.open()
    for route in ("#/albums", "#/years", doc_route(hostile), "#/search/script"):
        page.open(route)
    driver = page.driver
    assert driver.execute_script("return window.__dialogs") == []
    assert driver.execute_script("return document.querySelectorAll('main script, main iframe, main [onerror], "
                                 "main [onload], main [onclick]').length") == 0
    root = sandbox_backup.as_uri() + "/"
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(r.startswith(root) for r in resources), resources  # (Chromium lists no file:// entry here)
    requests = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"]
    urls = [u for u in urls if not u.startswith("data:")]  # inline (the browser's own video controls): no request
    assert urls and all(u.startswith(root) for u in urls), [u for u in urls if not u.startswith(root)]


HOSTILE = ('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
           '<a href="javascript:window.__pwned=3">link</a> <b onclick="window.__pwned=4">bold</b>'
           '<iframe src="https://example.org/"></iframe><a href="https://example.org/ok">fine</a>'
           '<svg onload="window.__pwned=5"></svg><p style="color:red">para</p>')


@pytest.fixture(scope="module")
def hostile_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup whose texts try every way to run a script or reach the network."""
    from migrator_local import LocalSink

    root = tmp_path_factory.mktemp("hostile-backup")
    sink = LocalSink({"path": root}, Context("local", "sink", folder_formats=load().folder_formats))
    sink.open()
    doc = Document.from_json({"schema": 2, "source": "mem", "id": "1", "description": HOSTILE,
                              "title": '<img src=x onerror="window.__pwned=6">',
                              "taken_at": "2019-05-01T10:20:30", "taken_granularity": "second",
                              "tags": ['"><script>window.__pwned=7</script>'], "file": {"ext": "jpg", "size": 5},
                              "comments": [{"id": "c", "author": "<b>x</b>", "posted_at": None, "text": HOSTILE}]})
    sink.store(Item(doc, Original(lambda: io.BytesIO(b"bytes"), doc.key, size=5)), None)
    sink.store_container(Container(kind="album", source="mem", id="a", title="<script>window.__pwned=8</script>",
                                   description=HOSTILE, members=["1"]), None)
    sink.finish()
    sink.close()
    return root


def test_hostile_html_in_descriptions_and_comments_keeps_only_the_allowed_tags(browser, hostile_backup, shots):
    page = Page(browser, hostile_backup, shots)
    page.open("#/doc/2019-05/mem/1")
    assert page.field("title") == '<img src=x onerror="window.__pwned=6">'
    description = browser.find_element(By.CSS_SELECTOR, "[data-field=description]")
    tags = browser.execute_script("return [...arguments[0].querySelectorAll('*')].map(e => e.tagName)", description)
    assert set(tags) <= {"A", "B", "I", "P", "BR"} and "B" in tags and "P" in tags
    links = browser.execute_script("return [...document.querySelectorAll('main a[href]')].map(a => a.href)")
    assert "https://example.org/ok" in links and not any(link.startswith("javascript") for link in links)
    assert browser.execute_script("return document.querySelectorAll('main [onclick], main [onerror], main [onload], "
                                  "main [style], main img, main iframe, main svg, main script').length") == 0
    for link in browser.find_elements(By.CSS_SELECTOR, "[data-field=description] a:not([href])"):
        link.click()  # the javascript: link lost its href: clicking it does nothing
    page.open("#/albums")
    page.open("#/search/bold")
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return window.__dialogs") == []
