"""The label naming rule: how a character (in a positional form) or a ligature is named and classed.

Labels come from Unicode character names so they read well and stay the same across fonts and runs:

- Arabic letters, in each positional form: ``beh_isol``, ``beh_init``, ``beh_medi``, ``alef_final``
  (the name without "ARABIC LETTER ", lowercased, runs of other characters turned into "_", plus the
  form). Letters named without "LETTER" (tatweel, small waw) drop "ARABIC ": ``tatweel_isol``.
- Ligatures: the letter stems joined, plus the form: ``lam_alef_isol``,
  ``lam_alef_with_hamza_above_final``; the Allah ligature is ``allah``.
- Marks (diacritics) drop "ARABIC ": ``fatha``, ``shadda``.
- Everything else keeps its full name: ``arabic_indic_digit_one``, ``extended_arabic_indic_digit_one``,
  ``arabic_comma``, ``latin_small_letter_a``, ``digit_one``.

Names come from Python's ``unicodedata``; a code point it does not name has no label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

Form = Literal["isol", "init", "medi", "final"]
CharacterKind = Literal["letter", "diacritic", "digit", "punctuation", "latin"]

FORMS: tuple[Form, ...] = ("isol", "init", "medi", "final")
SHAPED_FORMS: tuple[Form, ...] = ("init", "medi", "final")
"""Contextual forms; docs/data.md may drop them when only the abstract (isolated) forms are wanted."""

ALLAH_LABEL = "allah"
LIGATURE_CLASS = "ligature"

_LETTER_PREFIXES = ("ARABIC LETTER ", "ARABIC ")
_MARK_PREFIXES = ("ARABIC ",)
_SHAPED_SUFFIXES = tuple(f"_{form}" for form in SHAPED_FORMS)
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def name_to_label(name: str) -> str:
    """A Unicode name (or part of one) as a label: lowercase, other characters collapsed to "_"."""
    return _NOT_ALPHANUMERIC.sub("_", name.lower()).strip("_")


def _unicode_name(codepoint: int) -> str:
    name = unicodedata.name(chr(codepoint), "")
    if not name:
        raise ValueError(f"U+{codepoint:04X} has no Unicode name (unicodedata {unicodedata.unidata_version})")
    return name


def _strip_prefix(name: str, prefixes: Sequence[str]) -> str:
    for prefix in prefixes:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def character_kind(codepoint: int) -> CharacterKind | None:
    """What a character is for labelling; None for spaces, controls and unassigned code points.

    Letters of any script but Latin are shaped into positional forms; marks are diacritics; decimal
    digits of any script are digits; punctuation, symbols and visible format characters (such as
    U+0600 ARABIC NUMBER SIGN) are punctuation.
    """
    category = unicodedata.category(chr(codepoint))
    if category.startswith("M"):
        return "diacritic"
    if category == "Nd":
        return "digit"
    if category.startswith("L"):
        return "latin" if unicodedata.name(chr(codepoint), "").startswith("LATIN ") else "letter"
    if category.startswith(("P", "S")) or category == "Cf":
        return "punctuation"
    return None


def letter_stem(codepoint: int) -> str:
    """A letter's label without its form: ``beh``, ``alef_with_hamza_above``, ``tatweel``."""
    return name_to_label(_strip_prefix(_unicode_name(codepoint), _LETTER_PREFIXES))


def _letter_form(codepoint: int, form: Form | None, what: str) -> Form:
    """``form`` if it is a positional form, else the error a letter without one deserves."""
    if form not in FORMS:
        raise ValueError(f"U+{codepoint:04X} is a letter: its {what} needs a form out of {FORMS}, got {form!r}")
    return form  # type: ignore[return-value]


def label_for(codepoint: int, form: Form | None = None) -> str:
    """The label of one character; letters need their positional ``form``, other characters take none."""
    kind = character_kind(codepoint)
    if kind is None:
        raise ValueError(f"U+{codepoint:04X} is not a letter, mark, digit or punctuation")
    if kind == "letter":
        return f"{letter_stem(codepoint)}_{_letter_form(codepoint, form, 'label')}"
    if form is not None:
        raise ValueError(f"U+{codepoint:04X} is a {kind}: it has no positional forms (got {form!r})")
    name = _unicode_name(codepoint)
    if kind == "diacritic":
        name = _strip_prefix(name, _MARK_PREFIXES)
    return name_to_label(name)


def ligature_label(codepoints: Sequence[int], form: Form) -> str:
    """The label of a ligature of letters in one form: ``lam_alef_isol``, ``lam_alef_with_madda_above_final``."""
    if len(codepoints) < 2:
        raise ValueError("a ligature joins at least two letters")
    if form not in FORMS:
        raise ValueError(f"ligature form must be one of {FORMS}, got {form!r}")
    return "_".join(letter_stem(cp) for cp in codepoints) + f"_{form}"


def char_class_for(codepoint: int, form: Form | None = None) -> str:
    """The ``char_class`` of one character: its form for letters, otherwise its kind (see CHAR_CLASSES)."""
    kind = character_kind(codepoint)
    if kind is None:
        raise ValueError(f"U+{codepoint:04X} has no char_class")
    if kind == "letter":
        return _letter_form(codepoint, form, "class")
    return kind


def is_shaped_label(label: str) -> bool:
    """True for contextual forms (``_init``, ``_medi``, ``_final``), letters and ligatures alike."""
    return label.endswith(_SHAPED_SUFFIXES)
