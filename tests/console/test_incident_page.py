"""The incident page's records in a real browser: the commander, a decision, evidence and an
action item written through its forms and closed with its verification, the postmortem
written and rendered, its Markdown and signed bundle downloaded; the degraded banner appearing
on an open page without a reload; and the page on a narrow screen. Each page is saved as a
screenshot (numbered after test_console.py's).

The tests run in order and share one incident (`incident`).
"""

from __future__ import annotations

import json
import random
import uuid

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DIMENSION = 16


@pytest.fixture(scope="module")
def incident(server):
    """A small collection with one document quarantined: its incident, and a commander."""
    name = "records-" + uuid.uuid4().hex[:8]
    server.ok("POST", "/v1/collections", {"name": name, "dimension": DIMENSION, "metric": "cosine"})
    rng = random.Random(7)
    docs = [{"id": f"doc-{i}", "tenant": "acme", "text": f"passage {i}",
             "embedding": [rng.uniform(-1, 1) for _ in range(DIMENSION)]} for i in range(60)]
    server.ok("POST", f"/v1/collections/{name}/documents", {"documents": docs})
    held = server.ok("POST", f"/v1/collections/{name}/quarantine", {"ids": ["doc-3"], "reason": "planted hub"})
    return {"collection": name, "id": held["incident_id"], "commander": server.token("incident_commander")}


def sign_in(driver, server, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(server.url + "/console/sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == "Overview")


def click_and_wait(driver, button) -> None:
    """Clicks a submit button and waits until the page it was on has been replaced (the POST
    answered 303 and the next page loaded), so nothing is read from the old page."""
    old = driver.find_element(By.TAG_NAME, "html")
    button.click()

    def replaced(_) -> bool:
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True

    # Mid-navigation Chromium sometimes answers a probe of the old element with "unhandled
    # inspector error" instead of "stale element": that is "not yet", asked again.
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(replaced)


def notice(driver) -> str:
    return WebDriverWait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, ".notice")).text


