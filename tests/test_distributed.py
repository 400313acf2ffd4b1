"""``rasd ray``: the same output as ``rasd predict``, in input order, with one or more actors; clear errors."""

import json
import subprocess
import sys
from datetime import date

import numpy as np
import pytest

import rasd.batch
from rasd.cli import main as rasd_main
from rasd.distributed import RAY_EXTRA, RasdPredictor, import_ray
from rasd.errors import InputError
from rasd.extractor import Extractor

ray = pytest.importorskip("ray")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    """One local cluster for the module: Ray takes seconds to start; ``rasd ray`` uses it and leaves it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture()
def inputs(root, tmp_path, monkeypatch):
    """The seed articles as text files, then as JSON Lines with ids and dates (and a line with neither)."""
    monkeypatch.setattr(rasd.batch, "CHUNK", 2)  # several blocks out of few documents: both actors get work
    seeds = sorted((root / "seeds").glob("*.txt"))
    lines = [{"id": f"seed-{k}", "text": p.read_text(encoding="utf-8"), "date": f"2017-02-1{k}"}
             for k, p in enumerate(seeds)]
    lines.append({"text": seeds[0].read_text(encoding="utf-8")})  # id FILE:LINE, date from --date
    src = tmp_path / "seeds.jsonl"
    src.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return [*map(str, seeds), str(src), "--date", "2022-08-01"]


def _run(command, model, *args):
    return rasd_main([command, "--model", str(model), *map(str, args), "--quiet"])


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_writes_the_lines_of_rasd_predict_in_order(random_model_dir, inputs, tmp_path, workers):
    assert _run("predict", random_model_dir, *inputs, "--out", tmp_path / "predict.jsonl") == 0
    assert _run("ray", random_model_dir, *inputs, "--out", tmp_path / "ray.jsonl", "--workers", workers) == 0
    expected = (tmp_path / "predict.jsonl").read_bytes()
    assert (tmp_path / "ray.jsonl").read_bytes() == expected
    ids = [json.loads(line)["id"] for line in expected.decode().splitlines()]
    assert ids[5:] == [f"seed-{k}" for k in range(5)] + [f"{tmp_path / 'seeds.jsonl'}:6"]


def test_ray_reads_the_input_a_window_at_a_time(random_model_dir, inputs, tmp_path, monkeypatch):
    import ray.data

    import rasd.batch
    import rasd.distributed

    monkeypatch.setattr(rasd.batch, "CHUNK", 2)  # 11 documents: 6 blocks of 2 (rasd predict's chunks too)
    monkeypatch.setattr(rasd.distributed, "WINDOW_BLOCKS", 4)  # … in windows of 4 and 2 blocks
    sizes = []
    real = ray.data.from_arrow

    def spy(blocks, *args, **kwargs):
        sizes.append(len(blocks))
        return real(blocks, *args, **kwargs)

    monkeypatch.setattr(ray.data, "from_arrow", spy)
    assert _run("predict", random_model_dir, *inputs, "--out", tmp_path / "predict.jsonl") == 0
    assert _run("ray", random_model_dir, *inputs, "--out", tmp_path / "ray.jsonl", "--workers", 2) == 0
    assert sizes == [4, 2]
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "predict.jsonl").read_bytes()


def test_ray_parquet_parts_equal_rasd_predict(random_model_dir, inputs, tmp_path):
    assert _run("predict", random_model_dir, *inputs, "--format", "parquet", "--out", tmp_path / "predict") == 0
    assert _run("ray", random_model_dir, *inputs, "--format", "parquet", "--out", tmp_path / "ray") == 0
    expected, got = pq.read_table(tmp_path / "predict"), pq.read_table(tmp_path / "ray")
    assert got.schema == expected.schema and got.equals(expected)


def test_the_predictor_on_a_batch_equals_the_extractor(random_model_dir):
    texts = ["قصفت قوات النظام بلدة جاسم في ريف درعا أمس.", "اعتقال ثلاثة أشخاص في نوى.", "اشتباكات في طفس."]
    predictor = RasdPredictor(str(random_model_dir))
    out = predictor({"text": np.array(texts, dtype=object), "id": np.array(["a", "b", "c"], dtype=object),
                     "date": np.array(["2022-08-01", None, np.datetime64("2017-02-16")], dtype=object)})
    docs = Extractor.from_pretrained(random_model_dir)(texts, ids=["a", "b", "c"],
                                                       dates=[date(2022, 8, 1), None, date(2017, 2, 16)])
    assert list(out["id"]) == ["a", "b", "c"]
    assert list(out["json"]) == [json.dumps(d.to_dict(), ensure_ascii=False) for d in docs]
    assert json.loads(predictor({"text": np.array(texts[:1], dtype=object)})["json"][0])["id"] is None


def test_a_missing_model_folder_is_an_error_line(tmp_path, capsys):
    src = tmp_path / "a.txt"
    src.write_text("نص", encoding="utf-8")
    assert _run("ray", tmp_path / "no-model", src, "--out", tmp_path / "out.jsonl") == 2
    assert f"error: {tmp_path / 'no-model'}: no such folder" in capsys.readouterr().err


def test_a_missing_input_file_is_reported_as_rasd_predict_does(random_model_dir, tmp_path, capsys):
    assert _run("ray", random_model_dir, tmp_path / "missing.txt", "--out", tmp_path / "out.jsonl") == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'missing.txt'}: FileNotFoundError: No such file or directory" in err
    assert "1 input file(s) failed; 0 document(s) written" in err
    assert (tmp_path / "out.jsonl").read_text() == ""


@pytest.mark.parametrize("args, message", [
    (["--date", "2022-02-30"], "--date: '2022-02-30' is not a valid ISO date"),
    (["--format", "parquet", "--out-is-file"], "is a file; --format parquet writes a folder of parts"),
    (["--dtype", "float16", "--device", "cpu"], "float16 is for GPUs"),
])
def test_bad_options_fail_before_ray_starts(random_model_dir, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    if "--out-is-file" in args:
        args.remove("--out-is-file")
        out.write_text("")
    assert _run("ray", random_model_dir, tmp_path / "a.txt", "--out", out, *args) == 2
    assert message in capsys.readouterr().err


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    with pytest.raises(InputError, match=r"pip install 'rasd\[ray\]'"):
        import_ray()
    assert "rasd[ray]" in RAY_EXTRA


def test_importing_the_module_loads_nothing_heavy():
    code = "import sys, rasd.distributed; print(sorted({'ray', 'torch', 'transformers'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"
