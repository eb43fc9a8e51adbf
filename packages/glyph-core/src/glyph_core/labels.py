"""Label selection (docs/data.md), the class-index map, and identical-twin equivalence sets.

A twin is another label the same font draws with an identical outline (kaf/keheh, yeh/farsi yeh,
...); `rasterd ingest` records them in ``alt_label`` so evaluation can count them as correct.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

ALT_LABEL_SEPARATOR = ","


def format_alt_labels(labels: Iterable[str]) -> str | None:
    """The ``alt_label`` column value for a set of twin labels (sorted, comma-joined; None if empty)."""
    unique = sorted(set(labels))
    return ALT_LABEL_SEPARATOR.join(unique) if unique else None


def parse_alt_labels(text: str | None) -> frozenset[str]:
    """Twin labels listed in an ``alt_label`` value (empty set for NULL or blank)."""
    if not text:
        return frozenset()
    return frozenset(part.strip() for part in text.split(ALT_LABEL_SEPARATOR) if part.strip())


def equivalent_labels(label: str, alt_label: str | None) -> frozenset[str]:
    """Labels that count as a correct prediction for this row: its own plus its twins."""
    return parse_alt_labels(alt_label) | {label}


@dataclass(frozen=True)
class LabelMap:
    """label -> class index, in lexicographic order of the labels (docs/data.md check 3)."""

    labels: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if list(self.labels) != sorted(set(self.labels)):
            raise ValueError("label map labels must be unique and sorted")
        object.__setattr__(self, "_index", {label: i for i, label in enumerate(self.labels)})

    @classmethod
    def from_labels(cls, labels: Iterable[str]) -> LabelMap:
        return cls(tuple(sorted(set(labels))))

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def index(self, label: str) -> int:
        return self._index[label]

    def get(self, label: str, default: int = -1) -> int:
        return self._index.get(label, default)

    def to_json(self) -> str:
        return json.dumps({label: i for i, label in enumerate(self.labels)}, ensure_ascii=False, indent=0)

    @classmethod
    def from_json(cls, text: str) -> LabelMap:
        mapping: dict[str, int] = json.loads(text)
        labels = tuple(sorted(mapping, key=mapping.__getitem__))
        if [mapping[label] for label in labels] != list(range(len(labels))):
            raise ValueError("label map indices must be 0..N-1")
        return cls(labels)

    @property
    def hash(self) -> str:
        return hashlib.sha256("\n".join(self.labels).encode("utf-8")).hexdigest()


CountBy = Literal["rows", "fonts", "design_groups"]


def count_labels(
    rows: Iterable[tuple[str, str]], count_by: CountBy, font_groups: Mapping[str, str] | None = None
) -> Counter[str]:
    """Frequency of each label over (label, font_hash) rows, counting rows, distinct fonts or design groups."""
    if count_by == "rows":
        return Counter(label for label, _ in rows)
    if count_by == "design_groups" and font_groups is None:
        raise ValueError("count_by=design_groups needs the font -> design group map")
    seen: dict[str, set[str]] = defaultdict(set)
    for label, font in rows:
        seen[label].add(font if count_by == "fonts" else font_groups[font])  # type: ignore[index]
    return Counter({label: len(units) for label, units in seen.items()})


def select_labels(counts: Mapping[str, int], min_count: int, drop_shaped: bool) -> LabelMap:
    """Labels with at least ``min_count`` occurrences, optionally without contextual forms."""
    from glyph_core.label_names import is_shaped_label

    kept = [
        label for label, n in counts.items() if n >= min_count and not (drop_shaped and is_shaped_label(label))
    ]
    return LabelMap.from_labels(kept)


@dataclass(frozen=True)
class MergeCandidate:
    """Two labels drawn identically in ``identical`` of the ``shared`` fonts that have both."""

    label_a: str
    label_b: str
    shared: int
    identical: int

    @property
    def share(self) -> float:
        return self.identical / self.shared if self.shared else 0.0


def merge_candidates(
    rows: Iterable[tuple[str, str, str | None]], min_share: float, min_shared: int = 3
) -> list[MergeCandidate]:
    """Label pairs identical in at least ``min_share`` of the fonts that draw both (rows: font, label, alt_label)."""
    labels_by_font: dict[str, set[str]] = defaultdict(set)
    identical: Counter[tuple[str, str]] = Counter()
    for font, label, alt in rows:
        labels_by_font[font].add(label)
        for twin in parse_alt_labels(alt):
            if label < twin:
                identical[(label, twin)] += 1
    shared: Counter[tuple[str, str]] = Counter()
    for labels in labels_by_font.values():
        for pair in identical.keys():
            if pair[0] in labels and pair[1] in labels:
                shared[pair] += 1
    out = [
        MergeCandidate(a, b, shared[(a, b)], n)
        for (a, b), n in identical.items()
        if shared[(a, b)] >= min_shared and n / shared[(a, b)] >= min_share
    ]
    return sorted(out, key=lambda c: (-c.share, -c.shared, c.label_a, c.label_b))
