"""Windows over whole documents: nothing lost, budgets kept, words never cut (but giant words)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from rasd.windows import make_units, pack

docs = st.lists(st.lists(st.lists(st.integers(1, 99), min_size=1, max_size=4), min_size=1, max_size=30),
                min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(docs, st.integers(4, 40), st.integers(0, 10), st.integers(0, 30))
def test_every_subtoken_is_in_a_window_within_budget(sentences, budget, stride, context):
    stride = min(stride, budget - 1)
    units = make_units(sentences, budget, stride)
    plans = pack(units, budget, context)
    n_words = sum(len(s) for s in sentences)
    seen_words = {w for u in units for w in u.token_words}
    assert seen_words == set(range(n_words))
    firsts = [w for u in units for w, f in zip(u.token_words, u.first) if f]
    assert set(firsts) == set(range(n_words))  # every word's first sub-token is somewhere
    for u in units:
        assert 1 <= len(u) <= budget
    cores = [i for p in plans for i in p.core]
    assert cores == list(range(len(units)))  # each unit is core exactly once, in order
    for p in plans:
        assert sum(len(units[i]) for i in p.units) <= budget
        assert sum(len(units[i]) for i in p.context) <= context


def test_long_sentence_pieces_overlap_on_word_boundaries():
    sentence = [[10 * i, 10 * i + 1] for i in range(10)]  # 10 words of 2 sub-tokens
    units = make_units([sentence], budget=6, stride=2)
    assert [u.token_words[0] for u in units] == [0, 2, 4, 6, 8]
    for u in units:
        assert u.first[0]  # each piece starts at a word start


def test_training_and_inference_frame_the_same_windows(random_model_dir, root):
    """encode_split (training) and Engine (inference, no context) give identical windows."""
    from rasd.inference import Engine
    from rasd.loading import load_model_and_tokenizer
    from training.builder import BuildOptions, InputSpec, build
    from training.features import WindowCollator, encode_split

    model, tokenizer = load_model_and_tokenizer(random_model_dir)
    rows = build([InputSpec(root / "seeds" / "annotations.jsonl")], BuildOptions(0.0, 0.0)).dataset["train"]
    rows = rows.filter(lambda r: r["doc_id"] == rows[0]["doc_id"]).to_dict()
    train_windows = encode_split(rows, tokenizer, max_length=64, stride=8)
    engine = Engine(model, tokenizer, max_length=64, stride=8, context=0)
    order = sorted(range(len(rows["doc_id"])), key=lambda i: rows["sentence_index"][i])
    _, infer_windows = engine.windows([[rows["tokens"][i] for i in order]])
    assert len(train_windows) == len(infer_windows) > 3
    for t, w in zip(train_windows, infer_windows):
        assert t["input_ids"] == w.ids and t["sentence_ids"] == w.sentence_ids
        assert len(t["labels"]) == len(t["input_ids"])
    batch = WindowCollator(tokenizer.pad_token_id)(train_windows[:4])
    assert batch["input_ids"].shape == batch["labels"].shape == batch["sentence_ids"].shape
    assert (batch["attention_mask"].sum(1).tolist() == [len(t["input_ids"]) for t in train_windows[:4]])
