"""Spans ↔ IOB2 tags, including the proclitic rule."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasd.iob import SpanConflictError, proclitic_length, spans_to_tags, tags_to_spans, word_spans_to_chars
from rasd.text import tokenize


def test_proclitic_start_tags_the_whole_word_and_decodes_back():
    text = "قصفت القوات بالضفة والجيش السوري"
    words = tokenize(text)
    spans = [(text.index("الضفة"), text.index("الضفة") + 5, "LOC"),
             (text.index("الجيش"), len(text), "ORG")]
    tags = spans_to_tags(words, spans)
    assert tags == ["O", "O", "B-LOC", "B-ORG", "I-ORG"]
    assert word_spans_to_chars(text, words, tags_to_spans(tags)) == spans


def test_conflicting_spans_on_one_word_are_an_error():
    words = [(0, 6)]
    with pytest.raises(SpanConflictError):
        spans_to_tags(words, [(0, 2, "PER"), (3, 6, "LOC")])


@pytest.mark.parametrize("word,n", [("بالضفة", 1), ("وبالضفة", 2), ("للنظام", 1), ("ولليوم", 2),
                                    ("الجيش", 0), ("وليد", 0), ("لبنان", 0), ("بغداد", 0)])
def test_proclitic_length(word, n):
    assert proclitic_length(word) == n


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["O", "PER", "LOC", "DATE"]), st.booleans()),
                min_size=1, max_size=30))
def test_word_aligned_spans_round_trip(plan):
    # Build a text of words; group consecutive labelled words into spans (a flag starts a new one).
    words, spans, pos, current = [], [], 0, None
    for length, label, new in plan:
        words.append((pos, pos + length))
        if label == "O":
            current = None
        elif current is not None and current[2] == label and not new:
            current[1] = pos + length
        else:
            current = [pos, pos + length, label]
            spans.append(current)
        pos += length + 1
    spans = [tuple(s) for s in spans]
    text = " ".join("س" * (b - a) for a, b in words)
    tags = spans_to_tags(words, spans)
    assert word_spans_to_chars(text, words, tags_to_spans(tags)) == sorted(spans)
