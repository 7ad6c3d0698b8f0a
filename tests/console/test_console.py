"""The incident console in a real browser: sign in, the quarantine with its evidence, a
release that reaches the timeline, a rebuild under the degraded banner, a snapshot verified
from its row, the latest scan's z histogram (on the scenario and on a small collection with a
planted hub), a rollback previewed (the documents ingested after the snapshot are named and
nothing changes) and then confirmed by typing the collection's name, an incident with its
chain verified, and a reader who sees but cannot act (a forged POST is 403, as is one without
the CSRF token). Each page is saved as a numbered screenshot.

The tests run in order and share one service and one scenario (`scenario`).
"""

from __future__ import annotations

import random
import re
import uuid

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

DIMENSION = 48
DOCUMENTS = 6000
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
LATE = [f"acme-late-{i}" for i in range(3)]


@pytest.fixture(scope="module")
def scenario(server):
    """A collection of DOCUMENTS documents (tenant acme, enough that a rebuild lasts a moment),
    a snapshot of them, the LATE documents ingested after it (what a rollback to it stops
    serving), and acme-7 quarantined with a HubScan z of 9.2."""
    name = "console-" + uuid.uuid4().hex[:8]
    server.ok("POST", "/v1/collections", {"name": name, "dimension": DIMENSION, "metric": "cosine"})
    rng = random.Random(22)

    def document(external_id: str) -> dict:
        return {"id": external_id, "tenant": "acme", "text": " ".join(rng.choice(WORDS) for _ in range(8)),
                "embedding": [rng.uniform(-1, 1) for _ in range(DIMENSION)]}

    for start in range(0, DOCUMENTS, 1000):
        batch = [document(f"acme-{i}") for i in range(start, start + 1000)]
        server.ok("POST", f"/v1/collections/{name}/documents", {"documents": batch})
    snapshot = server.ok("POST", f"/v1/collections/{name}/snapshots")["id"]
    late = [document(external_id) for external_id in LATE]
    server.ok("POST", f"/v1/collections/{name}/documents", {"documents": late})
    held = server.ok("POST", f"/v1/collections/{name}/quarantine",
                     {"ids": ["acme-7"], "reason": "HubScan z = 9.2 <b>planted</b>", "scores": {"acme-7": 9.2}})
    return {"collection": name, "incident": held["incident_id"], "snapshot": snapshot,
            "late": {d["id"]: d["embedding"] for d in late},
            "commander": server.token("incident_commander"), "reader": server.token("reader")}


def served_documents(server, name: str) -> int:
    return server.ok("GET", f"/v1/collections/{name}")["documents"]


def sign_in(driver, server, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(server.url + "/console")
    assert "/console/sign-in" in driver.current_url, "no session: redirected to sign-in"
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The sign-in page's h1 goes stale as the overview loads: look again until it is there.
    WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == "Overview")


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
    served = served_documents(server, scenario["collection"])
    assert served in (DOCUMENTS + len(LATE), DOCUMENTS + len(LATE) - 1), "acme-7 quarantined, the late ones served"
    assert f"{served:,}" in card.text, card.text
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
    job = browser.current_url.split("?job=")[1].split("&")[0]
    browser.get(server.url + "/console")
    if not browser.find_elements(By.ID, "degraded-banner"):
        # A small rebuild may end between the two pages: then, and only then, no banner.
        status, body = server.api("GET", f"/v1/jobs/{job}")
        assert status == 200 and body["state"] == "succeeded", "the banner is on every page while the rebuild runs"
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


def test_a_snapshot_is_verified_from_its_row(server, scenario, browser, shot):
    path = f'/console/collections/{scenario["collection"]}'
    snapshot = scenario["snapshot"]
    browser.get(server.url + path)
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-snapshot="{snapshot}"]')
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == "published"
    button = row.find_element(By.CSS_SELECTOR, "button[value=verify]")
    assert button.text == "Verify"
    assert button.find_element(By.XPATH, "./ancestor::form").get_dom_attribute("action") == f"{path}/snapshots/{snapshot}/verify"
    button.click()
    notice = WebDriverWait(browser, 180).until(lambda d: d.find_element(By.CSS_SELECTOR, ".notice"))
    assert notice.text.startswith(f"Snapshot {snapshot} verified against its root hash"), notice.text
    listed = {s["id"]: s for s in server.ok("GET", f'/v1/collections/{scenario["collection"]}/snapshots')["snapshots"]}
    status = listed[snapshot]["status"]
    assert status in ("published", "verified_clean")
    assert ("clean: it is now verified_clean" in notice.text) == (status == "verified_clean"), notice.text
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-snapshot="{snapshot}"]')
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == status
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#rollback-to option")]
    assert snapshot in options, options
    clean = any(s["status"] == "verified_clean" for s in listed.values())
    assert (options[0] == "last-clean") == clean, options
    shot(browser, "07-snapshot-verified")


