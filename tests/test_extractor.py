"""The Extractor: offsets into the caller's string, whole documents, bad input, determinism."""

import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rasd
import rasd.loading
from rasd.errors import InputError
from rasd.loading import ModelLoadError


@pytest.fixture(scope="module")
def extractor(random_model_dir):
    return rasd.Extractor.from_pretrained(random_model_dir)


def check_offsets(text, doc):
    for e in doc.entities:
        assert text[e.start:e.end] == e.text and e.text.strip() == e.text and e.text
    covered = set()
    for s in doc.sentences:
        assert 0 <= s.start < s.end <= len(text)
        covered.update(range(s.start, s.end))
    # Sentences cover every character that is not white space or an invisible control.
    for i, ch in enumerate(text):
        if i not in covered:
            assert ch.isspace() or __import__("unicodedata").category(ch) == "Cf"
    sentence_spans = {(s.start, s.end) for s in doc.sentences}
    for ev in doc.events:
        assert (ev.start, ev.end) in sentence_spans
        for arg in ev.dates + ev.locations + ev.actors + ev.weapons:
            assert ev.start <= arg.start < arg.end <= ev.end and text[arg.start:arg.end] == arg.text
    for inc in doc.incidents:
        assert all(span in sentence_spans for span in inc.sentences)


def test_real_articles(extractor, root):
    for path in sorted((root / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        doc = extractor(text)
        assert doc.entities and doc.events  # the random model predicts plenty
        check_offsets(text, doc)
        json.dumps(doc.to_dict(), ensure_ascii=False)


SPECIAL = ["قُتِلَ", "الـمدينة", "٢٠٢٢", "\u00a0", "\u200f", "\u200b", "«", "»", "،", "؟", "\n", " ", "ـ",
           "ﻻ", "Daraa", "2022.10.25", "12:48", "#درعا", "▶️", "https://x.org/a", "ً", "…"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(SPECIAL), st.sampled_from(["درعا", "جاسم", "قوات", "النظام", "اشتباكات"]),
                          st.text(max_size=6)), max_size=60))
def test_offsets_on_random_text(extractor, parts):
    text = " ".join(parts)
    check_offsets(text, extractor(text))


def test_empty_and_blank_texts(extractor):
    for text in ("", "   \n\u00a0 "):
        doc = extractor(text)
        assert doc.entities == () and doc.sentences == () and doc.events == () and doc.windowing.windows == 0


def test_non_arabic_text_works(extractor):
    text = "Clashes erupted in Daraa on 25 October 2022. 本日は晴天。"
    check_offsets(text, extractor(text))


def test_batch_equals_single_and_is_deterministic(extractor, root):
    texts = [p.read_text(encoding="utf-8") for p in sorted((root / "seeds").glob("*.txt"))][:3]
    batch = extractor(texts, ids=["a", "b", "c"])
    assert [d.id for d in batch] == ["a", "b", "c"]
    for text, doc in zip(texts, batch):
        single = extractor(text)
        assert [(e.start, e.end, e.label) for e in single.entities] == [(e.start, e.end, e.label) for e in doc.entities]
        assert [(v.start, v.sub_event_type) for v in single.events] == [(v.start, v.sub_event_type) for v in doc.events]
        again = extractor(text)
        assert again.to_dict() == single.to_dict()


def test_entity_at_the_end_of_a_20000_word_document_is_reached(extractor):
    from rasd.inference import Engine

    filler = "وقالت المصادر إن الوضع في المنطقة هادئ نسبيا اليوم "
    body = (filler * 2000).strip()  # 20,000 words, no sentence punctuation: one giant sentence
    text = body + ". واعتقلت قوات النظام أحمد العلي في درعا"
    doc = extractor(text)
    check_offsets(text, doc)
    assert doc.windowing.split_sentences >= 1
    last = doc.sentences[-1]
    assert text[last.start:last.end] == "واعتقلت قوات النظام أحمد العلي في درعا"
    engine = Engine(extractor.model, extractor.tokenizer, max_length=64, stride=8, context=8)
    words = [[text[a:b] for a, b in s.words] for s in rasd.text.segment(text)] if hasattr(rasd, "text") else None
    from rasd.text import segment

    words = [[text[a:b] for a, b in s.words] for s in segment(text)]
    [out] = engine.run([words])
    n_words = sum(len(s) for s in words)
    assert out.word_probs.shape[0] == n_words and out.words_without_tokens == 0
    # The last word's probabilities come from the model, not from the "no sub-token" default.
    assert out.word_probs[-1].max() < 0.999999
    assert out.sentence_probs[-1].sum() > 0


