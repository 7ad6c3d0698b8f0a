"""The incident console in a real browser: sign in, the quarantine with its evidence, a
release that reaches the timeline, a rebuild under the degraded banner, an incident with its
chain verified, and a reader who sees but cannot act (a forged POST is 403, as is one without
the CSRF token). Each page is saved as a screenshot.

The tests run in order and share one service and one scenario (`scenario`).
"""

from __future__ import annotations

import random
import time
import uuid

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DIMENSION = 48
DOCUMENTS = 6000
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()


@pytest.fixture(scope="module")
def scenario(server):
    """A collection of DOCUMENTS documents (tenant acme, enough that a rebuild lasts a moment),
    a snapshot, and acme-7 quarantined with a HubScan z of 9.2."""
    name = "console-" + uuid.uuid4().hex[:8]
    server.ok("POST", "/v1/collections", {"name": name, "dimension": DIMENSION, "metric": "cosine"})
    rng = random.Random(22)
    for start in range(0, DOCUMENTS, 1000):
        batch = [{"id": f"acme-{i}", "tenant": "acme", "text": " ".join(rng.choice(WORDS) for _ in range(8)),
                  "embedding": [rng.uniform(-1, 1) for _ in range(DIMENSION)]} for i in range(start, start + 1000)]
        server.ok("POST", f"/v1/collections/{name}/documents", {"documents": batch})
    server.ok("POST", f"/v1/collections/{name}/snapshots")
    held = server.ok("POST", f"/v1/collections/{name}/quarantine",
                     {"ids": ["acme-7"], "reason": "HubScan z = 9.2 <b>planted</b>", "scores": {"acme-7": 9.2}})
    return {"collection": name, "incident": held["incident_id"], "commander": server.token("incident_commander"),
            "reader": server.token("reader")}


def sign_in(driver, server, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(server.url + "/console")
    assert "/console/sign-in" in driver.current_url, "no session: redirected to sign-in"
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Overview")


def buttons(driver) -> list[str]:
    return [b.text.strip() for b in driver.find_elements(By.TAG_NAME, "button")]


def post_from_page(driver, path: str, fields: dict[str, str]) -> int:
    """A POST sent by script from the signed-in page (its cookie goes along): the status."""
    return driver.execute_async_script(
        """
        const [path, fields, done] = arguments;
        fetch(path, {method: "POST", credentials: "same-origin", redirect: "manual",
                     body: new URLSearchParams(fields)}).then(r => done(r.status), e => done(String(e)));
        """, path, fields)


def test_sign_in_sets_a_strict_http_only_cookie(server, scenario, browser, shot):
    sign_in(browser, server, scenario["commander"])
    cookie = browser.get_cookie("firebreak_console")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    assert browser.execute_script("return document.cookie") == "", "script cannot read the session"
    card = browser.find_element(By.CSS_SELECTOR, f'[data-collection="{scenario["collection"]}"]')
    assert "serving" in card.text
    assert "6,000" in card.text or "5,999" in card.text
    shot(browser, "01-overview")


def test_the_collection_page_shows_the_quarantined_document_with_its_evidence(server, scenario, browser, shot):
    browser.get(f'{server.url}/console/collections/{scenario["collection"]}')
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-document="acme-7"]')
    assert scenario["incident"] in row.text
    assert "9.2" in row.text, row.text
    assert "HubScan z = 9.2 <b>planted</b>" in row.text, "the reason is shown as text, not markup"
    assert "Start rebuild" in buttons(browser)
    shot(browser, "02-collection-quarantine")
    browser.set_window_size(390, 1000)
    shot(browser, "03-collection-narrow")
    browser.set_window_size(1280, 1000)


def test_a_release_with_a_reason_appends_to_the_timeline(server, scenario, browser, shot):
    browser.get(f'{server.url}/console/collections/{scenario["collection"]}')
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-document="acme-7"]')
    row.find_element(By.NAME, "reason").send_keys("false positive: a FAQ page")
    row.find_element(By.CSS_SELECTOR, "button[value=release]").click()
    notice = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.CSS_SELECTOR, ".notice"))
    assert "Released acme-7" in notice.text
    assert not browser.find_elements(By.CSS_SELECTOR, 'tr[data-document="acme-7"]')
    status, body = server.api("GET", f'/v1/incidents/{scenario["incident"]}/timeline')
    assert status == 200 and [e["kind"] for e in body["events"]].count("released") == 1
    browser.get(f'{server.url}/console/incidents/{scenario["incident"]}')
    released = browser.find_elements(By.CSS_SELECTOR, '#timeline li[data-kind="released"]')
    assert len(released) == 1
    assert "false positive: a FAQ page" in released[0].text
    assert "incident_commander" in released[0].text, "the actor is on the event"
    shot(browser, "04-incident-after-release")


