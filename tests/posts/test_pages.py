"""The Publish page and the approvals queue, as people use them (forms with CSRF, redirects, errors in place)."""

from __future__ import annotations

import re

import pytest

from tests.posts.conftest import sent_on

pytestmark = pytest.mark.both_databases


@pytest.fixture
def browser(browser_for, people):
    return browser_for


def post(client, path, **data):
    return client.post(path, data={"csrf_token": client.csrf, **data}, follow_redirects=False)


def test_compose_and_publish_from_the_page(browser):
    lee = browser("lee")
    page = lee.get("/posts")
    assert page.status_code == 200 and 'href="/posts" data-rail-publish' in page.text
    assert 'value="news" data-limit="500" data-media="yes"' in page.text and "inbox-mail" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    r = post(lee, "/posts", text="Fresh bread every morning.", channels=["news", "brand"],
             media_url="https://cdn.acme.example/bread.jpg")
    assert r.status_code == 303 and r.headers["location"].startswith("/posts?done=")
    page = lee.get(r.headers["location"])
    assert page.text.count('data-target-state="sent"') == 2 and "view on the platform" in page.text
    assert len(sent_on("news")) == 1
    post_id = re.search(r'data-post="(\d+)"', page.text).group(1)
    r = post(lee, f"/posts/{post_id}/delete")
    assert r.status_code == 303 and lee.get("/posts").text.count('data-target-state="deleted"') == 2


def test_a_blocked_or_invalid_post_comes_back_with_the_text_kept_and_findings_marked(browser):
    lee = browser("lee")
    r = post(lee, "/posts", text="Only an idiot pays full price", channels=["news"], schedule_local="")
    assert r.status_code == 422 and '<mark class="sev-block"' in r.text and ">idiot</mark>" in r.text
    assert "Only an idiot pays full price</textarea>" in r.text
    assert 'value="news" data-limit="500" data-media="yes" checked' in r.text
    r = post(lee, "/posts", text="x" * 600, channels=["news"])
    assert r.status_code == 422 and "News allows 500" in r.text and "x" * 600 + "</textarea>" in r.text
    r = post(lee, "/posts", text="Hello", channels=["news"], scheduled_at="2020-01-01T00:00:00Z")
    assert r.status_code == 422 and "has passed" in r.text
    assert sent_on("news") == []


def test_a_held_post_is_decided_from_the_approvals_queue(browser):
    sam, lena = browser("sam"), browser("lena")
    r = post(sam, "/posts", text="Our cream is a guaranteed cure.", channels=["news"])
    assert r.status_code == 303
    assert 'data-target-state="awaiting_approval"' in sam.get(r.headers["location"]).text
    assert "data-approval=" not in sam.get("/approvals").text  # the author does not approve their own
    queue = lena.get("/approvals")
    approval_id = re.search(r'data-approval="(\d+)" data-what="post"', queue.text).group(1)
    r = post(lena, f"/approvals/{approval_id}/decide?back=queue", decision="reject")
    assert r.status_code == 422  # a rejection needs a reason
    r = post(lena, f"/approvals/{approval_id}/decide?back=queue", decision="approve",
             text="Our cream soothes dry skin.")
    assert r.status_code == 303 and r.headers["location"] == "/approvals"
    assert [x["text"] for x in sent_on("news")] == ["Our cream soothes dry skin."]


def test_people_who_may_not_publish_are_told_and_refused(browser):
    vic = browser("vic")
    page = vic.get("/posts")
    assert page.status_code == 200 and "You may not publish on any channel" in page.text
    r = post(vic, "/posts", text="hello", channels=["news"])
    assert r.status_code == 403 and "may not publish" in r.text
    assert sent_on("news") == []


def test_a_refused_decision_in_the_queue_keeps_what_the_approver_typed(browser):
    """A rejection without a reason, or an edit the guard blocks, shows the queue again with the error on that
    request and the approver's text and reason kept (not a bare error page that loses them)."""
    sam, lena = browser("sam"), browser("lena")
    assert post(sam, "/posts", text="Our cream is a guaranteed cure.", channels=["news"]).status_code == 303
    approval_id = re.search(r'data-approval="(\d+)"', lena.get("/approvals").text).group(1)
    edited = 'Only an idiot waits <script>alert(1)</script>'
    r = post(lena, f"/approvals/{approval_id}/decide?back=queue", decision="approve", text=edited, note="tone")
    assert r.status_code == 422 and 'data-rail-publish' in r.text  # the queue page, with its rail
    assert "the edited text is blocked" in r.text and "idiot" in r.text
    assert "Only an idiot waits &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in r.text
    assert 'name="note" value="tone"' in r.text and "<script>alert(1)" not in r.text
    r = post(lena, f"/approvals/{approval_id}/decide?back=queue", decision="reject", text="Kept draft", note="")
    assert r.status_code == 422 and "say why the post is rejected" in r.text and "Kept draft</textarea>" in r.text
    assert sent_on("news") == []
    assert f'data-approval="{approval_id}"' in lena.get("/approvals").text  # still waiting, nothing lost