def test_one_megabyte_text_in_bounded_memory(random_model_dir):
    # In a fresh process: ru_maxrss is a process-wide peak, so in this one any earlier test that
    # peaked higher would hide whatever this text costs.
    code = f"""
import resource, rasd
extractor = rasd.Extractor.from_pretrained({str(random_model_dir)!r})
extractor("اشتباكات في درعا")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
text = ("اندلعت اشتباكات عنيفة في مدينة جاسم بريف درعا الشمالي. " * 10000)[:1_000_000]
doc = extractor(text)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(len(doc.sentences), round(grown))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    sentences, grown_mb = int(out[-2]), int(out[-1])
    assert sentences >= 9999
    assert grown_mb < 1500, f"peak RSS grew by {grown_mb} MB"


def test_reduced_precision_modes_run(random_model_dir, root):
    text = (root / "seeds" / "000_8ab75e0a9fac7d4a.txt").read_text(encoding="utf-8")
    for dtype in ("bfloat16", "int8"):
        ex = rasd.Extractor.from_pretrained(random_model_dir, dtype=dtype)
        assert ex.dtype == dtype
        check_offsets(text, ex(text))
    with pytest.raises(ValueError, match="float16 is for GPUs"):
        rasd.Extractor.from_pretrained(random_model_dir, dtype="float16", device="cpu")


@pytest.mark.parametrize("damage,needle", [
    (lambda d: (d / "config.json").unlink(), "config.json: missing"),
    (lambda d: (d / "config.json").write_text("{not json"), "config.json: not valid JSON"),
    (lambda d: (d / "model.safetensors").write_bytes(b"\x00" * 64), "model.safetensors: cannot load the weights"),
    (lambda d: (d / "model.safetensors").rename(d / "pytorch_model.bin"), "pickled weights are not loaded"),
    (lambda d: (d / "tokenizer.json").unlink(), "no tokenizer file"),
])
def test_corrupt_model_folder_names_the_file(random_model_dir, tmp_path, damage, needle):
    broken = tmp_path / "broken"
    shutil.copytree(random_model_dir, broken)
    damage(broken)
    with pytest.raises(ModelLoadError, match=None) as exc:
        rasd.Extractor.from_pretrained(broken)
    assert needle in str(exc.value) and str(broken) in str(exc.value)


def test_not_a_model_path(no_hub):
    with pytest.raises(ModelLoadError, match="no such folder"):
        rasd.Extractor.from_pretrained("./no/such/folder")


def test_a_missing_local_folder_with_one_slash_is_not_a_hub_id(tmp_path, monkeypatch, no_hub):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    assert not rasd.loading._is_hub_id("runs/model") and rasd.loading._is_hub_id("someone/model")
    with pytest.raises(ModelLoadError, match="runs/model: no such folder"):
        rasd.Extractor.from_pretrained("runs/model")
    with pytest.raises(ModelLoadError, match="no such folder"):
        rasd.loading.read_config("runs/model")


def test_import_rasd_is_light():
    code = ("import sys, time; t = time.perf_counter(); import rasd; dt = time.perf_counter() - t; "
            "heavy = [m for m in ('torch', 'transformers', 'datasets', 'seqeval', 'accelerate') if m in sys.modules]; "
            "print(heavy, dt)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("[]"), out


@pytest.mark.skipif(not __import__("torch").backends.mkldnn.is_available(), reason="torch built without MKLDNN")
def test_onednn_linear_matches_the_default_kernel(random_model_dir, root):
    text = (root / "seeds" / "001_b5c88ed446449b8e.txt").read_text(encoding="utf-8")
    fast = rasd.Extractor.from_pretrained(random_model_dir)  # oneDNN on by default on a CPU in fp32
    plain = rasd.Extractor.from_pretrained(random_model_dir, onednn=False)
    assert any(type(m).__name__ == "OneDNNLinear" for m in fast.model.modules())
    assert not any(type(m).__name__ == "OneDNNLinear" for m in plain.model.modules())
    a, b = fast(text), plain(text)
    assert [(e.start, e.end, e.label) for e in a.entities] == [(e.start, e.end, e.label) for e in b.entities]
    for x, y in zip(a.entities, b.entities):
        assert abs(x.score - y.score) < 1e-4


def test_int8_keeps_heads_and_down_projections_in_float(random_model_dir):
    ex = rasd.Extractor.from_pretrained(random_model_dir, dtype="int8")
    dynamic = {n for n, m in ex.model.named_modules() if type(m).__module__.startswith("torch.ao.nn.quantized.dynamic")}
    assert "encoder.encoder.layer.0.intermediate.dense" in dynamic
    assert "encoder.encoder.layer.0.attention.self.query" in dynamic
    # The feed-forward down-projection (64 → 32 here) and the two heads stay in float.
    assert "encoder.encoder.layer.0.output.dense" not in dynamic
    assert not {"token_classifier", "incident_classifier"} & dynamic


def test_batch_size_of_one_call_does_not_stick(extractor, root):
    text = (root / "seeds" / "000_8ab75e0a9fac7d4a.txt").read_text(encoding="utf-8")
    before = extractor.engine.batch_size
    with_two = extractor(text, batch_size=2)
    assert extractor.engine.batch_size == before
    assert [(e.start, e.label) for e in with_two.entities] == [(e.start, e.label) for e in extractor(text).entities]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="batch_size"):
            extractor(text, batch_size=bad)


@pytest.mark.parametrize("texts,needle", [(None, "got NoneType"), (123, "got int"), (b"\xd8\xaf", "got bytes"),
                                          (["ok", 5], "text #1 is int"), ([b"x"], "decode it first")])
def test_texts_that_are_not_strings_get_a_clear_error(extractor, texts, needle):
    with pytest.raises(InputError, match=needle):
        extractor(texts)


@pytest.mark.parametrize("bad", [None, 123, b"runs/x", ""])
def test_from_pretrained_needs_a_path_or_hub_id(bad):
    with pytest.raises(InputError, match="model folder or a Hub id"):
        rasd.Extractor.from_pretrained(bad)


def test_extractor_needs_a_loaded_model():
    import torch

    with pytest.raises(InputError, match="from_pretrained"):
        rasd.Extractor(None, None, torch.device("cpu"), "float32")


@pytest.mark.parametrize("kwargs,needle", [({"context": -5}, "context"), ({"batch_size": 0}, "batch_size"),
                                           ({"context": 10_000}, "context must be an integer in"),
                                           ({"device": "banana"}, "unknown device 'banana'")])
def test_bad_settings_are_rejected(random_model_dir, kwargs, needle):
    with pytest.raises(InputError, match=needle):
        rasd.Extractor.from_pretrained(random_model_dir, **kwargs)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error(random_model_dir):
    with pytest.raises(InputError, match="CUDA is not available"):
        rasd.Extractor.from_pretrained(random_model_dir, device="cuda")


def test_unsupported_torch_dtype_is_an_input_error():
    import torch

    from rasd.precision import resolve_dtype

    with pytest.raises(InputError, match="unsupported dtype torch.float64"):
        resolve_dtype(torch.float64, torch.device("cpu"))
    assert resolve_dtype(torch.bfloat16, torch.device("cpu")) == "bfloat16"


def test_texts_without_arabic_letters_say_so(extractor):
    from rasd.extractor import EMPTY, NO_ARABIC

    assert extractor("Clashes in Daraa 🙂").warnings == (NO_ARABIC,)
    assert extractor("🙂🙂").to_dict()["warnings"] == [NO_ARABIC]
    assert extractor("  ").warnings == (EMPTY,)
    assert extractor("اشتباكات في درعا").warnings == ()


def test_a_custom_entity_label_goes_to_other_entities(tmp_path):
    """A model with a sixth entity label (VEHICLE): events keep it instead of raising KeyError."""
    import torch
    from transformers import BertConfig

    from rasd.modeling import RasdConfig, RasdModel
    from tests.conftest import make_random_model

    folder = make_random_model(tmp_path / "base")
    base = RasdModel.from_pretrained(folder)
    labels = ["PER", "ORG", "LOC", "DATE", "WEAPON", "VEHICLE"]
    tags = ["O"] + [f"{p}-{t}" for t in labels for p in "BI"]
    encoder = BertConfig(**base.config.encoder.to_dict())
    config = RasdConfig(encoder=encoder, base_model="custom", entity_labels=labels, tags=tags, max_length=64, stride=8)
    model = RasdModel(config)
    model.encoder.load_state_dict(base.encoder.state_dict())
    with torch.no_grad():  # every word is a VEHICLE, every sentence an incident
        model.token_classifier.weight.zero_()
        model.token_classifier.bias.zero_()
        model.token_classifier.bias[tags.index("B-VEHICLE")] = 10.0
        model.incident_classifier.weight.zero_()
        model.incident_classifier.bias.fill_(10.0)
    model.save_pretrained(tmp_path / "custom")
    shutil.copy(folder / "tokenizer.json", tmp_path / "custom")
    shutil.copy(folder / "tokenizer_config.json", tmp_path / "custom")
    doc = rasd.Extractor.from_pretrained(tmp_path / "custom")("اشتباكات في درعا")
    assert doc.entities and {e.label for e in doc.entities} == {"VEHICLE"}
    assert doc.events and all(ev.other_entities and not ev.actors for ev in doc.events)
    assert doc.to_dict()["events"][0]["other_entities"][0]["label"] == "VEHICLE"
    from rasd.html_view import render_html

    assert "<th>كيانات أخرى</th>" in render_html([doc])


@pytest.mark.parametrize("capability,isa,expected", [
    ("AVX2", ("AVX2",), "float32"),
    ("AVX512", ("AVX2", "AVX-512", "AVX-512 VNNI"), "float32"),
    ("AVX512", ("AVX2", "AVX-512", "AVX-512 VNNI", "AVX-512 BF16"), "bfloat16"),
    ("AVX512", ("AVX2", "AVX-512", "AMX INT8", "AMX BF16"), "bfloat16"),
])
def test_auto_picks_bf16_only_with_native_bf16_and_says_why(monkeypatch, capability, isa, expected):
    import torch

    import rasd.precision as precision

    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(precision, "cpu_isa", lambda: isa)
    dtype, reason = precision.auto_precision(torch.device("cpu"))
    assert dtype == expected and precision.resolve_dtype("auto", torch.device("cpu")) == expected
    assert ", ".join(isa) in reason
    assert ("no native bf16" in reason) == (expected == "float32")
