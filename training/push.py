"""Hub upload: ``python -m training push DIR --repo-id owner/name [--private] [--dry-run]``.

The token comes from ``HF_TOKEN`` or the login cache and is never printed or
logged. ``--dry-run`` validates the repo id and the card metadata (offline) and
lists what would be uploaded, without touching the network. A Hub that cannot be reached,
or that refuses the upload, is a :class:`PushError` saying so (what it answered, never the
token), not a traceback.

Example:
    >>> plan = plan_upload(Path("runs/tiny/model"), "someone/rasd-test")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rasd.errors import InputError
from training.card import validate_card_text


class PushError(InputError):
    """A push that cannot go ahead; the message says why (never the token)."""


@dataclass(frozen=True)
class UploadPlan:
    """What would be uploaded: the repo id and the files with their sizes."""

    repo_id: str
    folder: Path
    files: tuple[tuple[str, int], ...]

    def describe(self) -> str:
        total = sum(size for _, size in self.files)
        lines = [f"would upload {len(self.files)} files ({total / 1e6:.1f} MB) to {self.repo_id}:"]
        lines += [f"  {name}  ({size:,} bytes)" for name, size in self.files]
        return "\n".join(lines)


def check_repo_id(repo_id: str) -> None:
    """Raise :class:`PushError` unless ``repo_id`` is ``owner/name`` as the Hub accepts it."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise PushError(f"repo id {repo_id!r} must be of the form owner/name")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise PushError(f"repo id {repo_id!r} is not valid: {exc}") from None


def plan_upload(folder: Path, repo_id: str) -> UploadPlan:
    """Validate the folder (card, weights, no pickles) and list its files."""
    check_repo_id(repo_id)
    if not folder.is_dir():
        raise PushError(f"{folder}: no such folder")
    card = folder / "README.md"
    if not card.is_file():
        raise PushError(f"{card}: missing (export the run first: python -m training export RUN --out DIR)")
    problems = validate_card_text(card.read_text(encoding="utf-8"))
    if problems:
        raise PushError(f"{card}: " + "; ".join(problems))
    if not (folder / "model.safetensors").is_file():
        raise PushError(f"{folder / 'model.safetensors'}: missing")
    files = tuple(sorted((p.relative_to(folder).as_posix(), p.stat().st_size)
                         for p in folder.rglob("*") if p.is_file()))
    pickled = [name for name, _ in files if name.endswith((".bin", ".pt", ".pkl", ".pickle"))]
    if pickled:
        raise PushError(f"{folder}: pickled files would be uploaded ({', '.join(pickled)}); use safetensors")
    return UploadPlan(repo_id, folder, files)


def push(folder: Path, repo_id: str, private: bool = False, token: str | None = None,
         commit_message: str = "Upload rasd model") -> str:
    """Create the repo if needed and upload the folder; returns the commit URL."""
    from huggingface_hub import HfApi, get_token

    plan = plan_upload(folder, repo_id)
    token = token or os.environ.get("HF_TOKEN") or get_token()
    if not token:
        raise PushError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
    api = HfApi(token=token)
    try:
        api.create_repo(plan.repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(plan.folder), repo_id=plan.repo_id, repo_type="model",
                                 commit_message=commit_message)
    except Exception as exc:
        hub_error = _hub_error(exc, plan.repo_id, token)
        if hub_error is None:
            raise
        raise hub_error from None
    return str(getattr(info, "commit_url", info))


def _hub_error(exc: Exception, repo_id: str, token: str) -> PushError | None:
    """The :class:`PushError` for a failure of the Hub or of the way to it; None for anything else (a bug)."""
    from huggingface_hub import errors

    transport = getattr(errors, "HTTPError", ConnectionError)  # the HTTP library's base error, re-exported
    # Neither an answer nor a connection error should carry the token, but never let it through.
    detail = (str(exc).splitlines() or [type(exc).__name__])[0].replace(token, "<token>")
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        answer = detail if status is None or detail.startswith(str(status)) else f"{status} {detail}"
        hint = " (check that the token may write to this repo)" if status in (401, 403) else ""
        return PushError(f"{repo_id}: the Hugging Face Hub answered {answer}{hint}")
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return PushError(f"{repo_id}: HF_HUB_OFFLINE is set, so nothing can be uploaded (unset it to push)")
    if isinstance(exc, (transport, ConnectionError, TimeoutError)):
        return PushError(f"{repo_id}: could not reach the Hugging Face Hub ({type(exc).__name__}: {detail}); "
                         "check the network connection or proxy and push again")
    return None
