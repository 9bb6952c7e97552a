"""Plain text from the small HTML that Mastodon and similar platforms put in a post's content."""

from __future__ import annotations

from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")
        # Mastodon hides the scheme and the tail of long links in "invisible" spans; keep them: the
        # full URL is what a responder wants to click.
        if tag == "span" and "ellipsis" in classes:
            self.parts.append("")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str | None) -> str:
    if not html:
        return ""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()
