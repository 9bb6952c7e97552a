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