def check_histogram(browser, scan: dict) -> list[str]:
    """The latest-scan section against the scan's JSON: the same scan, every scored document in
    the histogram, the flagged ones listed (or the sentence that none was). The flagged ids."""
    report = scan["report"]
    section = browser.find_element(By.ID, "latest-scan")
    assert section.get_attribute("data-scan") == str(scan["id"])
    svg = section.find_element(By.CSS_SELECTOR, "svg#z-histogram")
    assert svg.is_displayed()
    assert svg.size["width"] > 100 and svg.size["height"] > 20, svg.size
    bars = svg.find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(bars) == len(report["z_histogram"]["counts"]) > 0
    caption = section.find_element(By.CSS_SELECTOR, "figcaption").text
    total = re.search(r"The z of all ([\d,]+) scored documents", caption)
    assert total, caption
    assert int(total.group(1).replace(",", "")) == report["documents"] == sum(report["z_histogram"]["counts"])
    flagged = [f["id"] for f in scan["flagged"]]
    if flagged:
        rows = section.find_elements(By.CSS_SELECTOR, "#flagged tbody tr")
        assert [r.get_attribute("data-flagged") for r in rows] == flagged[:25]
        assert svg.find_elements(By.CSS_SELECTOR, "rect.bar.flagged")
    else:
        assert not section.find_elements(By.ID, "flagged")
        assert "No document was flagged." in section.text
        assert not svg.find_elements(By.CSS_SELECTOR, "rect.bar.flagged")
    histogram = report["z_histogram"]
    upper = histogram["lower"] + histogram["bin_width"] * len(histogram["counts"])
    has_line = bool(svg.find_elements(By.CSS_SELECTOR, "line.threshold"))
    assert has_line == (histogram["lower"] <= scan["threshold"] <= upper), (histogram, scan["threshold"])
    return flagged


def test_the_latest_scan_draws_every_scored_document_on_the_histogram(server, scenario, browser, shot):
    name = scenario["collection"]
    scan = server.ok("POST", f"/v1/collections/{name}/scans", {"sample": "documents", "sample_size": 2000, "k": 10})
    assert scan["report"]["documents"] == served_documents(server, name)
    browser.get(f"{server.url}/console/collections/{name}")
    check_histogram(browser, scan)
    browser.execute_script("document.getElementById('latest-scan').scrollIntoView()")
    shot(browser, "08-latest-scan")


def test_a_planted_hub_is_flagged_on_the_histogram(server, browser, shot):
    """The random scenario has no hub to find; this small collection has one: a cap of
    documents around one direction and a document at its centre (the Swift test's recipe)."""
    name = "console-hub-" + uuid.uuid4().hex[:8]
    dimension = 16
    server.ok("POST", "/v1/collections", {"name": name, "dimension": dimension, "metric": "cosine"})
    rng = random.Random(23)
    documents = [{"id": f"acme-{i}", "tenant": "acme", "text": f"passage {i}",
                  "embedding": [(1.0 if j == 0 else 0.0) + 0.35 * rng.gauss(0, 1) for j in range(dimension)]}
                 for i in range(300)]
    documents.append({"id": "acme-hub", "tenant": "acme", "text": "the answer to everything",
                      "embedding": [1.0 if j == 0 else 0.0 for j in range(dimension)]})
    server.ok("POST", f"/v1/collections/{name}/documents", {"documents": documents})
    scan = server.ok("POST", f"/v1/collections/{name}/scans",
                     {"sample": "documents", "sample_size": 301, "k": 10, "threshold": 3.0})
    assert "acme-hub" in [f["id"] for f in scan["flagged"]], scan["flagged"]
    browser.get(f"{server.url}/console/collections/{name}")
    flagged = check_histogram(browser, scan)
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-flagged="acme-hub"]')
    hub = next(f for f in scan["flagged"] if f["id"] == "acme-hub")
    assert ("at or above threshold" in row.text) == (hub["z"] >= scan["threshold"]), row.text
    assert browser.find_elements(By.CSS_SELECTOR, "svg#z-histogram line.threshold")
    assert len(flagged) >= 1
    browser.execute_script("document.getElementById('latest-scan').scrollIntoView()")
    shot(browser, "09-latest-scan-planted-hub")


