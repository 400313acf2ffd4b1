"""Sentence segmentation and word tokenisation: examples and offset properties."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from rasd.text import segment, split_sentences, tokenize


def sentences(text):
    return [text[a:b] for a, b in split_sentences(text)]


def words(text):
    return [text[a:b] for a, b in tokenize(text)]


def test_sentence_punctuation_and_lines():
    text = "عاجل\nاشتباكات في درعا. وقصف على جاسم! هل انتهى؟ نعم…\n\nالخبر التالي"
    assert sentences(text) == ["عاجل", "اشتباكات في درعا.", "وقصف على جاسم!", "هل انتهى؟", "نعم…",
                               "الخبر التالي"]


def test_no_split_inside_dates_times_decimals_initials_urls():
    text = "وقع في 2022.10.25 الساعة 12:48 بنسبة 3.5 بالمئة حسب د. محمد و J. Smith في https://x.org/a.b ثم انتهى."
    assert sentences(text) == [text]


def test_split_before_glued_arabic_and_after_closing_quote():
    assert sentences("انتهى الهجوم.وقال المصدر") == ["انتهى الهجوم.", "وقال المصدر"]
    assert sentences("قال «انتهى.» ثم غادر") == ["قال «انتهى.»", "ثم غادر"]


def test_word_tokenisation():
    assert words("بالضفة، في 2022م (12:48)") == ["بالضفة", "،", "في", "2022", "م", "(", "12:48", ")"]
    assert words("«درعا»/جاسم - طفس") == ["«", "درعا", "»", "/", "جاسم", "-", "طفس"]
    # NBSP, zero-width space, RLM and bidi isolates separate words.
    assert words("درعا\u00a0جاسم\u200bطفس\u200fنوى\u2067بصرى\u2069") == ["درعا", "جاسم", "طفس", "نوى", "بصرى"]
    # tashkeel and tatweel stay in their word; Hindi digits form numbers.
    assert words("قُتِلَ الـمدنيون ٣٠ شخصاً") == ["قُتِلَ", "الـمدنيون", "٣٠", "شخصاً"]
    assert words("انظر http://aja.me/x4kg.") == ["انظر", "http://aja.me/x4kg", "."]


def test_segment_words_are_inside_their_sentence():
    text = "هجوم في درعا. اعتقال شخصين"
    for sent in segment(text):
        assert all(sent.start <= a < b <= sent.end for a, b in sent.words)


arabic_ish = st.text(
    alphabet=st.sampled_from(list("درعاجسمقصفلوبكالتة") + list(".!?؟…،؛«»()/-:٫") + list("0123456789٠١٢")
                             + ["\u064e", "\u0651", "\u0640", " ", "\n", "\u00a0", "\u200b", "\u200f", "a", "Z"]),
    max_size=120)


@settings(max_examples=300, deadline=None)
@given(st.one_of(arabic_ish, st.text(max_size=80)))
def test_offsets_cover_all_non_space_text(text):
    sents = split_sentences(text)
    covered = set()
    last_end = 0
    for a, b in sents:
        assert last_end <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
        last_end = b
        for wa, wb in tokenize(text, a, b):
            assert a <= wa < wb <= b
            assert not any(c.isspace() for c in text[wa:wb])
            covered.update(range(wa, wb))
    for i, ch in enumerate(text):
        if i not in covered:
            assert ch.isspace() or unicodedata.category(ch) == "Cf", (i, ch)
