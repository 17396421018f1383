"""The web widget in headless chromium against the running stack (Rasa, actions, desk,
widget server): a teen conversation by typing and by buttons, reload, dropped connection,
quick exit, a counsellor's reply, language switch, accessibility, phone and desktop screenshots."""
from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, AXE, DESKTOP, NEUTRAL_URL, PHONE, STORE_KEY, stored
from tests.support.chat import Stack, http
from tests.support.desk_api import desk, wait_case

BLACKMAIL = "un mec sur snap me fait du chantage avec une video de moi, il veut 200 euros"
# After the urgent steps, sextortion asks how the person is holding up (utter_ask_wellbeing).
WELLBEING_OK = "Ça va"  # its buttons: "Ça va" (/affirm), "Pas très bien" (/deny), "Je sais pas" (/skip)
LIVE_SECONDS = 3000  # ms: what a counsellor writes shows in the widget within this


def open_chat(page: Any, url: str, name: str = "Discuter avec le 3018") -> Any:
    page.goto(url)
    page.get_by_role("button", name=re.compile(name)).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def say(page: Any, text: str) -> None:
    box = page.locator(".ne-input")
    box.fill(text)
    box.press("Enter")


def log(page: Any) -> Any:
    return page.locator(".ne-log")


def session_id(page: Any) -> str:
    page.wait_for_function(f"JSON.parse(sessionStorage.getItem('{STORE_KEY}') || '{{}}').session_id")
    return stored(page)["session_id"]


def close_case(stack: Stack, conversation_id: str) -> None:
    for case in desk(stack, "GET", "/api/cases")["cases"]:
        if case["conversation_id"] == conversation_id:
            desk(stack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})


def test_widget_server_sends_security_headers(stack: Stack) -> None:
    with urllib.request.urlopen(stack.widget_url + "/", timeout=5) as response:
        headers = response.headers
        page = response.read().decode()
    rasa_port = stack.url.rsplit(":", 1)[1]
    assert f"connect-src 'self' http://127.0.0.1:{rasa_port} ws://127.0.0.1:{rasa_port}" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    # One script tag embeds the widget.
    assert page.count("<script") == 1 and '<script src="/widget.js" defer></script>' in page
    with urllib.request.urlopen(stack.widget_url + "/widget.js", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        script = response.read().decode()
    assert "innerHTML" not in script and "/*@WIDGET_CONFIG@*/null" not in script
    with urllib.request.urlopen(stack.widget_url + "/vendor/socket.io.min.js", timeout=5) as response:
        assert response.status == 200


def test_teen_conversation_by_keyboard_typing_and_buttons(new_page: Any, stack: Stack) -> None:
    page = new_page()
    page.goto(stack.widget_url + "/")
    # Keyboard only: the launcher is reached with Tab and opened with Enter; focus goes to the input.
    launcher = page.get_by_role("button", name=re.compile("Discuter avec le 3018"))
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('ne-launcher')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('ne-launcher')"), "launcher not reachable with Tab"
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="3018 · discussion")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.classList.contains('ne-input')")

    # Before the first message: automated, free and anonymous, limits of confidentiality.
    notice = dialog.locator(".ne-prechat")
    expect(notice).to_contain_text("assistant automatique")
    expect(notice).to_contain_text("gratuit et anonyme")
    expect(notice).to_contain_text("enfant est en danger")
    expect(notice).to_contain_text("L'historique du navigateur n'est pas effacé")
    assert page.locator("input[type=file]").count() == 0  # no upload, anywhere
    expect(page.get_by_role("button", name=re.compile("Quitter vite"))).to_be_visible()
    assert dialog.locator(".ne-log").get_attribute("aria-live") == "polite"

    page.evaluate("""() => {
        window.__typingSeen = false;
        new MutationObserver(() => { if (document.querySelector('.ne-typing-on')) window.__typingSeen = true; })
            .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    }""")
    page.keyboard.type(BLACKMAIL)
    page.keyboard.press("Enter")
    expect(log(page)).to_contain_text("Ne paie pas")
    expect(log(page)).to_contain_text("comment tu tiens le coup")
    for title in (WELLBEING_OK, "Pas très bien", "Je sais pas"):
        expect(page.get_by_role("button", name=title, exact=True)).to_be_visible()
    assert page.evaluate("window.__typingSeen"), "no typing indicator while waiting for the bot"
    expect(page.locator(".ne-typing-on")).to_have_count(0)
    user = page.locator(".ne-from-user")
    expect(user.last).to_contain_text(BLACKMAIL)
    expect(user.last.locator(".ne-who")).to_have_text("Toi :")
    first_bot = page.locator(".ne-from-bot").first
    expect(first_bot.locator(".ne-who")).to_have_text("Assistant :")
    expect(first_bot).to_contain_text("assistant automatique du 3018")  # the bot's own disclosure
    expect(page.locator(".ne-from-bot strong").first).to_be_visible()  # **bold** rendered, not shown as stars
    assert "**" not in log(page).inner_text()

    # A quick reply by keyboard: Shift+Tab from the input to the buttons, Enter.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == WELLBEING_OK, focused
    page.keyboard.press("Enter")
    expect(user.last.locator(".ne-body")).to_have_text(WELLBEING_OK)  # the title, not the payload
    expect(log(page)).to_contain_text("Quel âge as-tu")
    assert page.evaluate("document.activeElement.classList.contains('ne-input')")

    # Free text while buttons are offered, then clicks on buttons. At 14 the risk is high: the
    # advice comes with the offer of a person; "Pas maintenant" goes on with the questions.
    expect(page.get_by_role("button", name="Je préfère ne pas dire")).to_be_visible()
    say(page, "14")
    expect(log(page)).to_contain_text("Tu veux parler à quelqu'un maintenant ?")
    page.get_by_role("button", name="Pas maintenant", exact=True).click()
    expect(user.last.locator(".ne-body")).to_have_text("Pas maintenant")
    expect(log(page)).to_contain_text("déjà payé")
    page.get_by_role("button", name="Non", exact=True).click()
    expect(log(page)).to_contain_text("déjà publié")
    for payload in ("/affirm", "/deny", "/skip", "/talk_to_human"):
        assert payload not in log(page).inner_text(), payload

    # Every message says who wrote it.
    messages = page.locator(".ne-msg")
    count = messages.count()
    assert count >= 8
    for index in range(count):
        assert messages.nth(index).locator(".ne-who").text_content() in ("Toi :", "Assistant :")
    # Nothing of it in localStorage (shared devices): only this tab's sessionStorage.
    assert page.evaluate("window.localStorage.length") == 0
    assert len(stored(page)["messages"]) == count


