"""A customer's words shown inline among the page's own are isolated (web/templating.bdi): a right-to-left override
in a name or a handle cannot reorder the words after it."""

from __future__ import annotations

from onevoice.web.templating import bdi, make_templates


def test_a_value_is_escaped_and_isolated():
    assert bdi("<b>\u202eevil</b>") == "<bdi>&lt;b&gt;\u202eevil&lt;/b&gt;</bdi>"
    assert bdi("") == "" and bdi(None) == ""
    assert bdi(42) == "<bdi>42</bdi>"


def test_the_inbox_row_isolates_the_name_the_handle_and_the_subject():
    env = make_templates().env
    html = env.from_string("<small>{{ handle | bdi }} · {{ channel }}</small><b>{{ subject | bdi }}</b>").render(
        handle="@\u202eevil", channel="xcom", subject="<script>x</script>")
    assert html == "<small><bdi>@\u202eevil</bdi> · xcom</small><b><bdi>&lt;script&gt;x&lt;/script&gt;</bdi></b>"


def test_initials_skip_what_is_not_a_letter_or_a_digit():
    from onevoice.web.templating import initials

    assert initials("\u202eEvil Doer") == "ED"
    assert initials("(Bob) smith") == "BS"
    assert initials("🙂") == "?" and initials(None) == "?"
    assert initials("ana @ana") == "AA"