def test_a_rebuild_shows_the_degraded_banner_until_it_ends(server, scenario, browser, shot):
    browser.get(f'{server.url}/console/collections/{scenario["collection"]}')
    browser.find_element(By.ID, "rebuild-reason").send_keys("rebuild after the release")
    browser.find_element(By.CSS_SELECTOR, "button[value=rebuild]").click()
    WebDriverWait(browser, 20).until(lambda d: "?job=" in d.current_url)
    banner = browser.find_elements(By.ID, "degraded-banner")
    assert banner, "the rebuild finished before the page showed; ingest more documents"
    assert scenario["collection"] in banner[0].text and "rebuilding" in banner[0].text
    assert browser.find_element(By.CSS_SELECTOR, "[data-mode]").text == "rebuilding"
    assert browser.find_elements(By.CSS_SELECTOR, "tr[data-job] progress")
    shot(browser, "05-rebuilding-banner")
    browser.get(server.url + "/console")
    assert browser.find_elements(By.ID, "degraded-banner"), "the banner is on every page"
    browser.back()

    # The page's script polls and reloads when the job ends; the banner is then gone.
    def ended(driver):
        try:
            return not driver.find_elements(By.ID, "degraded-banner") and \
                driver.find_element(By.CSS_SELECTOR, "tr[data-job] [data-state]").text == "succeeded"
        except StaleElementReferenceException:
            return False
    WebDriverWait(browser, 300, poll_frequency=0.5).until(ended)
    assert browser.find_element(By.CSS_SELECTOR, "[data-mode]").text == "serving"
    shot(browser, "06-rebuild-finished")


def test_a_rollback_waits_for_the_typed_confirmation(server, scenario, browser, shot):
    browser.get(f'{server.url}/console/collections/{scenario["collection"]}')
    form = browser.find_element(By.CSS_SELECTOR, "form[data-confirm-with]")
    button = form.find_element(By.CSS_SELECTOR, "button[value=rollback]")
    assert not button.is_enabled(), "disabled until the collection name is typed"
    form.find_element(By.ID, "rollback-reason").send_keys("back to the snapshot before the hub")
    form.find_element(By.ID, "rollback-confirm").send_keys("not-the-name")
    assert not button.is_enabled()
    form.find_element(By.ID, "rollback-confirm").clear()
    form.find_element(By.ID, "rollback-confirm").send_keys(scenario["collection"])
    assert button.is_enabled()
    shot(browser, "07-rollback-confirmation")
    button.click()
    notice = WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, ".notice"))
    assert "Rolled back to" in notice.text, notice.text


def test_an_incident_shows_its_chain_verified(server, scenario, browser, shot):
    browser.get(server.url + "/console/incidents?severity=SEV-2")
    rows = browser.find_elements(By.CSS_SELECTOR, "#incidents tbody tr")
    assert any(r.get_attribute("data-incident") == scenario["incident"] for r in rows)
    shot(browser, "08-incidents")
    browser.find_element(By.LINK_TEXT, scenario["incident"]).click()
    badge = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "chain"))
    assert badge.text == "chain verified"
    kinds = [li.get_attribute("data-kind") for li in browser.find_elements(By.CSS_SELECTOR, "#timeline li")]
    assert kinds[0] == "declared" and "quarantined" in kinds and "released" in kinds and "rebuild_started" in kinds
    raw = browser.find_elements(By.CSS_SELECTOR, "#timeline details")[0]
    raw.find_element(By.TAG_NAME, "summary").click()
    assert '"hash"' in raw.find_element(By.TAG_NAME, "pre").text
    shot(browser, "09-incident")


def test_a_reader_sees_without_buttons_and_a_forged_post_is_refused(server, scenario, second_browser, shot):
    reader = second_browser
    sign_in(reader, server, scenario["reader"])
    path = f'/console/collections/{scenario["collection"]}'
    reader.get(server.url + path)
    assert reader.find_element(By.CSS_SELECTOR, "h1").text.startswith("Collection")
    assert buttons(reader) == ["Sign out"], buttons(reader)
    assert not reader.find_elements(By.CSS_SELECTOR, "form[action$=release], form[action$=rebuild], form[action$=rollback]")
    shot(reader, "10-reader-collection")
    # Forged: the reader's own valid CSRF token, an action the role may not take.
    csrf = reader.find_element(By.NAME, "csrf").get_attribute("value")
    server.ok("POST", f'/v1/collections/{scenario["collection"]}/quarantine', {"ids": ["acme-9"], "reason": "second hub"})
    assert post_from_page(reader, path + "/release", {"csrf": csrf, "id": "acme-9", "reason": "forged"}) == 403
    assert post_from_page(reader, path + "/rebuild", {"csrf": csrf}) == 403
    assert post_from_page(reader, path + "/release", {"id": "acme-9", "reason": "no csrf"}) == 403
    entries = server.ok("GET", f'/v1/collections/{scenario["collection"]}/quarantine')["entries"]
    assert [e["id"] for e in entries] == ["acme-9"], "nothing was released"
    reader.get(server.url + "/console/incidents")
    assert "403" in reader.title or "Forbidden" in reader.page_source
    shot(reader, "11-reader-incidents-refused")


def test_a_post_without_the_csrf_token_is_refused_for_a_commander_too(server, scenario, browser):
    path = f'/console/collections/{scenario["collection"]}'
    browser.get(server.url + path)
    assert post_from_page(browser, path + "/release", {"id": "acme-9", "reason": "no csrf"}) == 403
    assert post_from_page(browser, path + "/release", {"csrf": "0" * 64, "id": "acme-9", "reason": "wrong"}) == 403
    entries = server.ok("GET", f'/v1/collections/{scenario["collection"]}/quarantine')["entries"]
    assert [e["id"] for e in entries] == ["acme-9"]
