"""The rasd command line: predict in every format, failures reported per file, info, schema, HTML."""

import json
import re
import shutil
import subprocess

import pytest

from rasd.cli import main as rasd_main


@pytest.fixture()
def inputs(tmp_path, root):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(root / "seeds" / "000_8ab75e0a9fac7d4a.txt", folder / "a.txt")
    shutil.copy(root / "seeds" / "001_b5c88ed446449b8e.txt", folder / "sub" / "b.txt")
    (folder / "notes.md").write_text("not an input", encoding="utf-8")
    return folder


def test_predict_jsonl_from_folder(random_model_dir, inputs, capsys):
    assert rasd_main(["predict", "--model", str(random_model_dir), str(inputs), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    docs = [json.loads(line) for line in lines]
    assert [d["id"] for d in docs] == [str(inputs / "a.txt"), str(inputs / "sub" / "b.txt")]
    for d in docs:
        assert all(d["text"][e["start"]:e["end"]] == e["text"] for e in d["entities"])
        assert {"entities", "events", "incidents", "sentences", "windowing"} <= set(d)


def test_bad_file_is_reported_and_the_rest_goes_on(random_model_dir, inputs, capsys):
    bad = inputs / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa not utf-8")
    code = rasd_main(["predict", "--model", str(random_model_dir), str(inputs), str(inputs / "missing.txt"),
                      "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{bad}: UnicodeDecodeError" in captured.err
    assert f"{inputs / 'missing.txt'}: FileNotFoundError" in captured.err
    assert "2 input file(s) failed; 2 document(s) written" in captured.err  # of a, bad, sub/b, missing
    assert len(captured.out.splitlines()) == 2  # the good files still came out


def test_formats_json_conll_and_stdin(random_model_dir, inputs, capsys, monkeypatch):
    assert rasd_main(["predict", "--model", str(random_model_dir), str(inputs / "a.txt"), "--format", "json",
                      "--quiet"]) == 0
    [doc] = json.loads(capsys.readouterr().out)
    assert doc["id"].endswith("a.txt")
    assert rasd_main(["predict", "--model", str(random_model_dir), str(inputs / "a.txt"), "--format", "conll",
                      "--quiet"]) == 0
    rows = [r.split("\t") for r in capsys.readouterr().out.splitlines() if r and not r.startswith("#")]
    text = (inputs / "a.txt").read_text(encoding="utf-8")
    assert all(text[int(a):int(b)] == w for w, _, a, b in rows)
    assert {t.split("-")[0] for _, t, _, _ in rows} <= {"O", "B", "I"}
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("اشتباكات في درعا".encode())))
    assert rasd_main(["predict", "--model", str(random_model_dir), "-", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "<stdin>"


def test_jsonl_input(random_model_dir, tmp_path, capsys):
    src = tmp_path / "docs.jsonl"
    src.write_text(json.dumps({"id": "x1", "text": "قصف على جاسم"}, ensure_ascii=False) + "\n"
                   + json.dumps({"text": "اعتقال في درعا"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert rasd_main(["predict", "--model", str(random_model_dir), str(src), "--quiet"]) == 0
    assert [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()] == ["x1", f"{src}:2"]


def test_info_and_schema(random_model_dir, capsys):
    assert rasd_main(["info", "--model", str(random_model_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["schema_version"] == "1" and info["base_model"] == "random-test"
    assert len(info["incident_thresholds"]) == 25
    assert info["incident_threshold_sources"] is None  # a model built in-test, never tuned on dev
    from rasd.precision import auto_precision, resolve_device

    dtype, reason = auto_precision(resolve_device(None))
    assert info["auto_dtype"] == {"device": str(resolve_device(None)), "dtype": dtype, "reason": reason}
    assert rasd_main(["info", "--model", str(random_model_dir)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"--dtype auto on this machine (cpu): {dtype}, because")
    assert rasd_main(["info", "--model", "./nope"]) == 2  # a relative path, never a Hub id
    assert rasd_main(["schema", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sub_event_types"]) == 25


def test_html_page_renders_in_headless_chromium(random_model_dir, inputs, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium')")
    page = tmp_path / "out.html"
    assert rasd_main(["predict", "--model", str(random_model_dir), str(inputs), "--format", "html", "--out",
                      str(page), "--quiet"]) == 0
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert '<html lang="ar" dir="rtl">' in dom
    assert dom.count('class="doc"') == 2
    docs = [json.loads(x) for x in subprocess.run(
        ["rasd", "predict", "--model", str(random_model_dir), str(inputs), "--quiet"],
        capture_output=True, text=True, check=True).stdout.splitlines()]
    assert dom.count('<mark class="ent"') == sum(len(d["entities"]) for d in docs)
    assert dom.count('class="badge"') == sum(len(s["incidents"]) for d in docs for s in d["sentences"])
    assert "<table class=\"events\">" in dom or "<table class=events>" in dom
    shot = tmp_path / "page.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1000,1400", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_jsonl_bad_lines_are_reported_by_their_own_number_and_the_rest_goes_on(random_model_dir, tmp_path, capsys):
    src = tmp_path / "docs.jsonl"
    good = json.dumps({"id": "g1", "text": "قصف على جاسم"}, ensure_ascii=False)
    src.write_bytes("\n".join([good, "{not json", json.dumps({"id": "no-text"}), good.replace("g1", "g2")]).encode()
                    + b"\n\xff\xfe\n" + json.dumps({"id": "g3", "text": "اعتقال"}).encode() + b"\n")
    assert rasd_main(["predict", "--model", str(random_model_dir), str(src), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert [json.loads(x)["id"] for x in captured.out.splitlines()] == ["g1", "g2", "g3"]
    assert f"{src}:2: JSONDecodeError" in captured.err
    assert f"{src}:3: ValueError: expected an object with a 'text' string" in captured.err
    assert f"{src}:5: UnicodeDecodeError" in captured.err
    assert "3 JSONL line(s) or Parquet row(s) failed; 3 document(s) written" in captured.err


def test_a_jsonl_file_is_streamed_in_chunks(random_model_dir, tmp_path, capsys, monkeypatch):
    import rasd.batch
    from rasd.extractor import Extractor

    sizes = []
    real = Extractor.__call__

    def spy(self, texts, **kwargs):
        sizes.append(len(texts))
        return real(self, texts, **kwargs)

    monkeypatch.setattr(rasd.batch, "CHUNK", 2)
    monkeypatch.setattr(Extractor, "__call__", spy)
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": "قصف على جاسم"}, ensure_ascii=False) + "\n"
                           for i in range(5)), encoding="utf-8")
    assert rasd_main(["predict", "--model", str(random_model_dir), str(src), "--format", "json", "--quiet"]) == 0
    assert sizes == [2, 2, 1]
    assert [d["id"] for d in json.loads(capsys.readouterr().out)] == [f"d{i}" for i in range(5)]


@pytest.mark.parametrize("flags,needle", [(["--batch-size", "-1"], "--batch-size"),
                                          (["--batch-size", "0"], "--batch-size"), (["--context", "-5"], "--context")])
def test_out_of_range_numbers_are_rejected(random_model_dir, flags, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        rasd_main(["predict", "--model", str(random_model_dir), "-", *flags])
    assert exc.value.code == 2 and needle in capsys.readouterr().err


@pytest.mark.parametrize("flags,needle", [
    (["--out", "/no/such/dir/o.jsonl"], "error: --out /no/such/dir/o.jsonl: the folder /no/such/dir does not exist"),
    (["--device", "banana"], "error: unknown device 'banana'"),
    (["--context", "100000"], "error: context must be an integer in [0, 62), got 100000 (windows of 64 sub-tokens)"),
])
def test_bad_options_give_an_error_line_not_a_traceback(random_model_dir, inputs, flags, needle, capsys):
    assert rasd_main(["predict", "--model", str(random_model_dir), str(inputs / "a.txt"), "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_missing_model_folder_is_an_error_line(tmp_path, capsys, monkeypatch, no_hub):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    assert rasd_main(["predict", "--model", "runs/model", "-"]) == 2
    assert "error: runs/model: no such folder" in capsys.readouterr().err


def test_acled_csv_has_one_header_and_rows_that_parse_back(random_model_dir, root, tmp_path, capsys):
    import csv

    from rasd.acled import COLUMNS

    out = tmp_path / "events.csv"
    code = rasd_main(["predict", "--model", str(random_model_dir), str(root / "seeds"), "--date", "2022-08-01",
                      "--format", "acled", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    raw = out.read_bytes()
    assert b"\r\n" not in raw.replace(b'"', b"")  # line ends as the CSV writer made them, not translated
    with out.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames) == tuple(COLUMNS)
    assert rows, "the random model marks incidents in every seed article"
    assert {r["source"] for r in rows} <= {str(p) for p in (root / "seeds").glob("*.txt")}
    for r in rows:
        if r["event_date"]:  # an ISO day with its ACLED precision and the text it was read from
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["event_date"]) and r["time_precision"] in {"1", "2", "3"}
            assert r["year"] == r["event_date"][:4]
            assert r["event_date_text"] or r["event_date"] == "2022-08-01"  # no date in the text: the document's
        assert (r["latitude"] == "") == (r["longitude"] == "")


def test_events_merge_joins_reports_of_the_same_event_across_documents(random_model_dir, root, tmp_path, capsys):
    import csv

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    seeds = str(root / "seeds")
    assert rasd_main(["predict", "--model", str(random_model_dir), seeds, "--date", "2022-08-01",
                      "--out", str(first), "--quiet"]) == 0
    assert rasd_main(["predict", "--model", str(random_model_dir), seeds, "--date", "2022-08-02",
                      "--out", str(second), "--quiet"]) == 0
    # The second run as another outlet's copy: the same texts under other ids, a day later.
    second.write_text(second.read_text(encoding="utf-8").replace(f'"id": "{root}/seeds/', '"id": "copy/'),
                      encoding="utf-8")
    with second.open("a", encoding="utf-8") as f:
        f.write("not json\n" + json.dumps({"id": "x", "text": "نص"}) + "\n")
    out = tmp_path / "events.csv"
    assert rasd_main(["events", "merge", str(first), str(second), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{second}:6: not JSON" in err and f"{second}:7: not a rasd predict document" in err
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    singles = int(re.search(r"(\d+) record\(s\) from the documents", err).group(1))
    assert rows and len(rows) < singles  # reports of the same event became one row
    joined = [r["source"].split("; ") for r in rows if "; " in r["source"]]
    assert any(any(s.startswith("copy/") for s in srcs) and any(not s.startswith("copy/") for s in srcs)
               for srcs in joined)
    assert rasd_main(["events", "merge", str(tmp_path / "absent.jsonl"), "--out", str(out)]) == 1
    assert "absent.jsonl: no such file" in capsys.readouterr().err
    assert rasd_main(["events", "merge", str(first), "--out", str(tmp_path / "no" / "e.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_prediction_line_reads_back_into_the_same_document(random_model_dir, root):
    from rasd.extractor import Extractor
    from rasd.results import Document

    extractor = Extractor.from_pretrained(random_model_dir)
    text = (root / "seeds" / "000_8ab75e0a9fac7d4a.txt").read_text(encoding="utf-8")
    doc = extractor(text, dates="2022-08-01")
    back = Document.from_dict(json.loads(json.dumps(doc.to_dict(), ensure_ascii=False)))
    assert back.to_dict() == doc.to_dict() and back.date == doc.date and back.events


def test_records_in_json_lines_are_the_rows_of_the_acled_csv(random_model_dir, root, tmp_path, capsys):
    import csv

    seeds = str(root / "seeds")
    jsonl, table = tmp_path / "p.jsonl", tmp_path / "e.csv"
    for fmt, out, extra in (("jsonl", jsonl, ["--records"]), ("acled", table, [])):
        assert rasd_main(["predict", "--model", str(random_model_dir), seeds, "--date", "2022-08-01",
                          "--format", fmt, "--out", str(out), "--quiet", *extra]) == 0
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    with table.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    records = [r for d in docs for r in d["records"]]
    assert len(records) == len(rows) > 0
    assert [(r["sources"][0], r["event_date"] or "", r["fatalities"] or 0) for r in records] == \
        [(row["source"], row["event_date"], int(row["fatalities"])) for row in rows]
    assert rasd_main(["predict", "--model", str(random_model_dir), seeds, "--format", "conll", "--records"]) == 2
    assert "--records adds the event records to --format jsonl or json" in capsys.readouterr().err


def test_html_page_opens_each_document_with_its_acled_rows(random_model_dir, root, tmp_path):
    page, jsonl = tmp_path / "p.html", tmp_path / "p.jsonl"
    for fmt, out, extra in (("html", page, []), ("jsonl", jsonl, ["--records"])):
        assert rasd_main(["predict", "--model", str(random_model_dir), str(root / "seeds"), "--date", "2022-08-01",
                          "--format", fmt, "--out", str(out), "--quiet", *extra]) == 0
    html = page.read_text(encoding="utf-8")
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert html.count("<table class=records>") == sum(1 for d in docs if d["records"])
    assert html.count("</tr>", html.find("<table class=records>")) > 0
    first = next(r for d in docs for r in d["records"])
    assert f"{first['event_date']}" in html
