"""``rasd serve``: the extractor as an HTTP service (FastAPI + uvicorn, the ``serve`` extra).

``POST /extract`` takes one document ``{"text", "id", "date"}`` (answered with one document
object) or ``{"documents": [...], "date": default}`` (answered with ``{"documents": [...]}``);
each document object is exactly what ``rasd predict`` writes (``Document.to_dict()``).
``GET /health``, ``GET /info`` and the OpenAPI docs (``/docs``, ``/openapi.json``) come with it.
Concurrent requests share model calls through :class:`rasd.microbatch.Batcher`; every error is a
JSON ``{"detail": message}`` with its HTTP status (see :func:`parse_request` for which).

This module imports neither FastAPI nor torch at the top: ``rasd predict`` never needs them.

Example:
    rasd serve --model runs/tiny/model --port 8000
    curl -s localhost:8000/extract -d '{"text": "قصفت قوات النظام بلدة جاسم", "date": "2022-08-01"}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rasd.errors import InputError
from rasd.options import add_model_arguments, non_negative, positive

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rasd.extractor import Extractor

SERVE_EXTRA = 'rasd serve needs the serve extra: pip install "rasd[serve]"'
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}


@dataclass(frozen=True)
class ServeSettings:
    """Limits and batching of a server; every limit is enforced with an HTTP error that names it.

    Example:
        >>> ServeSettings(max_docs=8).max_docs
        8
    """

    max_docs: int = 64  # documents per request
    max_chars: int = 100_000  # characters per text (a long news article is ~20,000)
    max_body_bytes: int = 10 * 1024 * 1024  # request body; JSON's \\uXXXX escapes take 6 bytes per letter
    max_wait_ms: float = 10.0  # collection window after the first queued request
    max_batch_docs: int = 32  # documents per model call
    max_queue_docs: int = 256  # documents waiting for the model; more → 503

    def __post_init__(self) -> None:
        for name in ("max_docs", "max_chars", "max_body_bytes", "max_batch_docs", "max_queue_docs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"--{name.replace('_', '-')}: must be a positive integer, got {value!r}")
        if not isinstance(self.max_wait_ms, (int, float)) or not 0 <= self.max_wait_ms <= 10_000:
            raise InputError(f"--max-wait-ms: must be between 0 and 10000, got {self.max_wait_ms!r}")
        if self.max_docs > self.max_queue_docs:
            raise InputError(f"--max-docs {self.max_docs} is over --max-queue {self.max_queue_docs}: "
                             "a full request could never be queued")


class HTTPProblem(Exception):
    """A request the server refuses: its HTTP status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ParsedRequest:
    """A validated ``/extract`` body: one entry per document, and whether it was the single form."""

    texts: list[str]
    ids: list[str | None]
    dates: list[date | None]
    single: bool


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _check_keys(obj: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:  # a typo ("txt", "dates") must not be ignored silently
        raise HTTPProblem(422, f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                               f"allowed: {', '.join(allowed)}")


def _document(obj: object, where: str, default_date: date | None,
              settings: ServeSettings) -> tuple[str, str | None, date | None]:
    from rasd.extractor import parse_document_date

    if not isinstance(obj, dict):
        raise HTTPProblem(422, f"{where}: expected an object {{\"text\", \"id\", \"date\"}}, got {_json_type(obj)}")
    _check_keys(obj, ("text", "id", "date"), where)
    text = obj.get("text")
    if not isinstance(text, str):
        raise HTTPProblem(422, f"{where}.text: expected a string, got {_json_type(text)}")
    if len(text) > settings.max_chars:
        raise HTTPProblem(413, f"{where}.text: {len(text)} characters, over the limit of {settings.max_chars} "
                               "(--max-chars); split the text or raise the limit")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate from a "\ud800" escape: not Unicode text
        raise HTTPProblem(422, f"{where}.text: a lone surrogate {text[exc.start]!r} at character {exc.start} "
                               "is not valid Unicode") from None
    doc_id = obj.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int, type(None))):
        raise HTTPProblem(422, f"{where}.id: expected a string, got {_json_type(doc_id)}")
    raw_date = obj.get("date")
    try:
        doc_date = default_date if raw_date is None else parse_document_date(raw_date, f"{where}.date")
    except InputError as exc:
        raise HTTPProblem(422, str(exc)) from None
    # An integer id becomes its string, as `rasd predict` does with a JSONL line's id.
    return text, None if doc_id is None else str(doc_id), doc_date


