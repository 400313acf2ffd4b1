"""Batch runs: Parquet in and out, publication dates, --resume exactly once, bounded memory, progress."""

import json
import tracemalloc
from datetime import date

import pytest

import rasd.batch
from rasd.batch import Failures, InputDocument, expand_inputs, iter_documents, skip_done
from rasd.cli import main as rasd_main
from rasd.errors import InputError
from rasd.extractor import Extractor

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

TEXTS = ["قصفت قوات النظام بلدة جاسم في ريف درعا أمس.", "اعتقال ثلاثة أشخاص في نوى.", "اشتباكات في طفس.",
         "انفجار عبوة ناسفة في درعا البلد.", "مقتل عنصرين بهجوم مسلح.", "اختطاف شاب على طريق دمشق."]


def _jsonl(path, n=6, **extra):  # n: as many documents as TEXTS by default
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": TEXTS[i % len(TEXTS)], **extra},
                                       ensure_ascii=False) + "\n" for i in range(n)), encoding="utf-8")
    return path


def _predict(model, *args):
    return rasd_main(["predict", "--model", str(model), *map(str, args), "--quiet"])


class _Interrupt(Exception):
    pass


@pytest.fixture()
def interrupt_after(monkeypatch):
    """Make the extractor fail on its (n+1)-th call, as a killed run would stop; count the texts it saw."""
    real = Extractor.__call__

    def arm(n_calls: int | None) -> list[str]:
        calls, seen = {"n": 0}, []

        def spy(self, texts, **kwargs):
            calls["n"] += 1
            if n_calls is not None and calls["n"] > n_calls:
                raise _Interrupt
            seen.extend(kwargs["ids"])
            return real(self, texts, **kwargs)

        monkeypatch.setattr(Extractor, "__call__", spy)
        return seen

    monkeypatch.setattr(rasd.batch, "CHUNK", 2)
    return arm


def test_dates_come_from_the_line_or_from_date(random_model_dir, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "own", "text": TEXTS[0], "date": "2017-02-16T09:09:00+01:00"},
                              ensure_ascii=False) + "\n" + json.dumps({"id": "default", "text": TEXTS[1]},
                                                                      ensure_ascii=False) + "\n", encoding="utf-8")
    assert _predict(random_model_dir, src, "--date", "2022-08-01") == 0
    docs = {d["id"]: d for d in map(json.loads, capsys.readouterr().out.splitlines())}
    assert docs["own"]["date"] == "2017-02-16" and docs["default"]["date"] == "2022-08-01"


def test_an_impossible_date_is_an_error_line_and_a_bad_line_date_is_counted(random_model_dir, tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", 2)
    assert _predict(random_model_dir, src, "--date", "2022-02-30") == 2
    assert "error: --date: '2022-02-30' is not a valid ISO date" in capsys.readouterr().err
    src.write_text(src.read_text(encoding="utf-8") + json.dumps({"id": "x", "text": "نص", "date": "أمس"}) + "\n",
                   encoding="utf-8")
    assert _predict(random_model_dir, src) == 1
    captured = capsys.readouterr()
    assert [json.loads(x)["id"] for x in captured.out.splitlines()] == ["d0", "d1"]
    assert f"{src}:3: InputError: {src}:3: date: 'أمس' is not a valid ISO date" in captured.err


def test_parquet_in_and_out_match_jsonl(random_model_dir, tmp_path, capsys):
    rows = [{"id": f"p{i}", "text": t, "date": date(2022, 8, i + 1)} for i, t in enumerate(TEXTS)]
    rows[2]["id"] = None  # a row without an id is named after its file and row, like a JSONL line
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    assert _predict(random_model_dir, src) == 0
    expected = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert expected[2]["id"] == f"{src}:row 3" and expected[0]["date"] == "2022-08-01"
    out = tmp_path / "out"
    assert _predict(random_model_dir, src, "--format", "parquet", "--out", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]
    table = pq.read_table(out)
    assert table.schema == rasd.batch.parquet_schema()
    back = table.to_pylist()
    for row in back:
        row["date"] = row["date"].isoformat()
    assert back == expected  # every key of Document.to_dict() survives, typed


def test_parquet_without_text_column_is_a_file_error(random_model_dir, tmp_path, capsys):
    src = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist([{"body": "x"}]), src)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    assert _predict(random_model_dir, src, tmp_path / "junk.parquet") == 1
    err = capsys.readouterr().err
    assert f"{src}: OSError: no 'text' column (columns: body)" in err
    assert f"{tmp_path / 'junk.parquet'}: OSError: not a readable Parquet file" in err


@pytest.mark.parametrize("flags,needle", [
    (["--format", "parquet"], "--format parquet needs --out FOLDER"),
    (["--format", "json", "--resume", "--out", "o.json"], "--resume works with --format jsonl or parquet, not json"),
    (["--resume"], "--resume needs --out"),
])
def test_option_combinations_that_cannot_work(random_model_dir, tmp_path, monkeypatch, flags, needle, capsys):
    monkeypatch.chdir(tmp_path)
    assert _predict(random_model_dir, _jsonl(tmp_path / "in.jsonl", 1), *flags) == 2
    assert needle in capsys.readouterr().err


