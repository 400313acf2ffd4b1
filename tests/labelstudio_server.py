"""A real Label Studio for the annotation-loop round trip: its own virtualenv, a throwaway server, its HTTP API.

Label Studio pins many packages (Django, pandas, numpy …), so it never goes into the project's
environment: :func:`ensure_venv` installs it once into ``~/.cache/rasd-labelstudio-venv`` (or
``$RASD_LABELSTUDIO_VENV``) and later runs reuse it. :class:`LabelStudio` starts it on 127.0.0.1,
on a free port, with a temporary data folder (SQLite database, media) and a known API token, waits
for ``/health`` and stops it (and removes the folder) on exit. :func:`roundtrip` is the loop that
``tests/test_labelstudio.py`` checks and that this file runs by hand::

    python tests/labelstudio_server.py --model runs/tiny/model   # default: a tiny random model
    python tests/labelstudio_server.py --keep                     # leave the server up to look at it

The endpoints used (``POST /api/projects``, ``POST /api/projects/{id}/import``, ``GET
/api/tasks/{id}``, ``POST /api/tasks/{id}/annotations``, ``GET /api/projects/{id}/export``) are
those of Label Studio 1.x's community edition (checked against 1.23.2's source and API docs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import venv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VENV = Path(os.environ.get("RASD_LABELSTUDIO_VENV", "~/.cache/rasd-labelstudio-venv")).expanduser()
# sentry-sdk 3 removed options that Label Studio (1.23) still passes at start-up, and Label Studio
# does not bound it: without the pin a fresh install dies with "Unknown option 'send_default_pii'".
REQUIREMENTS = ("label-studio", "sentry-sdk<3")
_READY = "rasd-ready"   # written into the venv once the install succeeded; a half-made venv is redone


class Unavailable(RuntimeError):
    """Label Studio could not be installed or started (the reason says which, with the log's tail)."""


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_venv(path: Path = VENV, timeout: float = 1800.0) -> Path:
    """The ``label-studio`` executable of the virtualenv at ``path``, installing it there first if needed.

    Example:
        >>> exe = ensure_venv()  # doctest: +SKIP
        >>> exe.name  # doctest: +SKIP
        'label-studio'
    """
    exe = path / "bin" / "label-studio"
    if (path / _READY).exists() and exe.exists():
        return exe
    try:
        if not (path / "bin" / "python").exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(path)
        pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        done = subprocess.run([*pip, *REQUIREMENTS], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"cannot create the Label Studio virtualenv at {path}: {exc}") from exc
    if done.returncode != 0 or not exe.exists():
        raise Unavailable(f"pip install {' '.join(REQUIREMENTS)} into {path} failed "
                          f"(exit {done.returncode}):\n{_tail(done.stdout + done.stderr)}")
    (path / _READY).write_text(" ".join(REQUIREMENTS) + "\n", encoding="utf-8")
    return exe


def installed_version(exe: Path) -> str:
    """The version of the Label Studio that ``exe`` runs (read from the package, no server start)."""
    python = exe.parent / "python"
    done = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or "unknown"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabelStudio:
    """A Label Studio server for one test: temporary data folder, free port, known user and token.

    Example:
        >>> with LabelStudio(ensure_venv()) as ls:  # doctest: +SKIP
        ...     project = ls.api("POST", "/api/projects", {"title": "t", "label_config": labelling_config()})
    """

    def __init__(self, exe: Path, data_dir: Path | None = None, port: int | None = None,
                 username: str = "rasd@example.com", password: str = "rasd-test-password",
                 token: str = "rasd0123456789abcdef0123456789abcdef0123", start_timeout: float = 300.0) -> None:
        self.exe, self.username, self.password, self.token = exe, username, password, token
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="rasd-labelstudio-")) if data_dir is None else data_dir
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"

    @classmethod
    def from_template(cls, exe: Path, **kwargs: Any) -> LabelStudio:
        """A server on a copy of a migrated, empty data folder kept beside the venv (made on first use).

        A fresh folder spends a minute or more on Django migrations at start; a copy of one
        already migrated (with the same user and token) starts in seconds.
        """
        template = exe.parents[1] / "rasd-template-data"
        probe = cls(exe, data_dir=template, **kwargs)
        key = json.dumps([installed_version(exe), probe.username, probe.password, probe.token])
        if not (template / "rasd-template.json").exists() or \
                (template / "rasd-template.json").read_text(encoding="utf-8") != key:
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir(parents=True)
            probe.start().stop()  # migrates the database and creates the user with its token
            (template / "rasd-template.json").write_text(key, encoding="utf-8")
        server = cls(exe, **kwargs)
        shutil.copytree(template, server.data_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("server.log", "rasd-template.json"))
        return server

    def _command(self) -> list[str]:
        cmd = [str(self.exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port),
               "--username", self.username, "--password", self.password, "--user-token", self.token]
        # Recent releases (1.23 has it) treat a user token as a "legacy" token, refused unless the
        # organisation allows them; older releases do not know the flag and accept the token anyway.
        helptext = subprocess.run([str(self.exe), "start", "--help"], capture_output=True, text=True, timeout=120,
                                  env=self._env(), cwd=self.data_dir)
        if "--enable-legacy-api-token" in helptext.stdout:
            cmd.append("--enable-legacy-api-token")
        return cmd

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
        # The data folder holds the SQLite database and .env: nothing lands in ~/.local/share.
        # No look-ups on the network at start (version check, analytics): the machine may have none.
        return env | {"LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir), "LATEST_VERSION_CHECK": "false",
                      "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
                      "PYTHONUNBUFFERED": "1"}

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self) -> LabelStudio:
        """Start the server and wait for ``/health``; :class:`Unavailable` (with the log) when it does not come up."""
        log = open(self.log_path, "wb")  # noqa: SIM115 - the child writes to it until stop()
        try:
            self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=self._env(), cwd=self.data_dir,
                                            start_new_session=True)
        except OSError as exc:
            raise Unavailable(f"cannot run {self.exe}: {exc}") from exc
        finally:
            log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Unavailable(f"label-studio exited with {self.process.returncode} at start:\n{_tail(self.log())}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as r:
                    if json.loads(r.read()).get("status") == "UP":
                        return self
            except (OSError, ValueError):
                pass
            time.sleep(1.0)
        self.stop()
        raise Unavailable(f"label-studio did not answer /health within {self.start_timeout:.0f} s:\n"
                          f"{_tail(self.log())}")

    def stop(self) -> None:
        """Stop the server (its whole process group) and remove a temporary data folder."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 15)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, 9)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        self.process = None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LabelStudio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def api(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
            timeout: float = 120.0) -> Any:
        """One API call with the token; the decoded JSON answer. An HTTP error raises with Label Studio's message."""
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Token {self.token}",
                                              "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:2000]
            raise RuntimeError(f"{method} {path}: HTTP {exc.code}: {detail}") from None
        return json.loads(raw) if raw else None


def correct(result: Sequence[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The annotator's version of a prediction: scores dropped, one entity fixed, one region deleted.

    The first entity region of two or more characters loses its first character (as when a
    proclitic is taken out of a span) and changes label; the last incident region is deleted
    as a false alarm; the rest are accepted as predicted, each keeping its ``id``. Entities stay
    flat (a region only shrinks), so the builder has nothing to object to.

    Example:
        >>> r = [{"id": "e0", "from_name": "entity", "to_name": "text", "type": "labels", "score": 0.9,
        ...       "value": {"start": 0, "end": 5, "text": "وجاسم", "labels": ["LOC"]}}]
        >>> correct(r, "وجاسم")[0]["value"]
        {'start': 1, 'end': 5, 'text': 'جاسم', 'labels': ['PER']}
    """
    regions = [{k: v for k, v in r.items() if k != "score"} for r in result]
    for r in regions:
        value = r["value"]
        if r["from_name"] == "entity" and value["end"] - value["start"] >= 2:
            start, end = value["start"] + 1, value["end"]
            label = "PER" if value["labels"] != ["PER"] else "LOC"
            r["value"] = {"start": start, "end": end, "text": text[start:end], "labels": [label]}
            break
    incidents = [k for k, r in enumerate(regions) if r["from_name"] == "incident"]
    if incidents:
        del regions[incidents[-1]]
    return regions


def roundtrip(ls: LabelStudio, config: str, tasks: Sequence[dict[str, Any]], work: Path) -> dict[str, Any]:
    """Predicted tasks → Label Studio → corrected annotations → JSON export; what was sent and what came back.

    Returns ``{"project", "export_path", "submitted": {doc id: result list}, "stored_predictions":
    {doc id: prediction as Label Studio serves it}}``.
    """
    project = ls.api("POST", "/api/projects", {"title": "rasd round trip", "label_config": config})
    pid = project["id"]
    imported = ls.api("POST", f"/api/projects/{pid}/import", list(tasks), query={"return_task_ids": "true"})
    task_ids = imported.get("task_ids") or []
    if imported.get("task_count") != len(tasks) or len(task_ids) != len(tasks):
        raise AssertionError(f"import: {len(tasks)} tasks sent, Label Studio answered {imported}")
    submitted: dict[str, list[dict[str, Any]]] = {}
    stored: dict[str, dict[str, Any]] = {}
    for tid in task_ids:
        task = ls.api("GET", f"/api/tasks/{tid}")
        doc_id, text = task["data"]["id"], task["data"]["text"]
        predictions = task.get("predictions") or []
        if len(predictions) != 1:
            raise AssertionError(f"task {tid} ({doc_id}): {len(predictions)} predictions stored, 1 sent")
        stored[doc_id] = predictions[0]
        result = correct(predictions[0]["result"], text)
        ls.api("POST", f"/api/tasks/{tid}/annotations", {"result": result, "was_cancelled": False,
                                                          "ground_truth": False})
        submitted[doc_id] = result
    exported = ls.api("GET", f"/api/projects/{pid}/export", query={"exportType": "JSON"})
    export_path = work / "labelstudio-export.json"
    export_path.write_text(json.dumps(exported, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"project": pid, "export_path": export_path, "submitted": submitted, "stored_predictions": stored}


def validate_predictions(exe: Path, config: str, tasks: Sequence[dict[str, Any]]) -> list[str]:
    """Label Studio's own prediction check (``LabelInterface.validate_prediction`` of its SDK), run in its venv.

    The community edition only logs what fails it at import (behind a feature flag it refuses the
    import), so the test asks the SDK directly. Returns the errors, none when every prediction fits.
    """
    script = ("import json, sys\n"
              "from label_studio_sdk.label_interface import LabelInterface\n"
              "config, tasks = json.load(sys.stdin)\n"
              "li = LabelInterface(config)\n"
              "errors = []\n"
              "for i, t in enumerate(tasks):\n"
              "    for p in t.get('predictions', []):\n"
              "        errors += [f'task {i}: {e}' for e in (li.validate_prediction(p, return_errors=True) or [])]\n"
              "print(json.dumps(errors))\n")
    done = subprocess.run([str(exe.parent / "python"), "-c", script], input=json.dumps([config, list(tasks)]),
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"validate_prediction failed to run:\n{_tail(done.stderr)}")
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def _main(argv: Sequence[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rasd.labelstudio import labelling_config

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="rasd model folder (default: a tiny random model made for the run)")
    p.add_argument("--keep", action="store_true", help="leave the server running until Ctrl-C")
    args = p.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    exe = ensure_venv()
    print(f"label-studio {installed_version(exe)} from {exe}")
    with tempfile.TemporaryDirectory(prefix="rasd-ls-roundtrip-") as tmp:
        work = Path(tmp)
        model = args.model
        if model is None:
            from conftest import make_random_model

            model = str(make_random_model(work / "model"))
        tasks_path = work / "tasks.json"
        subprocess.run([sys.executable, "-m", "rasd", "predict", "--model", model, "--format", "labelstudio",
                        "--out", str(tasks_path), "--quiet", *map(str, sorted((root / "seeds").glob("*.txt")))],
                       check=True, cwd=root)
        tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
        config = labelling_config()
        errors = validate_predictions(exe, config, tasks)
        print(f"{len(tasks)} tasks, {sum(len(t['predictions'][0]['result']) for t in tasks)} regions; "
              f"validate_prediction: {len(errors)} error(s)", *errors[:5], sep="\n")
        with LabelStudio.from_template(exe) as ls:
            print(f"server up at {ls.url} (token {ls.token})")
            out = roundtrip(ls, config, tasks, work)
            done = subprocess.run([sys.executable, "-m", "training", "build", str(out["export_path"]),
                                   "--label-map", "spec", "--out", str(work / "built")], cwd=root)
            print(f"project {out['project']}: export {out['export_path']}; build exit {done.returncode}")
            if args.keep:
                print("Ctrl-C to stop")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(_main())
