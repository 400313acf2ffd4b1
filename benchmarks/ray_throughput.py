"""Documents/s of ``rasd ray`` with 1 and 2 workers (and of ``rasd predict`` beside it), on one machine.

The input is a JSONL file: given, or the seed articles (or the ANT corpus articles, with
``--ant``) repeated under fresh ids up to ``--docs`` documents. One local Ray cluster is started
for all runs, so its start-up is not counted; each run's actor start-up (loading torch and the
model) is, and is also measured apart with a one-document run, which gives the steady rate.

Usage:
    python benchmarks/ray_throughput.py --model runs/tiny/model --docs 256 --workers 1 2

It prints one JSON object: the CPU, the input, and per run the wall time, documents/s, the
fixed start-up cost and the steady documents/s without it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANT = ROOT.parent / "shared" / "data" / "ant_corpus" / "articles.jsonl"


def build_input(path: Path, docs: int, ant: bool) -> Path:
    """``docs`` documents as JSONL, made of the seed articles (or ANT's) under fresh ids."""
    if ant:
        texts = [json.loads(line)["text"] for line in ANT.open(encoding="utf-8")]
    else:
        texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    with path.open("w", encoding="utf-8") as f:
        for n in range(docs):
            f.write(json.dumps({"id": f"doc-{n:06d}", "text": texts[n % len(texts)]}, ensure_ascii=False) + "\n")
    return path


def timed(argv: list[str]) -> float:
    """Seconds of one in-process ``rasd`` command, which must succeed."""
    from rasd.cli import main

    start = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"failed: rasd {' '.join(argv)}")
    return time.perf_counter() - start


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a rasd model folder or Hub id")
    parser.add_argument("--input", type=Path, help="a JSONL input (default: built from the seeds or --ant)")
    parser.add_argument("--docs", type=int, default=256, help="documents in the built input")
    parser.add_argument("--ant", action="store_true", help="build the input from ../shared's ANT articles")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out-dir", type=Path, help="where inputs and outputs go (default: a temporary folder)")
    args = parser.parse_args()

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        src = args.input or build_input(folder / "input.jsonl", args.docs, args.ant)
        one = folder / "one.jsonl"
        with src.open(encoding="utf-8") as f:
            one.write_text(f.readline(), encoding="utf-8")
        docs = sum(1 for line in src.open(encoding="utf-8") if line.strip())
        common = ["--model", args.model, "--quiet"]
        report = {"cpu": cpu_model(), "cores": os.cpu_count(), "model": args.model, "input": str(src), "docs": docs,
                  "runs": []}
        seconds = timed(["predict", str(src), *common, "--out", str(folder / "predict.jsonl")])
        report["predict"] = {"seconds": round(seconds, 2), "docs_per_s": round(docs / seconds, 2)}
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        try:
            for workers in args.workers:
                ray_args = [*common, "--workers", str(workers)]
                fixed = timed(["ray", str(one), *ray_args, "--out", str(folder / "one-out.jsonl")])
                seconds = timed(["ray", str(src), *ray_args, "--out", str(folder / f"ray-{workers}.jsonl")])
                same = (folder / f"ray-{workers}.jsonl").read_bytes() == (folder / "predict.jsonl").read_bytes()
                report["runs"].append({"workers": workers, "seconds": round(seconds, 2),
                                       "docs_per_s": round(docs / seconds, 2), "startup_s": round(fixed, 2),
                                       "steady_docs_per_s": round((docs - 1) / max(seconds - fixed, 1e-9), 2),
                                       "same_as_predict": same})
        finally:
            ray.shutdown()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
