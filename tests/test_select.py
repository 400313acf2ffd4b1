"""Uncertainty sampling (`python -m training select`): the measures, the greedy diversity pick, the command."""

import json

import numpy as np
import pytest

from rasd.errors import InputError
from training.cli import main as training_main
from training.select import (
    SelectConfig,
    choose,
    document_uncertainty,
    incident_uncertainty,
    tfidf_vectors,
    top_k_mean,
    word_uncertainty,
)

# ---------------------------------------------------------------- the measures


@pytest.mark.parametrize("t", [0.5, 0.3, 0.8])
def test_incident_margin_is_one_at_the_threshold_and_zero_when_certain(t):
    u = incident_uncertainty(np.array([[t], [0.0], [1.0]]), np.array([t]), "margin")
    assert u.tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_incident_margin_scales_each_side_of_the_threshold_by_its_room():
    # t = 0.2: 0.1 is halfway down to 0, 0.6 halfway up to 1.
    u = incident_uncertainty(np.array([[0.1], [0.6]]), np.array([0.2]), "margin")
    assert u.tolist() == pytest.approx([0.5, 0.5])


def test_incident_margin_survives_degenerate_thresholds():
    u = incident_uncertainty(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0.0, 1.0]), "margin")
    assert np.isfinite(u).all() and ((0 <= u) & (u <= 1)).all()


def test_incident_entropy_is_one_bit_at_half_and_exactly_zero_at_zero_and_one():
    u = incident_uncertainty(np.array([[0.5], [0.0], [1.0]]), np.array([0.3]), "entropy")
    assert u.tolist() == [1.0, 0.0, 0.0]


def test_a_sentence_takes_its_closest_call():
    u = incident_uncertainty(np.array([[0.0, 0.5, 1.0]]), np.array([0.5, 0.5, 0.5]), "margin")
    assert u.tolist() == [1.0]


def test_no_sentences_or_no_incident_types_give_no_uncertainty():
    assert incident_uncertainty(np.zeros((0, 3)), np.full(3, 0.5)).shape == (0,)
    assert incident_uncertainty(np.zeros((2, 0)), np.zeros(0)).tolist() == [0.0, 0.0]


def test_word_margin_and_entropy_edge_cases():
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.7, 0.2, 0.1]])
    assert word_uncertainty(probs, "margin").tolist() == pytest.approx([0.0, 1.0, 1.0, 0.5])
    entropy = word_uncertainty(probs, "entropy")
    assert entropy[0] == pytest.approx(0.0, abs=1e-9) and entropy[2] == pytest.approx(1.0)
    assert 0 < entropy[1] < 1 and 0 < entropy[3] < 1
    assert word_uncertainty(np.zeros((0, 5))).shape == (0,)
    assert word_uncertainty(np.ones((2, 1)), "entropy").tolist() == [0.0, 0.0]


def test_unknown_measure_is_refused():
    with pytest.raises(InputError, match="measure"):
        word_uncertainty(np.ones((1, 2)) / 2, "variance")
    with pytest.raises(InputError, match="measure"):
        SelectConfig(measure="variance")


def test_top_k_mean_and_document_uncertainty():
    assert top_k_mean(np.array([0.1, 0.9, 0.5]), 2) == pytest.approx(0.7)
    assert top_k_mean(np.array([0.4]), 5) == pytest.approx(0.4)
    assert top_k_mean(np.zeros(0), 5) == 0.0
    words = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])       # word uncertainties 1, 0
    sentences = np.array([[0.5], [0.0]])                       # sentence uncertainties 1, 0
    u = document_uncertainty(words, sentences, np.array([0.5]), SelectConfig(top_k=1, incident_weight=0.25))
    assert (u.incidents, u.entities, u.total) == (1.0, 1.0, 1.0)
    u = document_uncertainty(words, sentences, np.array([0.5]), SelectConfig(top_k=2, incident_weight=0.25))
    assert (u.incidents, u.entities, u.total) == (0.5, 0.5, 0.5)