def parse_request(body: bytes, settings: ServeSettings) -> ParsedRequest:
    """Validate an ``/extract`` body: 400 when it is not UTF-8 JSON, 422 for a wrong shape or type,
    413 over a limit (documents per request, characters per text).

    Example:
        >>> parse_request('{"text": "نص", "id": "a", "date": "2022-08-01"}'.encode(), ServeSettings())
        ParsedRequest(texts=['نص'], ids=['a'], dates=[datetime.date(2022, 8, 1)], single=True)
        >>> parse_request(b'{"documents": [{"text": 5}]}', ServeSettings())
        Traceback (most recent call last):
        ...
        rasd.serve.HTTPProblem: documents[0].text: expected a string, got number
    """
    from rasd.extractor import parse_document_date

    if not body.strip():
        raise HTTPProblem(400, 'empty body: send a JSON object, {"text": ...} or {"documents": [...]}')
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPProblem(400, f"the body is not valid UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start}") \
            from None
    try:
        obj = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise HTTPProblem(400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    if not isinstance(obj, dict):
        raise HTTPProblem(422, f'expected a JSON object, {{"text": ...}} or {{"documents": [...]}}, '
                               f"got {_json_type(obj)}")
    if "text" in obj and "documents" in obj:
        raise HTTPProblem(422, "give either 'text' (one document) or 'documents' (a list), not both")
    if "text" in obj:
        text, doc_id, doc_date = _document(obj, "body", None, settings)
        return ParsedRequest([text], [doc_id], [doc_date], single=True)
    if "documents" not in obj:
        raise HTTPProblem(422, f"the body needs 'text' (one document) or 'documents' (a list); got key(s) "
                               f"{', '.join(map(repr, obj)) or 'none'}")
    _check_keys(obj, ("documents", "date"), "body")
    docs = obj["documents"]
    if not isinstance(docs, list):
        raise HTTPProblem(422, f"documents: expected an array of objects, got {_json_type(docs)}")
    if not docs:
        raise HTTPProblem(422, "documents: the list is empty")
    if len(docs) > settings.max_docs:
        raise HTTPProblem(413, f"documents: {len(docs)} documents, over the limit of {settings.max_docs} per "
                               "request (--max-docs); send them in several requests")
    try:
        default_date = parse_document_date(obj.get("date"), "date")
    except InputError as exc:
        raise HTTPProblem(422, str(exc)) from None
    parsed = [_document(d, f"documents[{k}]", default_date, settings) for k, d in enumerate(docs)]
    return ParsedRequest([p[0] for p in parsed], [p[1] for p in parsed], [p[2] for p in parsed], single=False)


def _fastapi() -> Any:
    try:
        import fastapi
        import uvicorn  # noqa: F401  (checked together: the extra is both)
    except ImportError:
        raise InputError(SERVE_EXTRA) from None
    return fastapi


async def _read_body(request: Any, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPProblem(413, f"the body is {declared} bytes, over the limit of {limit} (--max-body-bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():  # chunked uploads carry no length: count as they come
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, f"the body is over the limit of {limit} bytes (--max-body-bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


_ERRORS = {status: {"description": why, "content": {"application/json": {"example": {"detail": example}}}}
           for status, why, example in (
               (400, "the body is not UTF-8 JSON", "the body is not valid JSON: Expecting value at line 1 column 1"),
               (413, "over a limit: body bytes, documents per request, characters per text",
                "documents: 80 documents, over the limit of 64 per request (--max-docs); send them in "
                "several requests"),
               (422, "a wrong shape or type, or an invalid date", "documents[2].text: expected a string, got null"),
               (503, "the queue is full or the server is stopping", "the server is busy: 256 document(s) are queued "
                "and the queue holds 256; retry shortly"))}
_DOC_SCHEMA = {"type": "object", "required": ["text"], "additionalProperties": False, "properties": {
    "text": {"type": "string", "description": "the article"},
    "id": {"type": ["string", "integer", "null"], "description": "returned as the document's id"},
    "date": {"type": ["string", "null"], "description": "publication date (ISO, YYYY-MM-DD): relative dates in the "
                                                        "text resolve against it"}}}
_REQUEST_BODY = {"required": True, "content": {"application/json": {
    "schema": {"oneOf": [_DOC_SCHEMA, {"type": "object", "required": ["documents"], "additionalProperties": False,
                                       "properties": {"documents": {"type": "array", "minItems": 1,
                                                                    "items": _DOC_SCHEMA},
                                                      "date": {"type": ["string", "null"],
                                                               "description": "date of documents without one"}}}]},
    "examples": {
        "one document": {"value": {"id": "a1", "text": "قصفت قوات النظام بلدة جاسم في ريف درعا", "date": "2022-08-01"}},
        "several documents": {"value": {"date": "2022-08-01", "documents": [
            {"id": "a1", "text": "قصفت قوات النظام بلدة جاسم في ريف درعا"},
            {"id": "a2", "text": "اعتقلت قوات الأمن شابين في حي الميدان", "date": "2022-08-02"}]}}}}}}


def create_app(extractor: Extractor, settings: ServeSettings | None = None, model_name: str | None = None) -> FastAPI:
    """The FastAPI application over an already loaded extractor (for embedding and tests).

    ``model_name`` is what ``/info`` reports as ``model`` (the folder or Hub id it was loaded from).

    The model worker starts with the app (or at the first request) and finishes the queue at shutdown.

    Example:
        >>> from rasd import Extractor
        >>> app = create_app(Extractor.from_pretrained("runs/tiny/model"))  # doctest: +SKIP
        >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    fastapi = _fastapi()
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from rasd import __version__
    from rasd.microbatch import Batcher, QueueFull, Stopped
    from rasd.options import model_info

    settings = settings or ServeSettings()
    batcher = Batcher(lambda texts, ids, dates: extractor(texts, ids=ids, dates=dates),
                      max_batch_docs=settings.max_batch_docs, max_wait_s=settings.max_wait_ms / 1000,
                      max_queue_docs=settings.max_queue_docs)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        batcher.start()
        yield
        await asyncio.to_thread(batcher.stop)

    app = fastapi.FastAPI(title="rasd", version=__version__, lifespan=lifespan,
                          description="Arabic news → incidents, entities and ACLED-style events, with exact "
                                      "character offsets. Each document is what `rasd predict` writes.")
    app.state.batcher = batcher
    app.state.settings = settings

    def problem(status: int, message: str) -> Any:
        return JSONResponse({"detail": message}, status_code=status)

    @app.exception_handler(HTTPProblem)
    async def _problem(request: Any, exc: HTTPProblem) -> Any:
        return problem(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Any, exc: Any) -> Any:  # 404, 405: the same {"detail": message} shape
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Any, exc: Any) -> Any:
        return problem(422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    @app.exception_handler(Exception)
    async def _internal(request: Any, exc: Exception) -> Any:  # a bug of ours: still a JSON message
        return problem(500, f"internal error: {type(exc).__name__}: {exc}")

    async def extract(request: Any) -> Any:
        parsed = parse_request(await _read_body(request, settings.max_body_bytes), settings)
        try:
            future = batcher.submit(parsed.texts, parsed.ids, parsed.dates)
        except (QueueFull, Stopped) as exc:
            raise HTTPProblem(503, str(exc)) from None
        try:
            docs = await asyncio.wrap_future(future)
        except InputError as exc:
            raise HTTPProblem(422, str(exc)) from None
        if parsed.single:
            return JSONResponse(docs[0].to_dict())
        return JSONResponse({"documents": [d.to_dict() for d in docs]})

    # This module's annotations are strings (postponed) and FastAPI is imported here, not at the top,
    # so FastAPI could not resolve "Request": hand it the class. The body is read raw, to tell
    # 400 (not UTF-8 JSON) from 422 (a wrong shape) and to stop reading at the size limit.
    extract.__annotations__["request"] = fastapi.Request
    app.post("/extract", summary="Extract from one document or a list", openapi_extra={"requestBody": _REQUEST_BODY},
             responses={200: {"description": "one document object, or {\"documents\": [...]} for a list; each as "
                                             "`rasd predict` writes it"}, **_ERRORS})(extract)

    @app.get("/health", summary="Liveness, queue and batching counters")
    async def health() -> Any:
        stats = asdict(batcher.stats())
        if not batcher.alive:
            return JSONResponse({"status": "unavailable", "detail": "the model worker is not running", **stats},
                                status_code=503)
        return {"status": "ok", **stats}

    @app.get("/info", summary="The model (as `rasd info --json`), device, precision and limits")
    async def info() -> Any:
        return {**model_info(model_name, extractor.config), "rasd_version": __version__,
                "device": str(extractor.device), "dtype": extractor.dtype,
                "batch_size": extractor.engine.batch_size, "limits": asdict(settings)}

    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; an InputError naming ``--host``/``--port`` when it cannot be had.

    Binding here, before uvicorn starts, gives a clear message, and ``port=0`` a free port without a race.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"--host {host}: cannot be resolved ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise InputError(f"--host {host} --port {port}: cannot listen there ({exc.strerror})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; yields its base URL (tests, notebooks).

    Example:
        >>> with serve_in_thread(app) as url:  # doctest: +SKIP
        ...     print(url)
        http://127.0.0.1:40123
    """
    import uvicorn

    sock = bind(host, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="rasd-serve", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server thread ended before it started; see its log above")
            thread.join(0.01)
        bound_host, bound_port = sock.getsockname()[:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rasd serve`` (argparse only: FastAPI loads when the command runs)."""
    d = ServeSettings()
    add_model_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for "
                                                            "every interface)")
    parser.add_argument("--port", type=non_negative, default=8000, help="TCP port (default 8000; 0: any free port)")
    parser.add_argument("--max-batch-docs", type=positive, default=d.max_batch_docs,
                        help=f"documents per model call, gathered from concurrent requests "
                             f"(default {d.max_batch_docs})")
    parser.add_argument("--max-wait-ms", type=float, default=d.max_wait_ms,
                        help=f"collection window: how long the first queued request waits for others to share its "
                             f"model call (default {d.max_wait_ms:g})")
    parser.add_argument("--max-queue", type=positive, default=d.max_queue_docs, dest="max_queue_docs",
                        help=f"documents waiting for the model at most; beyond, requests get 503 (default "
                             f"{d.max_queue_docs})")
    parser.add_argument("--max-docs", type=positive, default=d.max_docs,
                        help=f"documents per request (default {d.max_docs})")
    parser.add_argument("--max-chars", type=positive, default=d.max_chars,
                        help=f"characters per text (default {d.max_chars})")
    parser.add_argument("--max-body-bytes", type=positive, default=d.max_body_bytes,
                        help=f"request body size (default {d.max_body_bytes})")
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], default="info",
                        help="uvicorn's log level (default info: one access line per request)")


def run(args: argparse.Namespace) -> int:
    """``rasd serve``: load the model once, listen, serve until interrupted."""
    _fastapi()  # the missing extra is reported before the model loads
    import uvicorn
    from transformers.utils import logging as hf_logging

    from rasd.options import load_extractor

    settings = ServeSettings(max_docs=args.max_docs, max_chars=args.max_chars, max_body_bytes=args.max_body_bytes,
                             max_wait_ms=args.max_wait_ms, max_batch_docs=args.max_batch_docs,
                             max_queue_docs=args.max_queue_docs)
    sock = bind(args.host, args.port)  # before the model loads: a taken port fails at once
    hf_logging.disable_progress_bar()
    extractor = load_extractor(args)
    app = create_app(extractor, settings, model_name=args.model)
    host, port = sock.getsockname()[:2]
    print(f"rasd serve: {args.model} on {extractor.device} ({extractor.dtype}) at http://{host}:{port} "
          f"(API docs at /docs)", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, lifespan="on"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