def test_a_rollback_is_previewed_then_waits_for_the_typed_confirmation(server, scenario, browser, shot):
    name, snapshot = scenario["collection"], scenario["snapshot"]
    before = served_documents(server, name)
    browser.get(f"{server.url}/console/collections/{name}")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[data-confirm-with]"), "the collection page only chooses"
    chooser = browser.find_element(By.CSS_SELECTOR, "form#rollback-chooser")
    Select(chooser.find_element(By.ID, "rollback-to")).select_by_value(snapshot)
    preview_button = chooser.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert preview_button.text == "Preview rollback"
    preview_button.click()
    WebDriverWait(browser, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text.startswith("Roll back"))
    assert f"/console/collections/{name}/rollback?snapshot_id={snapshot}" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Roll back {name} to {snapshot}"
    changes = browser.find_element(By.ID, "rollback-changes")
    assert changes.find_element(By.TAG_NAME, "strong").text == f"{len(LATE)} documents stop being served"
    stops = browser.find_elements(By.CSS_SELECTOR, "ul.changes li[data-stops]")
    assert [li.get_attribute("data-stops") for li in stops] == LATE
    assert {li.get_attribute("data-tenant") for li in stops} == {"acme"}
    facts = dict(zip([dt.text for dt in browser.find_elements(By.CSS_SELECTOR, "dl.facts dt")],
                     [dd.text for dd in browser.find_elements(By.CSS_SELECTOR, "dl.facts dd")]))
    assert facts["Still served"] == f"{before - len(LATE):,} documents", facts
    assert served_documents(server, name) == before, "the preview changes nothing"
    form = browser.find_element(By.CSS_SELECTOR, f'form[data-confirm-with="{name}"]')
    assert form.find_element(By.CSS_SELECTOR, "input[name=snapshot_id]").get_attribute("value") == snapshot
    button = form.find_element(By.CSS_SELECTOR, "button[value=rollback]")
    assert not button.is_enabled(), "disabled until the collection name is typed"
    shot(browser, "10-rollback-preview")
    form.find_element(By.ID, "rollback-reason").send_keys("back to the snapshot before the late documents")
    form.find_element(By.ID, "rollback-confirm").send_keys("not-the-name")
    assert not button.is_enabled()
    form.find_element(By.ID, "rollback-confirm").clear()
    form.find_element(By.ID, "rollback-confirm").send_keys(name)
    assert button.is_enabled()
    button.click()
    notice = WebDriverWait(browser, 120).until(lambda d: d.find_element(By.CSS_SELECTOR, ".notice"))
    assert notice.text.startswith(f"Rolled back to {snapshot} under "), notice.text
    assert notice.text.endswith(f": {len(LATE)} documents stopped being served."), notice.text
    assert browser.current_url.endswith(f"/console/collections/{name}")
    assert served_documents(server, name) == before - len(LATE)
    for external_id, embedding in scenario["late"].items():
        status, _ = server.api("GET", f"/v1/collections/{name}/documents/{external_id}")
        assert status == 404, f"{external_id} is still served: {status}"
        hits = server.ok("POST", f"/v1/collections/{name}/search", {"vector": embedding, "k": 5, "tenant": "acme"})
        assert external_id not in [hit["id"] for hit in hits["results"]], hits
    shot(browser, "11-rolled-back")


def test_an_incident_shows_its_chain_verified(server, scenario, browser, shot):
    browser.get(server.url + "/console/incidents?severity=SEV-2")
    rows = browser.find_elements(By.CSS_SELECTOR, "#incidents tbody tr")
    assert any(r.get_attribute("data-incident") == scenario["incident"] for r in rows)
    shot(browser, "12-incidents")
    browser.find_element(By.LINK_TEXT, scenario["incident"]).click()
    badge = WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "chain"))
    assert badge.text == "chain verified"
    kinds = [li.get_attribute("data-kind") for li in browser.find_elements(By.CSS_SELECTOR, "#timeline li")]
    assert kinds[0] == "declared" and "quarantined" in kinds and "released" in kinds and "rebuild_started" in kinds
    raw = browser.find_elements(By.CSS_SELECTOR, "#timeline details")[0]
    raw.find_element(By.TAG_NAME, "summary").click()
    assert '"hash"' in raw.find_element(By.TAG_NAME, "pre").text
    shot(browser, "13-incident")


def test_a_reader_sees_without_buttons_and_a_forged_post_is_refused(server, scenario, second_browser, shot):
    reader = second_browser
    sign_in(reader, server, scenario["reader"])
    path = f'/console/collections/{scenario["collection"]}'
    reader.get(server.url + path)
    assert reader.find_element(By.CSS_SELECTOR, "h1").text.startswith("Collection")
    assert buttons(reader) == ["Sign out"], buttons(reader)
    assert not reader.find_elements(By.CSS_SELECTOR, "form[action$=release], form[action$=rebuild], form[action$=rollback]")
    shot(reader, "14-reader-collection")
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
    shot(reader, "15-reader-incidents-refused")


def test_a_post_without_the_csrf_token_is_refused_for_a_commander_too(server, scenario, browser):
    path = f'/console/collections/{scenario["collection"]}'
    browser.get(server.url + path)
    assert post_from_page(browser, path + "/release", {"id": "acme-9", "reason": "no csrf"}) == 403
    assert post_from_page(browser, path + "/release", {"csrf": "0" * 64, "id": "acme-9", "reason": "wrong"}) == 403
    entries = server.ok("GET", f'/v1/collections/{scenario["collection"]}/quarantine')["entries"]
    assert [e["id"] for e in entries] == ["acme-9"]