@pytest.mark.parametrize("bad", [{"n": 0}, {"top_k": 0}, {"incident_weight": 1.5}, {"diversity": -0.1}])
def test_config_refuses_bad_values(bad):
    with pytest.raises(InputError):
        SelectConfig(**bad)


# ---------------------------------------------------------------- the greedy pick

BASE = "قصفت قوات النظام بالمدفعية الثقيلة مدينة جاسم في ريف درعا الشمالي صباح اليوم"
NEAR_DUPLICATE = BASE + " بحسب مصادر محلية"
DIFFERENT = "وقعت اللجنة المركزية اتفاق تسوية جديد مع الفصائل المحلية في مدينة طفس"


def test_a_near_duplicate_loses_to_a_different_document():
    x = tfidf_vectors([BASE, NEAR_DUPLICATE, DIFFERENT])
    # The near-duplicate is a little more uncertain than the different document, and still loses.
    picks = choose(np.array([0.9, 0.85, 0.8]), x, n=2, diversity=0.5)
    assert [i for i, _, _ in picks] == [0, 2]
    assert picks[0][1] == 0.0 and picks[1][1] < 0.2
    # Without the diversity term it is pure ranking.
    assert [i for i, _, _ in choose(np.array([0.9, 0.85, 0.8]), x, n=2, diversity=0.0)] == [0, 1]


def test_choose_scores_and_ties_go_to_the_earlier_document():
    x = np.eye(3)
    picks = choose(np.array([0.5, 0.5, 0.5]), x, n=3, diversity=0.5)
    assert picks == [(0, 0.0, 0.5), (1, 0.0, 0.5), (2, 0.0, 0.5)]
    picks = choose(np.array([0.9, 0.9, 0.1]), np.array([[1.0, 0], [1.0, 0], [0, 1.0]]), n=3, diversity=0.5)
    assert picks == [(0, 0.0, 0.9), (1, 1.0, 0.4), (2, 0.0, 0.1)]


def test_choose_with_n_above_the_pool_returns_every_row_once():
    picks = choose(np.array([0.2, 0.7]), np.eye(2), n=10, diversity=0.5)
    assert sorted(i for i, _, _ in picks) == [0, 1]


def test_tfidf_of_texts_without_words_does_not_fail():
    x = tfidf_vectors(["ا", "؟"])
    assert x.shape[0] == 2 and x.nnz == 0


# ---------------------------------------------------------------- the command


@pytest.fixture()
def pool(tmp_path, root):
    """Seven documents: the five seeds, a near-duplicate of the first, and a short unrelated one."""
    seeds = sorted((root / "seeds").glob("*.txt"))
    rows = [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in seeds]
    rows.append({"id": "dup", "text": rows[0]["text"] + "\nالمصدر: وكالات", "date": "2022-10-26"})
    rows.append({"id": "short", "text": "اعتقلت دورية أمنية شابين في مدينة نوى"})
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _select(model, pool, *extra):
    return training_main(["select", "--model", str(model), "--pool", str(pool), "--quiet", *extra])


