"""Load test of ``rasd serve``: N concurrent clients for a bounded time, against offline batch inference.

The server runs as ``rasd serve --port 0`` in its own process (as it would in production); the
clients are threads of this process, each with one keep-alive connection, sending one document per
request (the newsroom case: one article at a time) until the time is up. Documents are ANT corpus
articles (Tunisian radio news, median 569 characters, some over 9,000), cycled in a fixed order.

The offline reference is what ``rasd predict`` does with the same documents: ``Extractor`` calls
on chunks of 64 (``rasd.batch.CHUNK``), each document serialised to its JSON line, in this
process, measured before the server starts and again after it stops (the two never share the
CPU), and averaged.

    python benchmarks/serve_load.py --e5 --clients 16 --seconds 60      # e5-small-shaped model
    python benchmarks/serve_load.py --model runs/tiny/model --clients 1 4 16

``--e5`` builds a rasd model on the offline e5-small encoder (its pretrained weights, untrained
heads): the size of the stand-in model the project trains, and speed does not depend on the heads.
Prints one JSON object per client count, then a last line ``ratio_16=…``; requests/s is documents/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANT = ROOT.parent / "shared" / "data" / "ant_corpus" / "articles.jsonl"
E5 = ROOT.parent / "shared" / "models" / "e5-small-ar"


def documents(n: int) -> list[str]:
    texts = []
    with ANT.open(encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) == n:
                break
    return texts


def build_e5_model(folder: Path) -> Path:
    """A rasd model on the e5-small encoder (pretrained), heads as initialised; saved with its tokenizer."""
    from transformers import AutoTokenizer

    from rasd.modeling import RasdModel

    model = RasdModel.from_encoder(str(E5), max_length=512, stride=64)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(E5).save_pretrained(folder)
    return folder


class Offline:
    """What ``rasd predict`` does with the documents (Extractor calls on chunks of 64, each document
    serialised to its JSON line), measured in this process while the server is not running."""

    def __init__(self, model: str, texts: list[str], chunk: int = 64) -> None:
        from rasd.extractor import Extractor

        self.extractor = Extractor.from_pretrained(model)
        self.texts, self.chunk = texts, chunk
        self.extractor(texts[:chunk])  # warm-up: first-call allocations and oneDNN primitive creation

    def docs_per_s(self) -> float:
        start = time.perf_counter()
        for k in range(0, len(self.texts), self.chunk):
            for doc in self.extractor(self.texts[k:k + self.chunk]):
                json.dumps(doc.to_dict(), ensure_ascii=False)
        return len(self.texts) / (time.perf_counter() - start)


def start_server(model: str, max_batch_docs: int, max_wait_ms: float,
                 extra: list[str] | None = None) -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen([sys.executable, "-m", "rasd", "serve", "--model", model, "--port", "0",
                             "--log-level", "warning", "--max-batch-docs", str(max_batch_docs),
                             "--max-wait-ms", str(max_wait_ms), *(extra or [])],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = ""
    while "rasd serve:" not in line:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise SystemExit(f"rasd serve ended with {proc.returncode} before it listened")
    host, port = re.search(r"http://([\d.]+):(\d+)", line).groups()
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining its log
    return proc, host, int(port)


def load(host: str, port: int, texts: list[str], clients: int, seconds: float) -> dict:
    """Each client posts documents (its own stride through ``texts``) until ``seconds`` pass."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[list[str]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(c: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        k = c
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            body = json.dumps({"id": f"c{c}-{k}", "text": texts[k % len(texts)]}, ensure_ascii=False).encode()
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/extract", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200:
                    errors[c].append(f"{response.status}: {payload[:200]!r}")
                else:
                    latencies[c].append(time.perf_counter() - t0)
            except (OSError, http.client.HTTPException) as exc:
                errors[c].append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=120)
            k += clients
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    start = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    done = sorted(x for per in latencies for x in per)
    failed = [e for per in errors for e in per]

    def pct(q: float) -> float | None:
        return round(1000 * done[min(len(done) - 1, int(q * len(done)))], 1) if done else None

    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(done), "errors": len(failed),
            "error_examples": failed[:3], "requests_per_s": round(len(done) / elapsed, 3),
            "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
                           "mean": round(1000 * statistics.fmean(done), 1) if done else None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a rasd model folder")
    which.add_argument("--e5", action="store_true", help="build an e5-small-shaped rasd model in a temporary folder")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=60.0, help="load time per client count")
    parser.add_argument("--docs", type=int, default=256, help="distinct ANT articles to cycle through")
    parser.add_argument("--max-batch-docs", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=10.0)
    parser.add_argument("--server-args", default="", help="more rasd serve options, e.g. '--num-threads 1'")
    parser.add_argument("--no-offline", action="store_true", help="skip the offline reference")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = str(build_e5_model(Path(tmp) / "e5")) if args.e5 else args.model
        texts = documents(args.docs)
        # Offline before and after the load runs, averaged: a shared 2-core machine drifts by 10 % or
        # more over minutes, and the ratio should not depend on which end of the run met the drift.
        reference = None if args.no_offline else Offline(model, texts)
        before = reference.docs_per_s() if reference else float("nan")
        print(json.dumps({"offline_docs_per_s_before": round(before, 3), "documents": len(texts), "cpu": _cpu(),
                          "model": "e5-small (random heads)" if args.e5 else model}), flush=True)
        proc, host, port = start_server(model, args.max_batch_docs, args.max_wait_ms, args.server_args.split())
        results = []
        try:
            load(host, port, texts, clients=2, seconds=min(5.0, args.seconds))  # warm-up, not reported
            for clients in args.clients:
                h0 = _health(host, port)
                result = load(host, port, texts, clients, args.seconds)
                h1 = _health(host, port)
                calls = h1["model_calls"] - h0["model_calls"]
                result["mean_batch_docs"] = round((h1["documents"] - h0["documents"]) / max(calls, 1), 2)
                results.append(result)
        finally:
            proc.terminate()
            proc.wait(30)
        after = reference.docs_per_s() if reference else float("nan")
        offline = (before + after) / 2
        print(json.dumps({"offline_docs_per_s_after": round(after, 3), "offline_docs_per_s": round(offline, 3)}))
        for result in results:
            result["ratio_to_offline"] = round(result["requests_per_s"] / offline, 3)
            print(json.dumps(result), flush=True)
    last = results[-1]
    print(f"ratio_{last['clients']}={last['ratio_to_offline']} errors={sum(r['errors'] for r in results)}")


def _health(host: str, port: int) -> dict:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/health")
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def _cpu() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    isa = sorted(set(re.findall(r"\bavx512[a-z_0-9]*\b|\bavx2\b|\bamx[a-z_0-9]*\b", info)))
    return f"{name} ({os.cpu_count()} cores; {' '.join(isa)})"


if __name__ == "__main__":
    main()