def test_reload_keeps_the_conversation_without_duplicates(new_page: Any, stack: Stack) -> None:
    page = new_page()
    open_chat(page, stack.widget_url + "/")
    say(page, BLACKMAIL)
    expect(page.get_by_role("button", name=WELLBEING_OK, exact=True)).to_be_visible()
    before = log(page).inner_text()
    conversation = session_id(page)

    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # still open
    expect(page.get_by_role("button", name=WELLBEING_OK, exact=True)).to_be_visible()
    assert log(page).inner_text() == before
    page.get_by_role("button", name=WELLBEING_OK, exact=True).click()
    expect(log(page)).to_contain_text("Quel âge as-tu")
    # Stored once shown: wait until the tab's storage holds every message on the screen.
    page.wait_for_function(
        f"""() => (JSON.parse(sessionStorage.getItem('{STORE_KEY}') || '{{}}').messages || []).length
                 === document.querySelectorAll('.ne-msg').length""")
    state = stored(page)
    assert state["session_id"] == conversation  # the same conversation on the server
    seqs = [m["seq"] for m in state["messages"] if m["from"] != "user"]
    assert seqs == sorted(set(seqs)) and len(seqs) == page.locator(".ne-from-bot").count()
    assert log(page).inner_text().count("Quel âge as-tu") == 1


def test_polling_transport_on_an_embedding_page(new_page: Any, stack: Stack) -> None:
    """The embedding example (one tag, data-transports="polling"): long-polling works as well as websockets."""
    page = new_page()
    websockets = []
    page.on("websocket", lambda ws: websockets.append(ws.url))
    open_chat(page, stack.widget_url + "/exemple/")
    say(page, "c'est quoi les horaires du 3018 ?")
    expect(log(page)).to_contain_text("23h")
    assert websockets == []


