"""The console's pages over plain HTTP (the browser tests drive them in Chromium): each renders,
nothing without a login, no form without its CSRF token, no secret in any page."""

from __future__ import annotations

import re
from typing import Any

import httpx
from serve_helpers import Served, serve
from test_serve_api import _break_accounts


def login(s: Served) -> httpx.Client:
    client = httpx.Client(base_url=s.url, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = client.post("/login", data={"csrf": csrf, "token": s.token, "next": "/"})
    assert done.status_code == 303 and done.headers["location"] == "/"
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain HTTP here
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_every_page_renders_for_a_logged_in_person_only(provisioned_project: Any) -> None:
    world = provisioned_project
    _break_accounts(world, ["C10104"])
    with serve(world.path) as s:
        run = s.wait_run(s.post("/runs", expect=202, json={})["run_id"])
        anonymous = httpx.Client(base_url=s.url, timeout=60)
        for path in ("/", f"/projects/{s.project}", f"/projects/{s.project}/runs/{run['id']}"):
            away = anonymous.get(path)
            assert away.status_code == 303 and away.headers["location"].startswith("/login?next="), path
        assert (
            anonymous.post(f"/projects/{s.project}/pause", data={"reason": "x"}).status_code == 303
        )  # to login
        bad = anonymous.post("/login", data={"token": s.token, "csrf": "forged"})
        assert bad.status_code == 403  # the login form without its own CSRF cookie

        client = login(s)
        pages = [
            "/",
            f"/projects/{s.project}",
            f"/projects/{s.project}/runs",
            f"/projects/{s.project}/runs?status=partial",
            f"/projects/{s.project}/runs/{run['id']}",
            f"/projects/{s.project}/runs/{run['id']}/live",
            f"/projects/{s.project}/runs/{run['id']}/records",
            f"/projects/{s.project}/runs/{run['id']}/records?action=failed&q=C10104",
            f"/projects/{s.project}/runs/{run['id']}/errors",
            f"/projects/{s.project}/plan",
            f"/projects/{s.project}/reconcile",
        ]
        for path in pages:
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:2000])
            assert world.secret not in page.text and s.token not in page.text, path
        record_id = re.search(rf"/runs/{run['id']}/records/(\d+)", client.get(pages[7]).text).group(1)  # type: ignore[union-attr]
        detail = client.get(f"/projects/{s.project}/runs/{run['id']}/records/{record_id}")
        assert (
            detail.status_code == 200
            and "CustomerGroupId" in detail.text
            and "main.aspx?etn=account" in detail.text
        )
        assert client.get(f"/projects/{s.project}/runs/999999").status_code == 404
        assert client.get("/projects/nope").status_code == 404

        project_page = client.get(f"/projects/{s.project}").text
        forged = client.post(f"/projects/{s.project}/pause", data={"reason": "x", "csrf": "not-it"})
        assert forged.status_code == 403 and s.get("")["paused"] is False
        paused = client.post(
            f"/projects/{s.project}/pause", data={"reason": "audit", "csrf": csrf_of(project_page)}
        )
        assert paused.status_code == 303 and s.get("")["paused"] is True
        # a project file that stops loading: its page says why, with the file and line
        text = world.path.read_text()
        world.path.write_text(text + "\nschedule: {every: soon}\n")
        broken = client.get(f"/projects/{s.project}")
        assert broken.status_code == 200 and "does not load" in broken.text
        assert re.search(r"p2c\.yaml:\d+: schedule", broken.text), broken.text[:3000]
        world.path.write_text(text)
        out = client.post("/logout", data={"csrf": csrf_of(project_page)})
        assert out.status_code == 303 and client.get("/").status_code == 303
        client.close()
        anonymous.close()
