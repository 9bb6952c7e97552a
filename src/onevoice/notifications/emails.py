"""The emails' text and HTML bodies, from templates under templates/emails/ (HTML autoescaped: a team name or
an incident topic with markup in it arrives as text)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates" / "emails"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def render(name: str, context: dict) -> tuple[str, str]:
    """(plain text, HTML) of templates/emails/<name>.txt and <name>.html."""
    env = _env()
    return env.get_template(f"{name}.txt").render(**context), env.get_template(f"{name}.html").render(**context)