@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_leaves_nothing_and_marks_the_case(new_page: Any, stack: Stack, how: str) -> None:
    page = new_page()
    open_chat(page, stack.widget_url + "/")
    say(page, "je veux parler à quelqu'un")
    expect(log(page)).to_contain_text("3018")
    conversation = session_id(page)
    wait_case(stack, conversation, timeout=10)
    if how == "button":
        page.get_by_role("button", name="Réduire la discussion").click()  # quick exit shows with the chat closed too
        page.get_by_role("button", name=re.compile("Quitter vite")).click()
    else:
        page.locator("h1").click()  # focus anywhere in the page
        page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL_URL)
    case = wait_case(stack, conversation, timeout=10, user_left=True)
    assert case["user_left"] is True

    # Back on the helpline's site in the same tab: nothing of the conversation is left.
    page.goto(stack.widget_url + "/")
    expect(page.get_by_role("button", name=re.compile("Discuter avec le 3018"))).to_be_visible()
    assert page.evaluate("window.sessionStorage.length") == 0
    assert page.evaluate("window.localStorage.length") == 0
    assert page.locator(".ne-msg").count() == 0
    desk(stack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "user_left"})


def test_escape_does_nothing_on_a_page_where_the_chat_was_never_used(new_page: Any, stack: Stack) -> None:
    page = new_page()
    page.goto(stack.widget_url + "/")
    expect(page.get_by_role("button", name=re.compile("Quitter vite"))).to_be_visible()
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == stack.widget_url + "/"


def test_counsellor_reply_appears_live_as_a_person_even_after_a_dropped_connection(new_page: Any, stack: Stack) -> None:
    page = new_page()
    sockets: list = []
    down = {"on": False}

    def route_socket(ws: Any) -> None:
        if down["on"]:
            ws.close()
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), route_socket)
    page.route(re.compile(r".*/socket\.io/.*"), lambda route: route.abort() if down["on"] else route.continue_())
    open_chat(page, stack.widget_url + "/")
    say(page, "je veux parler à quelqu'un")
    expect(log(page)).to_contain_text("3018")
    conversation = session_id(page)
    case = wait_case(stack, conversation, timeout=10)

    # A counsellor claims the case (what the desk does, docs/handoff.md): a notice says a person joined.
    rasa = f"{stack.url}/conversations/{conversation}"
    http("POST", f"{rasa}/tracker/events?token={stack.token}", [
        {"event": "slot", "name": "handoff_status", "value": "active"},
        {"event": "slot", "name": "counsellor_name", "value": "Léa"}])
    http("POST", f"{rasa}/execute?output_channel=latest&token={stack.token}", {"name": "utter_handoff_joined"})
    expect(page.locator(".ne-notice")).to_have_text(
        "Un·e écoutant·e a rejoint la discussion : tu parles maintenant avec une personne.", timeout=LIVE_SECONDS)

    text = "Bonjour, je suis Léa. Tu as bien fait d'écrire. Lis https://www.e-enfance.org/ <img src=x onerror=alert(1)> **ici**"
    desk(stack, "POST", f"/api/cases/{case['id']}/messages", {"text": text, "author": "Léa"})
    person = page.locator(".ne-from-counsellor")
    expect(person).to_have_count(1, timeout=LIVE_SECONDS)
    expect(person.locator(".ne-who")).to_have_text("Léa (écoutant·e) :")
    expect(person).to_contain_text("Tu as bien fait d'écrire")
    # Safe rendering: markup shown as text, links open in a new tab without an opener.
    expect(person).to_contain_text("<img src=x onerror=alert(1)>")
    assert person.locator("img").count() == 0 and person.locator("strong").inner_text() == "ici"
    link = person.locator("a")
    assert link.get_attribute("href") == "https://www.e-enfance.org/"
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    expect(page.locator(".ne-typing-on")).to_have_count(0)

    # The connection drops; the counsellor writes twice meanwhile; both arrive once, on reconnect.
    down["on"] = True
    for ws in sockets:
        ws.close()
    expect(page.locator(".ne-status")).to_contain_text("Connexion perdue")
    desk(stack, "POST", f"/api/cases/{case['id']}/messages", {"text": "Tu es toujours là ?", "author": "Léa"})
    desk(stack, "POST", f"/api/cases/{case['id']}/messages", {"text": "Je reste disponible.", "author": "Léa"})
    page.wait_for_timeout(300)
    assert person.count() == 1
    down["on"] = False
    expect(person).to_have_count(3, timeout=10000)
    page.wait_for_timeout(800)
    assert [person.nth(i).locator(".ne-body").inner_text() for i in (1, 2)] == ["Tu es toujours là ?", "Je reste disponible."]
    expect(page.locator(".ne-status")).to_be_hidden()

    # The case is closed: a notice says the person left; the assistant is back.
    desk(stack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})
    notice = page.locator(".ne-notice").last
    expect(notice).to_have_text("Léa a quitté la discussion : tu parles de nouveau avec l'assistant automatique.",
                                timeout=LIVE_SECONDS)
    closing = page.locator(".ne-msg").last
    expect(closing.locator(".ne-who")).to_have_text("Assistant :")
    expect(closing).to_contain_text("terminée")
    expect(page.get_by_role("button", name="Oui", exact=True)).to_be_visible()


