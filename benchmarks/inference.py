"""Inference speed: rasd (fp32, bf16, int8) against the two-pipeline baseline a user would write today.

The model has AraBERT-base's exact architecture (vocabulary 64,000, 12 layers, hidden 768),
randomly initialised: speed does not depend on the weights. Text is the five seed articles
repeated to the requested number of documents, tokenised with the offline e5 tokenizer
(an Arabic SentencePiece vocabulary, so sub-token counts are realistic).

The baseline runs the same whole documents through
``pipeline("token-classification", aggregation_strategy="simple", stride=128)`` and
``pipeline("text-classification")`` (truncated at 512: it cannot see more), each with its own
base-size model. Every configuration runs in its own process, so peak RSS is its own.

    python benchmarks/inference.py --quick          # < 5 minutes on 2 cores
    python benchmarks/inference.py --docs 100       # the fuller run

The first line names the CPU and its instruction sets (AVX2, AVX-512, VNNI, BF16, AMX) and what
``dtype="auto"`` picks on it. The last line is ``ratio_fp32=<x> ratio_best=<y> auto=<mode>
peak_rss_mb=<z>`` (ratios of documents/s against the baseline; ``ratio_best`` counts only the
mode that ``auto`` would choose on this CPU, so an emulated bf16 or an accuracy-losing int8
never inflates it; every mode is still reported; peak RSS of the heaviest rasd mode).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKENIZER = ROOT.parent / "shared" / "models" / "e5-small-ar"


def documents(n: int) -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    return [seeds[i % len(seeds)] for i in range(n)]


def build_model(folder: Path) -> None:
    """Save a random AraBERT-base-shaped rasd model, and the baseline's two stock models."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertForTokenClassification

    from rasd.modeling import RasdConfig, RasdModel
    from rasd.schema import IOB2_TAGS, SUB_EVENT_LABELS

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    encoder = BertConfig(vocab_size=64000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    model = RasdModel(RasdConfig(encoder=encoder, base_model="random-arabert-base-shape", max_length=512, stride=64))
    model.save_pretrained(folder / "rasd")
    tokenizer.save_pretrained(folder / "rasd")
    shape = {k: v for k, v in encoder.to_dict().items()
             if k not in ("id2label", "label2id", "problem_type", "num_labels")}
    tc = BertForTokenClassification(BertConfig(**shape, id2label=dict(enumerate(IOB2_TAGS))))
    tc.save_pretrained(folder / "ner")
    tokenizer.save_pretrained(folder / "ner")
    sc = BertForSequenceClassification(BertConfig(**shape, id2label=dict(enumerate(SUB_EVENT_LABELS)),
                                                  problem_type="multi_label_classification"))
    sc.save_pretrained(folder / "cls")
    tokenizer.save_pretrained(folder / "cls")


def worker(mode: str, folder: Path, n_docs: int, batch_size: int | None) -> dict:
    """Time one configuration on ``n_docs`` documents (after a one-document warm-up)."""
    import torch
    from transformers import AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    docs = documents(n_docs)
    tokenizer = AutoTokenizer.from_pretrained(folder / "rasd")
    tokens = sum(len(tokenizer(d, add_special_tokens=False, verbose=False)["input_ids"]) for d in docs)
    if mode == "baseline":
        ner = pipeline("token-classification", model=str(folder / "ner"), aggregation_strategy="simple", stride=128,
                       device="cpu", dtype=torch.float32)
        cls = pipeline("text-classification", model=str(folder / "cls"), top_k=None, device="cpu",
                       dtype=torch.float32)

        def run(batch: list[str]) -> None:
            # The pipelines' default batch size (1): their fastest here (1, 4 and 8 were tried).
            ner(batch)
            cls(batch, truncation=True, max_length=512)
    else:
        import rasd

        extractor = rasd.Extractor.from_pretrained(folder / "rasd", device="cpu",
                                                   dtype={"fp32": None, "bf16": "bfloat16", "int8": "int8"}[mode],
                                                   batch_size=batch_size)  # None: rasd's default

        def run(batch: list[str]) -> None:
            extractor(batch)
    run(docs[:1])
    start = time.perf_counter()
    run(docs)
    seconds = time.perf_counter() - start
    return {"mode": mode, "documents": n_docs, "seconds": round(seconds, 2), "docs_per_s": n_docs / seconds,
            "tokens_per_s": tokens / seconds, "tokens": tokens, "threads": torch.get_num_threads(),
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: on Linux that keeps the parent's
    peak across fork and exec, so every worker would report the model builder's memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 documents (under 5 minutes on 2 cores)")
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--modes", default="baseline,fp32,bf16,int8")
    ap.add_argument("--batch-size", type=int, help="rasd's windows per batch (default: rasd's own)")
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n_docs = 50 if args.quick else max(args.docs, 50)
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder, n_docs, args.batch_size)))
        return
    import torch

    from rasd.precision import auto_precision, cpu_isa

    auto, why = auto_precision(torch.device("cpu"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU") if Path("/proc/cpuinfo").exists() else "unknown CPU"
    print(f"cpu: {cpu}, {os.cpu_count()} cores; ISA: {', '.join(cpu_isa()) or 'unknown'}; "
          f"torch capability {torch.backends.cpu.get_cpu_capability()}; auto → {auto} ({why})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_model(folder)
        results = {}
        for mode in args.modes.split(","):
            cmd = [sys.executable, __file__, "--worker", mode, "--folder", str(folder), "--docs", str(n_docs)]
            cmd += ["--batch-size", str(args.batch_size)] if args.batch_size else []
            cmd += ["--quick"] if args.quick else []
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if out.returncode != 0:
                sys.exit(f"{mode} failed:\n{out.stderr[-3000:]}")
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode:>8}: {r['docs_per_s']:.3f} docs/s, {r['tokens_per_s']:.0f} tokens/s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB ({r['seconds']} s for {n_docs} documents)", flush=True)
    base = results.get("baseline", {}).get("docs_per_s")
    rasd_modes = [m for m in results if m != "baseline"]
    if base:
        for m in rasd_modes:
            results[m]["ratio"] = results[m]["docs_per_s"] / base
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    ratio_fp32 = results.get("fp32", {}).get("ratio", float("nan"))
    mode_of = {"float32": "fp32", "bfloat16": "bf16", "int8": "int8"}
    ratio_best = results.get(mode_of.get(auto, ""), {}).get("ratio", float("nan"))
    peak = max((results[m]["peak_rss_mb"] for m in rasd_modes), default=float("nan"))
    print(f"ratio_fp32={ratio_fp32:.2f} ratio_best={ratio_best:.2f} auto={auto} peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
