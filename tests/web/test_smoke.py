from tests.factories import message


def test_inbox_and_case_render(browser_for, post):
    [case_id] = post(message(text="My order never arrived, terrible"))
    sam = browser_for("sam@acme.test")
    r = sam.get("/inbox")
    assert r.status_code == 200, r.text
    assert f'id="case-{case_id}"' in r.text
    r = sam.get(f"/cases/{case_id}")
    assert r.status_code == 200, r.text
    assert "never arrived" in r.text


def test_every_feature_page_gets_the_pages_headers_and_error_pages(browser_for):
    lee = browser_for("lee@acme.test")  # coordinator: may open all of these
    for path in ("/inbox", "/posts", "/governance", "/routing/playbook", "/incidents", "/approvals"):
        r = lee.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store", path
    # A refusal on a feature's page is a page (the inbox's layout), on the API it stays JSON.
    sam = browser_for("sam@acme.test")  # responder: not the playbook's owner
    page = sam.get("/routing/playbook")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert sam.get("/routing/playbook", headers={"hx-request": "true"}).text.startswith("only ")