def test_language_follows_the_page_and_switches(new_page: Any, stack: Stack) -> None:
    page = new_page()
    dialog = open_chat(page, stack.widget_url + "/en/", name="Chat with 3018")
    expect(dialog.locator(".ne-prechat")).to_contain_text("automated assistant")
    expect(page.get_by_role("button", name=re.compile("Quick exit"))).to_be_visible()

    page.goto(stack.widget_url + "/")  # a French page, in the same tab: the chat stays open
    expect(page.get_by_role("dialog", name="3018 · discussion")).to_be_visible()
    expect(page.locator(".ne-input")).to_have_attribute("placeholder", "Écris ton message…")
    page.get_by_role("button", name="Switch to English").click()
    dialog = page.get_by_role("dialog", name="3018 · chat")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".ne-prechat")).to_contain_text("free and anonymous")
    expect(page.locator(".ne-input")).to_have_attribute("placeholder", "Type your message…")
    expect(page.get_by_role("button", name=re.compile("Quick exit"))).to_be_visible()
    assert page.locator("#netecoute-widget").get_attribute("lang") == "en"

    # French words, English chosen: the language reaches the bot as metadata.
    say(page, BLACKMAIL)
    expect(log(page)).to_contain_text("Don't pay")
    expect(page.locator(".ne-from-user .ne-who").last).to_have_text("You :")
    conversation = session_id(page)
    said: list = []
    for _ in range(50):  # the tracker is saved once the turn is over, just after the replies went out
        tracker = http("GET", f"{stack.url}/conversations/{conversation}/tracker?token={stack.token}")
        said = [e for e in tracker["events"] if e["event"] == "user"]
        if said:
            break
        page.wait_for_timeout(100)
    assert said and said[-1]["text"] == BLACKMAIL and said[-1]["metadata"]["language"] == "en"
    page.get_by_role("button", name="Passer en français").click()
    expect(page.locator(".ne-from-user .ne-who").last).to_have_text("Toi :")
    page.reload()
    expect(page.get_by_role("dialog", name="3018 · discussion")).to_be_visible()


def axe_problems(page: Any) -> list:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_accessibility_scan_with_axe(new_page: Any, stack: Stack, viewport: dict) -> None:
    page = new_page(viewport, bypass_csp=True)  # so that the test can inject axe-core
    page.goto(stack.widget_url + "/")
    expect(page.get_by_role("button", name=re.compile("Discuter avec le 3018"))).to_be_visible()
    closed = axe_problems(page)
    page.get_by_role("button", name=re.compile("Discuter avec le 3018")).click()
    say(page, BLACKMAIL)
    expect(page.get_by_role("button", name=WELLBEING_OK, exact=True)).to_be_visible()
    page.locator(".ne-reply").first.focus()  # with focus styles showing
    opened = axe_problems(page)
    assert closed == [] and opened == [], closed + opened


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "desktop"])
def test_screenshots_and_small_screens(new_page: Any, stack: Stack, viewport: dict) -> None:
    page = new_page(viewport, device_scale_factor=1)
    open_chat(page, stack.widget_url + "/")
    say(page, BLACKMAIL)
    expect(page.get_by_role("button", name=WELLBEING_OK, exact=True)).to_be_visible()
    expect(page.locator(".ne-typing-on")).to_have_count(0)
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")  # settled
    width = viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    panel = page.get_by_role("dialog").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
    for name in ("Quitter vite", "Envoyer", "Switch to English", "Réduire la discussion"):
        box = page.get_by_role("button", name=re.compile(name)).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= viewport["height"], name
        assert box["height"] >= 40, name  # big enough for a finger
    exit_box = page.get_by_role("button", name=re.compile("Quitter vite")).bounding_box()
    for other in ("Switch to English", "Réduire la discussion"):
        box = page.get_by_role("button", name=other).bounding_box()
        overlap = not (box["x"] >= exit_box["x"] + exit_box["width"] or box["x"] + box["width"] <= exit_box["x"]
                       or box["y"] >= exit_box["y"] + exit_box["height"] or box["y"] + box["height"] <= exit_box["y"])
        assert not overlap, other
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = "widget-360.png" if width == 360 else "widget-desktop.png"
    page.screenshot(path=str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 5000