def submit(driver, form_id: str, fields: dict[str, str]) -> str:
    """Fills a form on the page by its fields' ids, submits it, and returns the notice."""
    form = driver.find_element(By.ID, form_id)
    for field_id, value in fields.items():
        element = form.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)
    click_and_wait(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    return notice(driver)


def fetch(driver, path: str) -> dict:
    """A GET sent by script from the signed-in page: status, headers we look at, and body."""
    return driver.execute_async_script(
        """
        const [path, done] = arguments;
        fetch(path, {credentials: "same-origin"}).then(async r => done({
            status: r.status, disposition: r.headers.get("Content-Disposition"), body: await r.text()}),
            e => done({status: String(e)}));
        """, path)


def test_records_are_written_through_the_incident_page(server, incident, browser, shot):
    sign_in(browser, server, incident["commander"])
    page = f'{server.url}/console/incidents/{incident["id"]}'
    browser.get(page)
    assert "dana is the commander" in submit(browser, "commander-form", {"commander-name": "dana"})
    said = submit(browser, "decision-form", {"decision-what": "roll back to last-clean",
                                               "decision-why": "the hub answers most queries",
                                               "decision-not-taken": "wait for the next scan"})
    assert "Decision recorded" in said
    assert "Evidence added" in submit(browser, "evidence-form", {
        "evidence-kind": "query_log", "evidence-sha256": "ab" * 32, "evidence-location": "s3://evidence/q.log",
        "evidence-summary": "the answers that carried the hub"})
    browser.find_element(By.ID, "action-due").send_keys("12312026")  # a date input takes the digits in locale order
    assert "Action item added" in submit(browser, "action-form", {
        "action-title": "add a golden query for the hub", "action-owner": "dana",
        "action-verification": "the query is in the golden set"})
    row = browser.find_element(By.CSS_SELECTOR, '#actions tr[data-action="1"]')
    assert "open" in row.text
    row.find_element(By.NAME, "verification_evidence").send_keys("golden query 42")
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button[value=close-action]"))
    assert "is closed" in notice(browser)

    decisions = browser.find_element(By.ID, "decisions").text
    assert "roll back to last-clean" in decisions and "Not taken: wait for the next scan" in decisions
    assert "s3://evidence/q.log" in browser.find_element(By.ID, "evidence").text
    closed = browser.find_element(By.CSS_SELECTOR, '#actions tr[data-action="1"]').text
    assert "closed" in closed and "golden query 42" in closed and "2026-12-31" in closed
    assert browser.find_element(By.ID, "chain").text == "chain verified"
    kinds = [li.get_attribute("data-kind") for li in browser.find_elements(By.CSS_SELECTOR, "#timeline li")]
    for kind in ("commander_assigned", "decision", "evidence", "action_added", "action_closed"):
        assert kind in kinds, (kind, kinds)
    shot(browser, "16-incident-records")


def test_the_postmortem_is_rendered_and_exported(server, incident, browser, shot):
    browser.get(f'{server.url}/console/incidents/{incident["id"]}')
    details = browser.find_element(By.CSS_SELECTOR, "#postmortem details")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    form = browser.find_element(By.ID, "postmortem-form")
    for name, text in {"summary": "A planted hub reached answers.\n\nIt was quarantined within minutes.",
                       "failing_layer": "the ingest screen", "root_cause": "a threshold set too high",
                       "evaluation_gaps": "no golden query covered the topic",
                       "regression_case": "the hub-at-centre fixture"}.items():
        form.find_element(By.NAME, name).send_keys(text)
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[value=postmortem]"))
    assert "postmortem" in notice(browser)
    section = browser.find_element(By.ID, "postmortem")
    headings = [h.text for h in section.find_elements(By.TAG_NAME, "h3")]
    assert headings[:3] == ["Summary", "Failing layer", "Root cause"], headings
    paragraphs = [p.text for p in section.find_elements(By.CSS_SELECTOR, "p")]
    assert "A planted hub reached answers." in paragraphs and "It was quarantined within minutes." in paragraphs, \
        f"a blank line starts a new paragraph: {paragraphs}"
    shot(browser, "17-postmortem")

    markdown = fetch(browser, browser.find_element(By.ID, "export-markdown").get_attribute("href"))
    assert markdown["status"] == 200
    assert markdown["disposition"] == f'attachment; filename="{incident["id"]}-postmortem.md"'
    assert "a threshold set too high" in markdown["body"]
    bundle = fetch(browser, browser.find_element(By.ID, "export-bundle").get_attribute("href"))
    assert bundle["status"] == 200, bundle
    exported = json.loads(bundle["body"])
    verified = server.ok("GET", f'/v1/incidents/{incident["id"]}/verify')
    assert exported["chain_head"] == verified["head"] and len(exported["events"]) == verified["events"]
    assert len(exported["signature"]) == 128, "an Ed25519 signature, hex"


def test_the_degraded_banner_appears_without_a_reload(server, incident, browser, shot):
    browser.get(server.url + "/console")
    marker = browser.execute_script("window.__notReloaded = true; return window.__notReloaded")
    assert marker is True
    server.ok("PUT", f'/v1/collections/{incident["collection"]}/flags/FF_INDEX_FREEZE', {"enabled": True})

    def shows_freeze(driver):
        banners = driver.find_elements(By.ID, "degraded-banner")
        return banners and incident["collection"] + " is frozen" in banners[0].text

    WebDriverWait(browser, 20, poll_frequency=0.5).until(shows_freeze)
    assert browser.execute_script("return window.__notReloaded === true"), "the banner came without a reload"
    shot(browser, "18-live-banner")


def test_the_incident_page_fits_a_narrow_screen(server, incident, browser, shot):
    browser.set_window_size(390, 1000)
    try:
        browser.get(f'{server.url}/console/incidents/{incident["id"]}')
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow} px wider than a 390 px screen"
        shot(browser, "19-incident-narrow")
    finally:
        browser.set_window_size(1280, 1000)
