"""A refused edit of content/ is shown to supervisors (banner on every page, /content) and logged
with file and line; counsellors are not disturbed by it."""
from __future__ import annotations

import shutil
import time

import pytest

from tests.desk.helpers import ROOT, Browser, make_user, start_desk, wait_until


@pytest.fixture
def broken_desk(tmp_path, fake_rasa):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    url = f"sqlite:///{tmp_path}/desk.db"
    make_user(url, "sam", "supervisor", "Sam")
    make_user(url, "lea", "counsellor", "Léa")
    desk = start_desk(tmp_path, url, fake_rasa.url, fake_rasa.token, CONTENT_DIR=str(content))
    yield desk, content
    desk.stop()


def logged_in(desk, username):
    browser = Browser(desk)
    browser.login(username)
    return browser


def test_refused_content_is_shown_to_supervisors_and_logged(broken_desk):
    desk, content = broken_desk
    sam, lea = logged_in(desk, "sam"), logged_in(desk, "lea")
    assert "content-errors-banner" not in sam.get("/queue").text
    assert "Le contenu est valide" in sam.get("/content").text

    (content / "responses" / "extra.yml").write_text('utter_extra:\n  - fr: "Bonjour"\n', encoding="utf-8")
    time.sleep(0.6)  # the store looks at the files at most every half second
    page = wait_until(lambda: (lambda r: r if "content-errors-banner" in r.text else None)(sam.get("/queue")),
                      message="content banner")
    assert "a été refusée (1 problème(s))" in page.text and 'href="/content"' in page.text
    listing = sam.get("/content").text
    assert "content/responses/extra.yml" in listing and "<td>2</td>" in listing
    assert "il manque le texte en anglais (en:)" in listing

    queue = lea.get("/queue")
    assert queue.status_code == 200 and "content-errors-banner" not in queue.text
    assert lea.get("/content", allow_redirects=False).status_code == 403

    wait_until(lambda: "responses/extra.yml, ligne 2" in desk.log_text(), message="content error logged")

    (content / "responses" / "extra.yml").write_text('utter_extra:\n  - fr: "Bonjour"\n    en: "Hello"\n', encoding="utf-8")
    time.sleep(0.6)
    wait_until(lambda: "content-errors-banner" not in sam.get("/queue").text, message="banner gone once fixed")
