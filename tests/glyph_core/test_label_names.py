"""The label naming rule on hand-picked code points."""

import pytest

from glyph_core.label_names import (
    ALLAH_LABEL,
    FORMS,
    char_class_for,
    character_kind,
    is_shaped_label,
    label_for,
    ligature_label,
    name_to_label,
)
from glyph_core.schema import CHAR_CLASSES

BEH, ALEF, LAM, ALEF_HAMZA_ABOVE, TATWEEL = 0x0628, 0x0627, 0x0644, 0x0623, 0x0640


@pytest.mark.parametrize(
    ("codepoint", "form", "label"),
    [
        (BEH, "isol", "beh_isol"),
        (BEH, "init", "beh_init"),
        (BEH, "medi", "beh_medi"),
        (ALEF, "final", "alef_final"),
        (ALEF_HAMZA_ABOVE, "isol", "alef_with_hamza_above_isol"),
        (0x06A9, "init", "keheh_init"),
        (0x06CC, "final", "farsi_yeh_final"),
        (TATWEEL, "medi", "tatweel_medi"),  # "ARABIC TATWEEL" has no "LETTER"
        (0x06E5, "isol", "small_waw_isol"),
    ],
)
def test_letters_are_named_without_prefix_with_their_form(codepoint, form, label):
    assert label_for(codepoint, form) == label
    assert char_class_for(codepoint, form) == form


@pytest.mark.parametrize(
    ("codepoint", "label", "char_class"),
    [
        (0x064E, "fatha", "diacritic"),
        (0x0651, "shadda", "diacritic"),
        (0x0670, "letter_superscript_alef", "diacritic"),  # a mark whose name says LETTER
        (0x0661, "arabic_indic_digit_one", "digit"),
        (0x06F1, "extended_arabic_indic_digit_one", "digit"),
        (0x060C, "arabic_comma", "punctuation"),
        (0x061F, "arabic_question_mark", "punctuation"),
        (0x060B, "afghani_sign", "punctuation"),  # a currency symbol
        (0x0600, "arabic_number_sign", "punctuation"),  # a visible format character
        (0x0061, "latin_small_letter_a", "latin"),
        (0x0041, "latin_capital_letter_a", "latin"),
        (0x0031, "digit_one", "digit"),
    ],
)
def test_other_characters_keep_their_name(codepoint, label, char_class):
    assert label_for(codepoint) == label
    assert char_class_for(codepoint) == char_class
    assert not is_shaped_label(label)


def test_ligatures_join_letter_stems():
    assert ligature_label([LAM, ALEF], "isol") == "lam_alef_isol"
    assert ligature_label([LAM, ALEF_HAMZA_ABOVE], "final") == "lam_alef_with_hamza_above_final"
    assert ligature_label([LAM, 0x0671], "isol") == "lam_alef_wasla_isol"
    assert ALLAH_LABEL == "allah"


def test_shaped_suffixes():
    assert is_shaped_label("beh_init") and is_shaped_label("beh_medi") and is_shaped_label("alef_final")
    assert is_shaped_label("lam_alef_final")
    assert not is_shaped_label("beh_isol")
    assert not is_shaped_label("lam_alef_isol")
    assert not is_shaped_label(ALLAH_LABEL)
    assert not is_shaped_label("fatha")


def test_forms_are_required_exactly_for_letters():
    with pytest.raises(ValueError, match="needs a form"):
        label_for(BEH)
    with pytest.raises(ValueError, match="no positional forms"):
        label_for(0x064E, "isol")
    with pytest.raises(ValueError, match="at least two"):
        ligature_label([LAM], "isol")


def test_unlabelled_code_points():
    assert character_kind(0x0020) is None  # space
    assert character_kind(0x0378) is None  # unassigned
    with pytest.raises(ValueError):
        label_for(0x0020)


def test_name_to_label_collapses_separators():
    assert name_to_label("ARABIC-INDIC DIGIT ONE") == "arabic_indic_digit_one"
    assert name_to_label("  HAMZA  ABOVE ") == "hamza_above"


def test_labels_of_the_default_blocks_are_unique_and_classes_known():
    blocks = [(0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x089F), (0x08A0, 0x08FF)]
    seen: dict[str, int] = {}
    for low, high in blocks:
        for codepoint in range(low, high + 1):
            kind = character_kind(codepoint)
            if kind is None:
                continue
            forms = FORMS if kind == "letter" else (None,)
            for form in forms:
                label = label_for(codepoint, form)
                assert label not in seen, f"U+{codepoint:04X} and U+{seen[label]:04X} share {label}"
                seen[label] = codepoint
                assert char_class_for(codepoint, form) in CHAR_CLASSES
    assert len(seen) > 1000