def test_select_jsonl_is_ranked_deterministic_and_complete(random_model_dir, pool, tmp_path, capsys):
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert _select(random_model_dir, pool, "--n", "3", "--out", str(out1)) == 0
    assert _select(random_model_dir, pool, "--n", "3", "--out", str(out2)) == 0
    assert out1.read_bytes() == out2.read_bytes()
    rows = [json.loads(line) for line in out1.read_text(encoding="utf-8").splitlines()]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert len({r["id"] for r in rows}) == 3
    source = {json.loads(line)["id"]: json.loads(line) for line in pool.read_text(encoding="utf-8").splitlines()}
    for r in rows:
        assert r["text"] == source[r["id"]]["text"]
        assert set(r) >= {"uncertainty", "incident_uncertainty", "entity_uncertainty", "redundancy",
                          "selection_score"}
        assert 0 <= r["uncertainty"] <= 1 and 0 <= r["redundancy"] <= 1
        assert r["selection_score"] == pytest.approx(r["uncertainty"] - 0.5 * r["redundancy"], abs=1e-5)
    assert rows[0]["redundancy"] == 0.0
    # Greedy: each pick had the best selection score left, so the scores never rise.
    scores = [r["selection_score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert "3 of 7 document(s) chosen (jsonl)" in capsys.readouterr().err


def test_select_keeps_near_duplicates_apart(random_model_dir, pool, capsys):
    assert _select(random_model_dir, pool, "--n", "7", "--diversity", "5") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 7
    # With a heavy diversity weight, whichever of the first seed and its copy comes second comes last.
    later = max(ids.index("dup"), ids.index("000_8ab75e0a9fac7d4a"))
    assert later == len(ids) - 1, ids
    assert rows[later]["redundancy"] > 0.9
    assert all(r["redundancy"] < 0.5 for r in rows[:later])
    dup_row = next(r for r in rows if r["id"] == "dup")
    assert dup_row["date"] == "2022-10-26"


def test_select_n_above_the_pool_takes_all_and_says_so(random_model_dir, pool, capsys):
    assert _select(random_model_dir, pool, "--n", "100") == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 7
    assert "--n 100 but the pool holds 7 document(s)" in captured.err


def test_select_labelstudio_tasks(random_model_dir, pool, tmp_path, capsys):
    out = tmp_path / "batch.json"  # .json: Label Studio tasks by default
    assert _select(random_model_dir, pool, "--n", "2", "--out", str(out)) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert len(tasks) == 2
    ranked = tmp_path / "ranked.jsonl"
    assert _select(random_model_dir, pool, "--n", "2", "--out", str(ranked)) == 0
    rows = [json.loads(line) for line in ranked.read_text(encoding="utf-8").splitlines()]
    assert [t["data"]["id"] for t in tasks] == [r["id"] for r in rows]
    for task, row in zip(tasks, rows):
        [prediction] = task["predictions"]
        assert prediction["score"] == pytest.approx(1 - row["uncertainty"], abs=1e-4)
        assert prediction["model_version"].startswith(random_model_dir.name + "-")
        text = task["data"]["text"]
        for r in prediction["result"]:
            assert text[r["value"]["start"]:r["value"]["end"]] == r["value"]["text"]
    assert "(labelstudio)" in capsys.readouterr().err
    # --format wins over the extension.
    assert _select(random_model_dir, pool, "--n", "1", "--format", "jsonl", "--out", str(out)) == 0
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["rank"] == 1


def test_select_from_txt_files_and_entropy(random_model_dir, root, capsys):
    seeds = sorted((root / "seeds").glob("*.txt"))[:2]
    assert training_main(["select", "--model", str(random_model_dir), "--pool", *map(str, seeds), "--n", "1",
                          "--measure", "entropy", "--quiet"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["id"] in {str(p) for p in seeds}


@pytest.mark.parametrize("n", ["0", "-3"])
def test_select_bad_n_is_a_clear_error(random_model_dir, pool, n, capsys):
    assert _select(random_model_dir, pool, "--n", n) == 2
    assert f"--n must be a positive number of documents, got {n}" in capsys.readouterr().err


def test_select_missing_pool_names_the_file(random_model_dir, tmp_path, capsys, no_hub):
    missing = tmp_path / "nowhere.jsonl"
    assert _select(random_model_dir, missing, "--n", "5") == 2
    assert f"--pool {missing}: no such file or directory" in capsys.readouterr().err


def test_select_empty_pool_and_missing_out_folder(random_model_dir, tmp_path, pool, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert _select(random_model_dir, empty, "--n", "5") == 2
    assert "no documents to rank" in capsys.readouterr().err
    assert _select(random_model_dir, pool, "--n", "5", "--out", str(tmp_path / "no" / "x.jsonl")) == 2
    assert "does not exist" in capsys.readouterr().err


def test_select_duplicate_ids_are_refused(random_model_dir, tmp_path, capsys):
    path = tmp_path / "dupes.jsonl"
    path.write_text('{"id": "a", "text": "نص"}\n{"id": "a", "text": "نص آخر"}\n', encoding="utf-8")
    assert _select(random_model_dir, path, "--n", "1") == 2
    assert "document id 'a' occurs twice" in capsys.readouterr().err
