"""The console in a real browser (Debian's Chromium through Playwright) against a real ``p2c serve``
and the sandbox. Each test saves screenshots of the pages it drives under its tmp_path."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_helpers import synced_customers
from serve_helpers import Served, serve, wait_for

pytestmark = pytest.mark.slow

SHOTS = os.environ.get("P2C_SCREENSHOTS")  # also copy screenshots here (docs/ pictures)


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    # the sandbox serves HTTPS with its own CA, which this throwaway browser profile does not know
    context = browser.new_context(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS:
        shutil.copy(path, Path(SHOTS) / f"console-{name}.png")
    return path


def log_in(page: Any, s: Served, target: str = "/") -> None:
    page.goto(s.url + target)
    assert "/login" in page.url  # no page without a session
    page.get_by_label("API token").fill(s.token)
    page.get_by_label("API token").press("Enter")  # the keyboard is enough
    page.wait_for_url(re.compile(re.escape(s.url + target) + "$"))


def ended(page: Any) -> str | None:
    """The run page's status once the run ended (the page reloaded), else None."""
    page.reload()
    status = page.locator("#run-status").inner_text()
    return None if status == "running" or page.locator("#running").count() else status


def counts(page: Any) -> list[dict[str, int]]:
    """The run page's counts table: per task, header → number (once the page that has it is
    there: read right after the click that opens it, the page before may still be shown)."""
    page.locator("#counts").wait_for()
    return page.evaluate(
        """() => {
        const t = document.getElementById('counts');
        const heads = [...t.querySelectorAll('thead th')].map(h => h.textContent.trim());
        return [...t.querySelectorAll('tbody tr')].map(r => {
          const cells = [r.querySelector('th'), ...r.querySelectorAll('td')];
          const out = {};
          cells.forEach((c, i) => { const n = parseInt(c.textContent.trim(), 10); if (!isNaN(n)) out[heads[i]] = n; });
          out.task = cells[0].textContent.trim();
          return out;
        });
    }"""
    )


