"""Font splits by design group (docs/data.md with DESIGN's correction: never split by file).

Fonts are one design when their normalized family names match, when they share most of their
(label, contours) pairs byte for byte (weight instances, UI variants, locale variants, copies), or
when their rasters of the core letters agree (redrawn near-copies; ``glyph_core.shapes``). Groups,
not files, are shuffled (seeded) and dealt 80/10/10 into train/val/test; ``splits.json`` says for
every merge which rule made it and with what score (docs/data.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

SPLIT_NAMES = ("train", "val", "test")

# Words that name an instance of a design rather than the design itself.
_INSTANCE_WORDS = {
    "thin", "hairline", "extralight", "ultralight", "light", "semilight", "demilight", "book", "regular",
    "normal", "medium", "semibold", "demibold", "bold", "extrabold", "ultrabold", "black", "heavy",
    "extrablack", "ultrablack", "italic", "oblique", "slanted", "condensed", "semicondensed",
    "extracondensed", "ultracondensed", "expanded", "semiexpanded", "extraexpanded", "narrow", "wide",
    "compressed", "ui", "display", "text",
}  # fmt: skip
_SPLIT_PREFIXES = ("extra", "ultra", "semi", "demi")


def normalize_family(name: str | None) -> str | None:
    """Family name without weight/width/style/UI words, lowercased (None if nothing remains)."""
    if not name:
        return None
    words = re.findall(r"[A-Za-z0-9]+", name.lower())
    merged: list[str] = []
    for word in words:
        # "Extra Bold" and "ExtraBold" are the same instance word.
        if merged and merged[-1] in _SPLIT_PREFIXES and merged[-1] + word in _INSTANCE_WORDS:
            merged[-1] += word
        else:
            merged.append(word)
    kept = [w for w in merged if w not in _INSTANCE_WORDS and w not in _SPLIT_PREFIXES]
    return " ".join(kept) or None


class _UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class Merge:
    """Why two fonts are one design: the rule that joined them and its score."""

    fonts: tuple[str, str]
    families: tuple[str | None, str | None]
    rule: str  # "name", "outlines" or "shape"
    score: float  # name: 1; outlines: share of identical (label, contours) pairs; shape: mean IoU
    letters: int | None = None  # shape: core letters compared

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {
            "fonts": list(self.fonts), "families": list(self.families), "rule": self.rule, "score": round(self.score, 4),
        }  # fmt: skip
        if self.letters is not None:
            record["letters"] = self.letters
        return record


@dataclass(frozen=True)
class DesignGroups:
    """font hash -> design group name, and the merges (one per join of two groups) that made them."""

    groups: dict[str, str]
    merges: list[Merge]

    def merges_by_group(self) -> dict[str, list[Merge]]:
        out: dict[str, list[Merge]] = defaultdict(list)
        for merge in self.merges:
            out[self.groups[merge.fonts[0]]].append(merge)
        return dict(out)


def design_groups(
    family_names: Mapping[str, str | None],
    outline_keys: Mapping[str, set[str]],
    identity_share: float,
    shape_pairs: Iterable[tuple[str, str, float, int]] = (),
) -> DesignGroups:
    """Group fonts into designs by three rules, in this order, recording each merge and its reason.

    ``family_names``: every font's family name (None when unknown); ``outline_keys``: per font, a set
    of hashes of its (label, contours) pairs; ``shape_pairs``: (font, font, mean IoU, letters) of the
    pairs whose rasters agree (see ``glyph_core.shapes``). Fonts are merged when their normalized
    families match, when the identical pairs are at least ``identity_share`` of the smaller font's
    pairs, or when they are a shape pair.
    """
    fonts = sorted(family_names)
    uf = _UnionFind(fonts)
    merges: list[Merge] = []

    def join(a: str, b: str, rule: str, score: float, letters: int | None = None) -> None:
        if uf.find(a) != uf.find(b):
            uf.union(a, b)
            merges.append(Merge((a, b), (family_names[a], family_names[b]), rule, score, letters))

    by_family: dict[str, list[str]] = defaultdict(list)
    for font in fonts:
        family = normalize_family(family_names[font])
        if family:
            by_family[family].append(font)
    for members in by_family.values():
        for other in members[1:]:
            join(members[0], other, "name", 1.0)

    fonts_by_key: dict[str, list[str]] = defaultdict(list)
    for font in fonts:
        for key in outline_keys.get(font, ()):
            fonts_by_key[key].append(font)
    shared: Counter[tuple[str, str]] = Counter()
    for members in fonts_by_key.values():
        if 1 < len(members) <= 64:  # a pair shared by very many fonts says nothing about any two of them
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    shared[(a, b)] += 1
    for (a, b), n in sorted(shared.items()):
        smaller = min(len(outline_keys[a]), len(outline_keys[b]))
        if smaller and n / smaller >= identity_share:
            join(a, b, "outlines", n / smaller)

    for a, b, score, letters in sorted(shape_pairs, key=lambda p: (-p[2], p[0], p[1])):
        if a in uf.parent and b in uf.parent:
            join(a, b, "shape", score, letters)

    members_of: dict[str, list[str]] = defaultdict(list)
    for font in fonts:
        members_of[uf.find(font)].append(font)
    groups: dict[str, str] = {}
    used: Counter[str] = Counter()
    for root in sorted(members_of):
        members = members_of[root]
        names = sorted(n for n in (normalize_family(family_names[f]) for f in members) if n)
        base = names[0] if names else f"font {members[0][:12]}"
        used[base] += 1
        name = base if used[base] == 1 else f"{base} #{used[base]}"
        for font in members:
            groups[font] = name
    return DesignGroups(groups, merges)


@dataclass(frozen=True)
class FontSplit:
    """Which design groups (and so which fonts) are in train, val and test."""

    seed: int
    groups: dict[str, dict[str, list[str]]]  # split -> group name -> sorted font hashes
    merges: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # group -> Merge.to_json() records

    def split_of_font(self) -> dict[str, str]:
        return {font: split for split, groups in self.groups.items() for fonts in groups.values() for font in fonts}

    def fonts_in(self, split: str) -> list[str]:
        return sorted(font for fonts in self.groups[split].values() for font in fonts)

    def check_disjoint(self) -> None:
        """Raise ValueError if any group or font hash appears in two splits."""
        for kind, extract in (("design group", lambda g: g.keys()), ("font", lambda g: (f for v in g.values() for f in v))):
            owner: dict[str, str] = {}
            for split in SPLIT_NAMES:
                for item in extract(self.groups.get(split, {})):
                    if item in owner and owner[item] != split:
                        raise ValueError(f"{kind} {item!r} is in both {owner[item]} and {split}")
                    owner[item] = split

    def to_json(self) -> str:
        summary = {
            split: {"groups": len(self.groups[split]), "fonts": len(self.fonts_in(split))} for split in SPLIT_NAMES
        }
        return json.dumps(
            {"seed": self.seed, "summary": summary, "splits": self.groups, "merges": self.merges}, indent=1, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> FontSplit:
        data = json.loads(text)
        split = cls(
            seed=int(data["seed"]), groups={s: data["splits"].get(s, {}) for s in SPLIT_NAMES}, merges=data.get("merges", {})
        )
        split.check_disjoint()
        return split


def split_groups(font_groups: Mapping[str, str], fractions: tuple[float, float, float], seed: int) -> FontSplit:
    """Shuffle design groups with ``seed`` and deal them into train/val/test by ``fractions``.

    Every non-empty split gets at least one group when there are enough groups.
    """
    names = sorted(set(font_groups.values()))
    order = np.random.default_rng(seed).permutation(len(names))
    shuffled = [names[i] for i in order]
    n = len(shuffled)
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    if n >= 3:
        n_val = max(n_val, 1 if fractions[1] > 0 else 0)
        n_test = max(n_test, 1 if fractions[2] > 0 else 0)
    n_train = max(n - n_val - n_test, 0)
    bounds = {"train": shuffled[:n_train], "val": shuffled[n_train : n_train + n_val], "test": shuffled[n_train + n_val :]}
    members: dict[str, list[str]] = defaultdict(list)
    for font, group in font_groups.items():
        members[group].append(font)
    groups = {split: {g: sorted(members[g]) for g in sorted(gs)} for split, gs in bounds.items()}
    result = FontSplit(seed=seed, groups=groups)
    result.check_disjoint()
    return result
