"""A static HTML page from sections of text, tables and images (the images sit beside it; it opens from disk)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1em; } td, th { border: 1px solid #ddd; padding: .2em .6em; text-align: right; }
td:first-child, th:first-child { text-align: left; } th { background: #f4f4f4; }
img { max-width: 100%; border: 1px solid #eee; } .note { color: #555; } .bad { color: #b00; font-weight: bold; }
nav a { margin-right: 1em; }
"""


@dataclass
class Section:
    anchor: str
    title: str
    parts: list[str] = field(default_factory=list)

    def text(self, value: str, css: str = "") -> Section:
        self.parts.append(f'<p class="{css}">{escape(value)}</p>' if css else f"<p>{escape(value)}</p>")
        return self

    def heading(self, value: str) -> Section:
        self.parts.append(f"<h3>{escape(value)}</h3>")
        return self

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Section:
        head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return self

    def image(self, name: str, alt: str) -> Section:
        self.parts.append(f'<p><img src="{escape(name)}" alt="{escape(alt)}"></p>')
        return self


def write_page(path: Path, title: str, intro: Sequence[str], sections: Sequence[Section]) -> Path:
    nav = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{escape(s.anchor)}"><h2>{escape(s.title)}</h2>{"".join(s.parts)}</section>' for s in sections
    )
    lead = "".join(f'<p class="note">{escape(line)}</p>' for line in intro)
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{lead}<nav>{nav}</nav>{body}</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
