"""rasd serve: a real uvicorn server on 127.0.0.1, talked to over HTTP; the micro-batcher on its own."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from rasd.cli import main as rasd_main
from rasd.errors import InputError
from rasd.microbatch import Batcher, QueueFull, Stopped

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from rasd.serve import ServeSettings, create_app, serve_in_thread  # noqa: E402  (after the extra check)

TEXT = "قصفت قوات النظام بلدة جاسم في ريف درعا أمس."


def _call(url, body=None):
    """(status, decoded JSON) of a GET, or of a POST of ``body`` (bytes as given, or JSON-encoded)."""
    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())



def _without_scores(obj):
    if isinstance(obj, dict):
        return {k: _without_scores(v) for k, v in obj.items() if k != "score"}
    return [_without_scores(v) for v in obj] if isinstance(obj, list) else obj


def _scores(obj):
    if isinstance(obj, dict):
        return ([obj["score"]] if "score" in obj else []) + [x for v in obj.values() for x in _scores(v)]
    return [x for v in obj for x in _scores(v)] if isinstance(obj, list) else []


@pytest.fixture(scope="module")
def extractor(random_model_dir):
    from rasd.extractor import Extractor

    return Extractor.from_pretrained(random_model_dir)


@pytest.fixture(scope="module")
def server(extractor, random_model_dir):
    # A wide collection window makes requests sent together share one model call in the batching test.
    settings = ServeSettings(max_docs=5, max_chars=20_000, max_body_bytes=200_000, max_wait_ms=300,
                             max_batch_docs=16, max_queue_docs=64)
    app = create_app(extractor, settings, model_name=str(random_model_dir))
    with serve_in_thread(app) as url:
        yield url, app


def test_the_seeds_over_http_are_what_rasd_predict_writes(server, extractor, root, random_model_dir, capsys):
    url, _ = server
    seeds = sorted(str(p.relative_to(root)) for p in (root / "seeds").glob("*.txt"))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert rasd_main(["predict", "--model", str(random_model_dir), *seeds, "--quiet"]) == 0
    finally:
        os.chdir(cwd)
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    docs = [{"id": s, "text": (root / s).read_text(encoding="utf-8")} for s in seeds]
    # One request with the five seeds: one model call on the same five documents as rasd predict's, so
    # the same batches of windows and the same floating-point sums (other groupings differ in the last
    # digit of a score now and then).
    status, body = _call(f"{url}/extract", {"documents": docs})
    assert status == 200 and body["documents"] == expected
    status, one = _call(f"{url}/extract", {**docs[0], "date": "2022-08-01"})
    alone = extractor(docs[0]["text"], ids=[docs[0]["id"]], dates="2022-08-01").to_dict()
    assert status == 200 and one == alone  # the single form: one object


def test_dates_and_ids(server):
    url, _ = server
    status, body = _call(f"{url}/extract", {"date": "2022-08-01", "documents": [
        {"text": TEXT, "id": 7}, {"text": TEXT, "date": "2017-02-16T09:09:00+01:00"}]})
    assert status == 200
    assert [(d["id"], d["date"]) for d in body["documents"]] == [("7", "2022-08-01"), (None, "2017-02-16")]


@pytest.mark.parametrize("body,status,needle", [
    (b"", 400, "empty body"),
    (b"\xff\xfe{}", 400, "not valid UTF-8: byte 0xff at offset 0"),
    (b'{"text": ', 400, "not valid JSON"),
    ([TEXT], 422, "expected a JSON object"),
    ({"txt": TEXT}, 422, "needs 'text' (one document) or 'documents'"),
    ({"text": TEXT, "lang": "ar"}, 422, "unknown key(s) 'lang'"),
    ({"text": None}, 422, "body.text: expected a string, got null"),
    ({"text": TEXT, "date": "2022-02-30"}, 422, "'2022-02-30' is not a valid ISO date"),
    ({"documents": []}, 422, "documents: the list is empty"),
    ({"documents": [{"text": TEXT}, "x"]}, 422, "documents[1]: expected an object"),
    ({"documents": [{"text": TEXT}] * 6}, 413, "6 documents, over the limit of 5 per request (--max-docs)"),
    ({"text": "ب" * 20_001}, 413, "20001 characters, over the limit of 20000 (--max-chars)"),
    ({"text": "ب" * 1000, "id": "x" * 200_000}, 413, "over the limit of 200000 (--max-body-bytes)"),
])
def test_bad_requests_get_a_clear_status_and_message(server, body, status, needle):
    url, _ = server
    got, answer = _call(f"{url}/extract", body)
    assert got == status and needle in answer["detail"], answer


def test_other_routes_and_methods_answer_json(server, random_model_dir):
    url, _ = server
    assert _call(f"{url}/nowhere") == (404, {"detail": "Not Found"})
    assert _call(f"{url}/extract")[0] == 405
    status, health = _call(f"{url}/health")
    assert status == 200 and health["status"] == "ok" and health["queued_documents"] == 0
    status, info = _call(f"{url}/info")
    assert status == 200 and info["model"] == str(random_model_dir) and info["limits"]["max_docs"] == 5
    assert info["entity_labels"] == ["PER", "ORG", "LOC", "DATE", "WEAPON"] and info["dtype"] == "float32"
    status, spec = _call(f"{url}/openapi.json")
    assert status == 200 and {"/extract", "/health", "/info"} <= set(spec["paths"])


def test_concurrent_requests_share_model_calls_and_get_their_own_answers(server, extractor):
    url, app = server
    texts = [f"{TEXT} رقم {k}" for k in range(8)]
    expected = [d.to_dict() for d in extractor(texts, ids=[str(k) for k in range(8)])]
    before = app.state.batcher.stats()
    barrier = threading.Barrier(8)

    def ask(k):
        barrier.wait()
        return _call(f"{url}/extract", {"text": texts[k], "id": str(k)})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert [status for status, _ in answers] == [200] * 8
    # Each answer is its own document. The server groups the requests as they come, and another grouping
    # of windows may move a score in its last digit: scores are compared to 1e-3, everything else exactly.
    for (_, got), want in zip(answers, expected):
        assert _without_scores(got) == _without_scores(want)
        assert all(abs(a - b) <= 1e-3 for a, b in zip(_scores(got), _scores(want)))
    after = app.state.batcher.stats()
    assert after.requests - before.requests == 8
    assert after.model_calls - before.model_calls < 8  # some requests shared a call
    assert after.largest_batch > 1


def test_batcher_refuses_work_over_its_queue_and_after_stop():
    release = threading.Event()
    batcher = Batcher(lambda texts, ids, dates: (release.wait(10), texts)[1], max_batch_docs=2, max_wait_s=0,
                      max_queue_docs=3)
    first = batcher.submit(["a", "b"], [None, None], [None, None])
    with pytest.raises(QueueFull, match="2 document\\(s\\) are queued and the queue holds 3"):
        batcher.submit(["c", "d"], [None, None], [None, None])
    release.set()
    assert first.result(timeout=10) == ["a", "b"]
    batcher.stop()
    with pytest.raises(Stopped):
        batcher.submit(["e"], [None], [None])
    assert batcher.stats().refused_requests == 1 and not batcher.alive


def test_one_failing_request_does_not_fail_those_batched_with_it():
    gate = threading.Event()

    def extract(texts, ids, dates):
        gate.wait(10)
        if "bad" in texts:
            raise InputError("bad text")
        return [t.upper() for t in texts]

    batcher = Batcher(extract, max_batch_docs=8, max_wait_s=0.5)
    futures = [batcher.submit([t], [None], [None]) for t in ("a", "bad", "c")]
    gate.set()
    assert futures[0].result(10) == ["A"] and futures[2].result(10) == ["C"]
    with pytest.raises(InputError, match="bad text"):
        futures[1].result(10)
    batcher.stop()
    stats = batcher.stats()
    assert stats.failed_requests == 1 and stats.requests == 2


@pytest.mark.parametrize("kwargs,needle", [({"max_docs": 0}, "--max-docs"),
                                           ({"max_docs": 300}, "over --max-queue"),
                                           ({"max_wait_ms": -1}, "--max-wait-ms")])
def test_bad_settings_name_their_option(kwargs, needle):
    with pytest.raises(InputError, match=re.escape(needle)):
        ServeSettings(**kwargs)


def test_a_taken_port_is_an_error_before_the_model_loads(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        # The model folder does not exist: the port is checked first, so that is not what is reported.
        assert rasd_main(["serve", "--model", str(tmp_path / "absent"), "--port", str(port)]) == 2
    assert f"--port {port}: cannot listen there" in capsys.readouterr().err


def test_rasd_serve_command_runs_and_stops_on_sigterm(random_model_dir, root):
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "rasd", "serve", "--model", str(random_model_dir), "--port", "0"],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "rasd serve:" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "rasd serve ended before it listened"
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        status, body = _call(f"{match.group(1)}/extract", {"text": TEXT, "id": "x"})
        assert status == 200 and body["id"] == "x" and body["text"] == TEXT
    finally:
        proc.send_signal(signal.SIGTERM)  # what a service manager sends
        rest = proc.communicate(timeout=30)[1]
    # uvicorn shuts down gracefully, then re-raises the signal so that a supervisor sees how it ended.
    assert "Finished server process" in rest and "Traceback" not in rest, rest
    assert proc.returncode == -signal.SIGTERM
