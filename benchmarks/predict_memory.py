"""Memory and exactly-once check for big batch runs of ``rasd predict``.

Builds a JSON Lines file of the given size from the ANT corpus articles (each repeated under a new
id), runs ``rasd predict`` on it in a subprocess while sampling its resident memory, optionally
kills it part-way (SIGKILL, as a crash or a pre-empted node would) and resumes with ``--resume``,
then checks that every input document is in the output exactly once and in order.

Usage:
    python benchmarks/predict_memory.py --model runs/tiny/model --mb 200 --kill-at 0.5 --out-dir runs/memory

It prints one JSON object: input size, documents, wall time, documents/s, peak RSS of each run
and RSS samples by progress, and whether the output has every document exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ANT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ant_corpus" / "articles.jsonl"


def build_input(path: Path, megabytes: float) -> int:
    """Write ``megabytes`` of JSONL made of ANT articles under fresh ids; returns the document count."""
    articles = [json.loads(line) for line in ANT.open(encoding="utf-8")]
    target, n = int(megabytes * 1e6), 0
    with path.open("w", encoding="utf-8") as f:
        while f.tell() < target:
            a = articles[n % len(articles)]
            f.write(json.dumps({"id": f"doc-{n:07d}", "text": a["text"], "date": a["date"]}, ensure_ascii=False)
                    + "\n")
            n += 1
    return n


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def run(cmd: list[str], out: Path, total: int, kill_at: float | None, kill_after_s: float | None = None) -> dict:
    """Run ``cmd``, sampling RSS every second; SIGKILL it once ``kill_at`` of the documents are written
    or ``kill_after_s`` seconds have passed."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, samples, killed, last, last_t = 0.0, [], False, -1.0, 0.0
    # About ten samples per run: each tenth of the file, or each tenth of the time limit.
    every_s = kill_after_s / 10 if kill_after_s else float("inf")
    while proc.poll() is None:
        time.sleep(1.0)
        rss = _rss_mb(proc.pid)
        if rss is None:
            continue
        peak = max(peak, rss)
        done = _lines(out) / total
        now = time.perf_counter() - start
        if done - last >= 0.1 or now - last_t >= every_s:
            samples.append({"s": round(now), "done": round(done, 4), "rss_mb": round(rss, 1)})
            last, last_t = done, now
        if (kill_at is not None and done >= kill_at) or (kill_after_s and time.perf_counter() - start > kill_after_s):
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait()
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if not killed and proc.returncode != 0:
        sys.exit(f"rasd predict failed ({proc.returncode}):\n{err}")
    return {"wall_s": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak, 1), "killed": killed,
            "rss_by_progress": samples, "stderr_tail": err.strip().splitlines()[-3:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--mb", type=float, default=200.0, help="input size in megabytes")
    ap.add_argument("--kill-at", type=float, help="SIGKILL the first run after this fraction, then --resume")
    ap.add_argument("--seconds", type=float, help="bound each run's time: SIGKILL the first after SECONDS, resume "
                                                  "for SECONDS more, and check the output is an exact prefix of "
                                                  "the input (for inputs too big to finish in the time at hand)")
    ap.add_argument("--out-dir", type=Path, default=Path("runs/memory"))
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    src, out = args.out_dir / "input.jsonl", args.out_dir / "predictions.jsonl"
    total = build_input(src, args.mb)
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "rasd", "predict", "--model", args.model, str(src), "--out", str(out),
           "--quiet", "--batch-size", str(args.batch_size)]
    runs = [run(cmd, out, total, args.kill_at, args.seconds)]
    if runs[0]["killed"]:
        runs.append(run([*cmd, "--resume"], out, total, None, args.seconds))
    ids = []
    with out.open(encoding="utf-8") as f:
        for line in f:
            ids.append(json.loads(line)["id"])
    expected = [f"doc-{n:07d}" for n in range(total)]
    wall = sum(r["wall_s"] for r in runs)
    print(json.dumps({"input_mb": round(src.stat().st_size / 1e6, 1), "documents": total, "runs": runs,
                      "wall_s": round(wall, 1), "docs_per_s": round(len(ids) / wall, 1),
                      "exactly_once_in_order": ids == expected,
                      "exact_prefix_in_order": ids == expected[:len(ids)], "output_documents": len(ids),
                      "duplicates": len(ids) - len(set(ids))}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