def test_the_demo_runs_with_counts_that_add_up(provisioned_project: Any, page: Any, tmp_path: Path) -> None:
    world = provisioned_project
    with serve(world.path) as s:
        for _ in range(2):
            s.wait_run(s.post("/runs", expect=202, json={})["run_id"])
        log_in(page, s)
        row = page.get_by_role("row", name=re.compile(s.project))
        assert "ok" in row.inner_text() and row.locator("svg").count() == 1
        shot(page, tmp_path, "overview")
        page.get_by_role("link", name=s.project).first.click()
        shot(page, tmp_path, "project")
        page.get_by_role("link", name="All runs").click()
        page.get_by_role("link", name="1", exact=True).click()
        rows = counts(page)
        assert [r["task"] for r in rows] == ["Accounts", "Products", "ProductPriceListItems"]
        fates = ("new", "updated", "deleted", "unchanged", "filtered", "skipped", "waiting", "failed")
        for r in rows:
            assert r["read"] == sum(r[f] for f in fates) and r["read"] > 0, r
        assert page.locator("svg[aria-label='records of each task by what became of them'] rect").count() >= 3
        shot(page, tmp_path, "run")
        # readable at phone width: nothing wider than the screen but the tables' own scrolling
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, tmp_path, "run-phone")
        labelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, button')]
                 .every(e => e.labels?.length || e.textContent.trim() || e.getAttribute('aria-label'))"""
        )
        assert labelled


def test_a_failing_record_is_found_fixed_and_retried_from_the_page(
    provisioned_project: Any, page: Any, tmp_path: Path
) -> None:
    world = provisioned_project
    crm = world.crm()
    created = crm.post(
        "accounts",
        json={"name": "Atlantis Trading", "accountnumber": "AT-1", "address1_country": "Atlantis"},
        headers={"Prefer": "return=representation"},
    ).json()
    with serve(world.path) as s:
        log_in(page, s, f"/projects/{s.project}")
        page.get_by_role("button", name="Run now").click()
        page.wait_for_url(re.compile(r"/runs/\d+"))
        assert wait_for(lambda: ended(page)) == "partial"
        shot(page, tmp_path, "partial")
        page.get_by_role("link", name="Open the errors to retry or dismiss them").click()
        group = page.locator("fieldset.group", has_text="Atlantis")
        assert "1 × Accounts" in group.inner_text()
        shot(page, tmp_path, "errors")
        # the fix: Atlantis goes into the country value map of p2c.yaml
        data = yaml.safe_load(world.path.read_text())
        data.setdefault("value_maps", {}).setdefault("country", {})["Atlantis"] = "US"
        world.path.write_text(yaml.safe_dump(data, sort_keys=False))
        group.get_by_label(created["accountid"]).check()
        page.get_by_role("button", name="Retry selected").click()
        page.wait_for_url(re.compile(r"/runs/\d+\?note="))
        assert "retry of 1 record(s) started" in page.content()
        assert wait_for(lambda: ended(page), timeout=60) == "succeeded"
        [accounts] = counts(page)
        assert (accounts["read"], accounts["new"], accounts["failed"]) == (1, 1, 0)
        shot(page, tmp_path, "retried")
        assert s.get("")["open_failures"] == 0
    assert (
        synced_customers(world.erp(), ["AddressCountryRegionISOCode"])["AT-1"]["AddressCountryRegionISOCode"]
        == "US"
    )


def test_pause_resume_and_a_run_followed_live(
    provisioned_project: Any, sandbox: Any, page: Any, tmp_path: Path
) -> None:
    world = provisioned_project
    with serve(world.path) as s:
        log_in(page, s, f"/projects/{s.project}")
        page.get_by_label("Reason").fill("month-end close")
        page.get_by_role("button", name="Pause").click()
        assert page.get_by_text("paused: it runs neither on schedule nor on request").is_visible()
        assert page.get_by_role("button", name="Run now").is_disabled()
        assert "month-end close" in page.content() and s.get("")["paused"] is True
        shot(page, tmp_path, "paused")
        page.get_by_role("button", name="Resume").click()
        assert s.get("")["paused"] is False

        sandbox.admin("crm").put("faults", json={"latency_ms": 120})  # a run that lasts a few seconds
        page.get_by_role("button", name="Run now").click()
        page.wait_for_url(re.compile(r"/runs/\d+"))
        assert page.locator("#running").is_visible()
        seen = set()
        for _ in range(100):
            text = page.locator("#counts tfoot").inner_text()
            seen.add(text)
            if page.locator("#running").inner_text() == "Finished.":
                break
            page.wait_for_timeout(200)
        assert page.locator("#running").inner_text() == "Finished."
        assert len(seen) >= 2  # the counts moved on the page without a reload
        sandbox.admin("crm").put("faults", json={"latency_ms": 0})
        shot(page, tmp_path, "live")


def test_a_record_link_opens_the_record_in_the_sandbox(
    provisioned_project: Any, page: Any, tmp_path: Path
) -> None:
    world = provisioned_project
    with serve(world.path) as s:
        run = s.wait_run(s.post("/runs", expect=202, json={"tasks": ["Accounts"]})["run_id"])
        log_in(page, s, f"/projects/{s.project}/runs/{run['id']}/records?action=created")
        page.locator("table.list tbody a").first.click()
        shot(page, tmp_path, "record")
        with page.context.expect_page() as opened:
            page.get_by_role("link", name="Open the source in the CRM").click()
        crm_page = opened.value
        crm_page.wait_for_load_state()
        assert "main.aspx" in crm_page.url and "Account" in crm_page.content()
        crm_page.screenshot(path=str(tmp_path / "crm-record.png"))
        with page.context.expect_page() as opened:
            page.get_by_role("link", name="Open the target in the ERP").click()
        erp_page = opened.value
        erp_page.wait_for_load_state()
        assert "cmp=usmf" in erp_page.url and "CustomerAccount" in erp_page.content()
        erp_page.screenshot(path=str(tmp_path / "erp-record.png"))


def test_refused_without_login_and_without_a_csrf_token(
    provisioned_project: Any, page: Any, tmp_path: Path
) -> None:
    world = provisioned_project
    with serve(world.path) as s:
        page.goto(f"{s.url}/projects/{s.project}")
        assert "/login?next=" in page.url and page.get_by_label("API token").is_visible()
        page.get_by_label("API token").fill("not-a-token-of-this-service")
        page.get_by_role("button", name="Log in").click()
        assert "that token is not valid" in page.content()
        log_in(page, s, f"/projects/{s.project}")
        page.evaluate("document.querySelector('form[action$=\"/pause\"] input[name=csrf]').value = 'forged'")
        page.get_by_role("button", name="Pause").click()
        assert "CSRF token is missing or wrong" in page.content()
        shot(page, tmp_path, "csrf-refused")
        assert s.get("")["paused"] is False
        cookies = {c["name"]: c for c in page.context.cookies()}
        session = cookies["p2c_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
