"""A parsed HTML page for route tests: elements with their attributes and text, found by id, tag or class."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    def walk(self) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                found.append(child)
                found.extend(child.walk())
        return found

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with this tag and these attribute values (``class_`` for class: one of its classes)."""
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        out = []
        for e in self.walk():
            if tag is not None and e.tag != tag:
                continue
            ok = True
            for key, value in wanted.items():
                have = e.attrs.get(key)
                if key == "class":
                    ok = ok and have is not None and value in have.split()
                else:
                    ok = ok and have == value
            if ok:
                out.append(e)
        return out

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, element_id: str) -> Element | None:
        return self.find(id=element_id)

    def form_fields(self) -> dict[str, str]:
        """The values a browser would send for this form's inputs (not its buttons)."""
        values = {}
        for e in self.find_all("input"):
            if "name" in e.attrs and e.attrs.get("type") not in ("checkbox", "submit"):
                values[e.attrs["name"]] = e.attrs.get("value", "")
        for e in self.find_all("textarea"):
            values[e.attrs["name"]] = e.text
        return values


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
