"""The local gateway serves the built agent SPA: `/` goes to the default view, client-side routes and other
HTML navigations get index.html, dist files are served as files, and API roots stay the API's."""

from __future__ import annotations

from pathlib import Path

import pytest
from caseline.runtime.gateway import LocalGateway
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings
from starlette.testclient import TestClient

INDEX = "<!doctype html><title>Caseline agent</title><div id=root></div>"


def _gateway(tmp_path: Path, spa_dir: Path | None) -> TestClient:
    gateway = LocalGateway(functions_dir=FUNCTIONS_DIR, tokens=LocalTokens(Settings(data_dir=tmp_path / "data")),
                           max_body_bytes=1024, openapi=dict, swagger_html=str, metrics=dict, spa_dir=spa_dir)
    return TestClient(gateway.app(), follow_redirects=False)


@pytest.fixture
def spa(tmp_path: Path) -> TestClient:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "locales").mkdir()
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-1234.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg/>")
    (dist / "locales" / "en.json").write_text('{"hello": "Hello"}')
    (tmp_path / "secret.txt").write_text("outside dist")
    return _gateway(tmp_path, dist)


def test_root_redirects_to_the_default_view_and_deep_links_get_the_app(spa: TestClient) -> None:
    root = spa.get("/")
    assert root.status_code == 302 and root.headers["location"] == "/desk/views/mine"
    for path in ("/desk/views/mine", "/desk/cases/01J00000000000000000000000", "/desk/saved/abc", "/sign-in"):
        page = spa.get(path)  # no Accept header: a client-side route is the app's whatever the client asks
        assert page.status_code == 200 and page.text == INDEX, path
    other = spa.get("/somewhere/else", headers={"accept": "text/html,application/xhtml+xml"})
    assert other.status_code == 200 and other.text == INDEX


def test_dist_files_are_served_and_nothing_outside_it(spa: TestClient) -> None:
    assert spa.get("/assets/app-1234.js").text == "console.log('app')"
    assert spa.get("/favicon.svg").text == "<svg/>"
    assert spa.get("/locales/en.json").json() == {"hello": "Hello"}
    escape = spa.get("/..%2Fsecret.txt")
    assert escape.status_code == 404 and "outside dist" not in escape.text
    missing = spa.get("/locales/xx.json")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_api_roots_stay_the_apis(spa: TestClient) -> None:
    cases = spa.get("/cases", headers={"accept": "text/html"})
    assert cases.status_code == 401 and cases.headers["content-type"] == "application/problem+json"


def test_without_a_built_spa_the_home_page_stays(tmp_path: Path) -> None:
    client = _gateway(tmp_path, tmp_path / "not-built")
    home = client.get("/")
    assert home.status_code == 200 and "Caseline is running" in home.text
    assert client.get("/desk/views/mine").status_code == 404
