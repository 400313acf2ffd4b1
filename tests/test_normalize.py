"""Model normalisation and its map back to raw offsets."""

from hypothesis import given, settings
from hypothesis import strategies as st

from rasd.normalize import NormalizationConfig, normalize, normalize_word


def test_examples():
    assert normalize("قُتِلَ ٣ في «درعـــا»").text == "قتل 3 في « درعا »"
    assert normalize_word("الـمُدُنِ") == "المدن"
    assert normalize_word("ـــ") == "ـــ"  # a lone tatweel still reaches the model
    folded = NormalizationConfig(fold_alef=True, fold_yaa=True, fold_taa_marbuta=True)
    assert normalize("إلى مدينة أريحا", folded).text == "الي مدينه اريحا"
    assert normalize("ﻻ").text == "لا"


def test_span_on_normalised_text_maps_back_with_its_diacritics():
    raw = "هاجم مُسلَّحون بلدةَ جاسمٍ"
    norm = normalize(raw)
    s = norm.text.index("جاسم")
    a, b = norm.to_raw(s, s + len("جاسم"))
    assert raw[a:b] == "جاسمٍ"


text_strategy = st.text(
    alphabet=st.sampled_from(list("درعاجسمقصفلوبكأإآىة") + list(".،؛«»()/-:!") + list("0123٠١٢۳")
                             + ["\u064e", "\u0651", "\u0652", "\u0640", " ", "\n", "ﻻ", "ﷺ", "a"]),
    max_size=60)


@settings(max_examples=400, deadline=None)
@given(text_strategy, st.data(), st.booleans())
def test_any_normalised_span_maps_back_exactly(raw, data, spacing):
    config = NormalizationConfig(space_punctuation=spacing, fold_alef=True)
    norm = normalize(raw, config)
    n = len(norm.text)
    assert len(norm.raw_starts) == len(norm.raw_ends) == n
    assert list(norm.raw_starts) == sorted(norm.raw_starts)
    if n == 0:
        return
    s = data.draw(st.integers(0, n - 1))
    e = data.draw(st.integers(s + 1, n))
    a, b = norm.to_raw(s, e)
    assert 0 <= a <= b <= len(raw)
    target = norm.text[s:e].replace(" ", "")
    # The raw span normalises to (at least) the normalised span: nothing lost, offsets exact.
    assert target in normalize(raw[a:b], config).text.replace(" ", "")