def test_parquet_output_is_not_mixed_into_an_earlier_run(random_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-00000.parquet").write_bytes(b"")
    assert _predict(random_model_dir, _jsonl(tmp_path / "in.jsonl", 1), "--format", "parquet", "--out", out) == 2
    assert "already holds Parquet parts; add --resume" in capsys.readouterr().err


def test_jsonl_resume_writes_every_document_exactly_once(random_model_dir, tmp_path, interrupt_after, capsys):
    src, out = _jsonl(tmp_path / "in.jsonl", 7), tmp_path / "out.jsonl"
    interrupt_after(2)  # chunks of 2: the run dies after 4 documents are written
    with pytest.raises(_Interrupt):
        _predict(random_model_dir, src, "--out", out)
    with open(out, "a", encoding="utf-8") as f:  # and it died in the middle of writing the fifth
        f.write('{"id": "d4", "text": "قص')
    seen = interrupt_after(None)
    assert _predict(random_model_dir, src, "--out", out, "--resume") == 0
    err = capsys.readouterr().err
    assert "removed an incomplete last line" in err and "4 document(s) already written" in err
    assert seen == ["d4", "d5", "d6"]  # nothing redone but the unfinished document
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == [f"d{i}" for i in range(7)]
    assert _predict(random_model_dir, src, "--out", out, "--resume") == 0  # a finished run: nothing to do
    assert len(out.read_text(encoding="utf-8").splitlines()) == 7


def test_resume_refuses_other_inputs(random_model_dir, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert _predict(random_model_dir, _jsonl(tmp_path / "a.jsonl", 3), "--out", out) == 0
    other = tmp_path / "b.jsonl"
    other.write_text(json.dumps({"id": "zz", "text": "نص"}) + "\n", encoding="utf-8")
    assert _predict(random_model_dir, other, "--out", out, "--resume") == 2
    assert "--resume: document 1 of the output is 'd0' but input document 1 is 'zz'" in capsys.readouterr().err
    (tmp_path / "junk.jsonl").write_text("not json\n", encoding="utf-8")
    assert _predict(random_model_dir, other, "--out", tmp_path / "junk.jsonl", "--resume") == 2
    assert "junk.jsonl:1 is not a rasd prediction line" in capsys.readouterr().err


def test_parquet_resume_redoes_only_the_unfinished_part(random_model_dir, tmp_path, interrupt_after, monkeypatch,
                                                        capsys):
    monkeypatch.setattr(rasd.batch, "PART_DOCS", 3)
    src, out = _jsonl(tmp_path / "in.jsonl", 8), tmp_path / "out"
    interrupt_after(3)  # 6 documents extracted: part 0 (3) complete, part 1 (3) complete, then the crash
    with pytest.raises(_Interrupt):
        _predict(random_model_dir, src, "--format", "parquet", "--out", out)
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    interrupt_after(None)
    assert _predict(random_model_dir, src, "--format", "parquet", "--out", out, "--resume") == 0
    assert pq.read_table(out).column("id").to_pylist() == [f"d{i}" for i in range(8)]


def test_parquet_parts_rename_only_when_complete(random_model_dir, tmp_path, interrupt_after, monkeypatch, capsys):
    monkeypatch.setattr(rasd.batch, "PART_DOCS", 4)
    src, out = _jsonl(tmp_path / "in.jsonl", 7), tmp_path / "out"
    interrupt_after(3)  # 6 documents: part 0 complete, part 1 half-written (a .tmp)
    with pytest.raises(_Interrupt):
        _predict(random_model_dir, src, "--format", "parquet", "--out", out)
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet.tmp"]
    seen = interrupt_after(None)
    assert _predict(random_model_dir, src, "--format", "parquet", "--out", out, "--resume") == 0
    assert "removed 1 incomplete part(s) (part-00001.parquet.tmp)" in capsys.readouterr().err
    assert seen == ["d4", "d5", "d6"]
    assert pq.read_table(out).column("id").to_pylist() == [f"d{i}" for i in range(7)]


def test_skip_done_checks_the_order():
    docs = [InputDocument("a", "x"), InputDocument("b", "y"), InputDocument("c", "z")]
    assert [d.id for d in skip_done(docs, ["a", "b"])] == ["c"]
    with pytest.raises(InputError, match="more documents than the inputs"):
        list(skip_done(docs, ["a", "b", "c", "d"]))


def test_reading_a_big_jsonl_file_holds_one_line_at_a_time(tmp_path):
    src = tmp_path / "big.jsonl"
    line = json.dumps({"id": "x", "text": "قصفت قوات النظام بلدة جاسم. " * 40}, ensure_ascii=False) + "\n"
    with open(src, "w", encoding="utf-8") as f:
        for _ in range(8000):  # about 10 MB
            f.write(line)
    tracemalloc.start()
    n = sum(1 for _ in iter_documents(expand_inputs([str(src)]), Failures()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 8000 and src.stat().st_size > 9_000_000
    assert peak < 1_000_000  # bounded by a line, not the file


def test_progress_bar_counts_documents_with_rate_and_eta(random_model_dir, tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", 5)
    assert rasd_main(["predict", "--model", str(random_model_dir), str(src), "--out", str(tmp_path / "o.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "5/5" in err and "doc/s" in err
    assert rasd.batch.count_documents(expand_inputs([str(src), "-"])) is None  # stdin: no total, no ETA
