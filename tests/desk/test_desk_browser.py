"""A counsellor in a real browser (Debian chromium through Playwright): a case arrives live,
is claimed and answered, and the reply reaches (fake) Rasa."""
import time
import uuid

from playwright.sync_api import expect

from tests.desk.helpers import PASSWORD, ROOT, handoff_events

ARTIFACTS = ROOT / "tests" / "artifacts"


def test_counsellor_sees_a_case_live_claims_and_replies(browser, desk, fake_rasa):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(desk.url + "/queue")
    assert page.url.endswith("/login")
    page.get_by_label("Identifiant").fill("lea")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/queue")
    expect(page.locator("#live-status")).to_contain_text("direct")

    # The case arrives after the page is open: Server-Sent Events put it in the table.
    conversation = f"browser-{uuid.uuid4().hex[:8]}"
    fake_rasa.tracker_for(conversation)
    case_id = desk.ingest(handoff_events(conversation)).json()["opened"][0]
    row = page.locator(f'#queue-body tr[data-case-id="{case_id}"]')
    # A case nobody claimed for more than DESK_UNCLAIMED_ALERT_SECONDS (300) gets a visible alert.
    waiting = f"browser-old-{uuid.uuid4().hex[:8]}"
    old_id = desk.ingest(handoff_events(waiting, at=time.time() - 400)).json()["opened"][0]
    expect(page.get_by_role("alert")).to_contain_text("plus de 5 minutes", timeout=10000)
    expect(page.locator(f'#queue-body tr[data-case-id="{old_id}"]')).to_have_class("risk-low overdue")
    row.wait_for(timeout=10000)
    expect(row).to_contain_text("Snapchat", timeout=10000)  # the context from Rasa arrived, live too
    assert "critique" in row.inner_text()

    row.get_by_role("link").click()
    page.wait_for_url(f"**/cases/{case_id}")
    assert "Adolescent·e de 14 ans" in page.locator("#summary").inner_text()
    # A crisis message while the young person waits: the alert shows live, with the grace countdown.
    assert not page.locator("#crisis-alert").is_visible()
    desk.ingest([{"id": f"{conversation}-risk", "conversation_id": conversation, "type": "risk", "timestamp": time.time(),
                  "channel": "rest", "risk_level": "critical", "risk_reasons": ["crisis"], "crisis_type": "suicide"}])
    page.locator("#crisis-alert").wait_for(state="visible", timeout=10000)
    expect(page.locator("#crisis-countdown")).to_contain_text(" s", timeout=5000)
    page.get_by_role("button", name="Prendre en charge").click()
    page.wait_for_url(f"**/cases/{case_id}?notice=claimed")
    page.get_by_label("Réponses types").select_option("greeting")
    assert "je m'appelle Léa" in page.get_by_label("Votre message (signé Léa)").input_value()
    page.get_by_label("Votre message (signé Léa)").fill("Bonjour, je suis Léa. Tu as bien fait d'écrire.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#reply-status")).to_contain_text("envoyé", timeout=10000)
    sent = fake_rasa.wait_for(lambda: [c for c in fake_rasa.commands(conversation) if c["type"] == "message"])
    assert sent[0]["payload"]["text"] == "Bonjour, je suis Léa. Tu as bien fait d'écrire."
    assert sent[0]["payload"]["author"] == "Léa"
    # The message shows in the transcript (live), and the crisis alert is cleared.
    page.locator(".msg-counsellor", has_text="Tu as bien fait d'écrire").wait_for(timeout=10000)
    expect(page.locator("#crisis-alert")).to_be_hidden(timeout=10000)

    # A user message with markup arrives live and is shown as text.
    desk.ingest([{"id": f"{conversation}-x", "conversation_id": conversation, "type": "user", "timestamp": time.time(),
                  "channel": "rest", "text": "<b>merci</b><script>window.pwned=1</script>"}])
    page.locator(".msg-user", has_text="<b>merci</b>").wait_for(timeout=10000)
    assert page.locator(".msg-user b").count() == 0 and page.locator("#transcript script").count() == 0

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()
