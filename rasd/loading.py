"""Loading a rasd model folder (or Hub id) safely, with errors that name the broken file.

Weights are read from safetensors only (nothing is unpickled) and no remote code
runs unless the caller asks for it.

Example:
    >>> model, tokenizer = load_model_and_tokenizer("runs/tiny/model")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from rasd.errors import InputError

_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "tokenizer.model")


class ModelLoadError(InputError):
    """A model folder that cannot be loaded; the message names the file and the problem."""


def _check_config(folder: Path) -> None:
    config = folder / "config.json"
    if not config.is_file():
        raise ModelLoadError(f"{config}: missing (is {folder} a rasd model folder?)")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{config}: not valid JSON ({exc})") from None
    if data.get("model_type") != "rasd":
        raise ModelLoadError(f"{config}: model_type is {data.get('model_type')!r}, not 'rasd' "
                             "(a plain token-classification export loads with transformers directly)")


def _check_folder(folder: Path) -> None:
    _check_config(folder)
    weights = [folder / "model.safetensors", folder / "model.safetensors.index.json"]
    if not any(p.is_file() for p in weights):
        pickles = [p.name for p in folder.glob("*.bin")]
        hint = f" ({', '.join(pickles)} found: pickled weights are not loaded)" if pickles else ""
        raise ModelLoadError(f"{folder / 'model.safetensors'}: missing{hint}")
    if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
        raise ModelLoadError(f"{folder}: no tokenizer file ({', '.join(_TOKENIZER_FILES)})")


def _is_hub_id(path_or_id: str | Path) -> bool:
    """Whether a path that is not a local folder should be looked up on the Hub.

    ``owner/name`` is also a relative path: when ``owner`` is a folder here (``runs/model``
    with ``runs/`` present), the user meant a local folder that is missing, and asking the
    Hub would only turn "no such folder" into a network error.
    """
    text = str(path_or_id)
    if Path(text).exists() or text.startswith((".", "/", "~")) or text.count("/") != 1 or "\\" in text:
        return False
    owner, name = text.split("/")
    return bool(owner and name) and not Path(owner).is_dir()


def _not_found(path_or_id: str | Path) -> ModelLoadError:
    text = str(path_or_id)
    if Path(text).is_file():
        return ModelLoadError(f"{text}: a file, not a model folder (give the folder that holds config.json)")
    parent = Path(text).parent
    if text.count("/") == 1 and parent.is_dir() and str(parent) not in ("", "."):
        return ModelLoadError(f"{text}: no such folder ({parent}/ exists here, so this is not read as a Hub id)")
    return ModelLoadError(f"{text}: no such folder, and not a Hub id of the form owner/name")


def read_config(path_or_id: str | Path, revision: str | None = None) -> Any:
    """The model's :class:`~rasd.modeling.RasdConfig` alone (no weights are read).

    Example:
        >>> read_config("runs/tiny/model").incident_labels[0]  # doctest: +SKIP
        'armed_clash'
    """
    from rasd.modeling import RasdConfig

    folder = Path(path_or_id)
    if folder.is_dir():
        _check_config(folder)
    elif not _is_hub_id(path_or_id):
        raise _not_found(path_or_id)
    try:
        return RasdConfig.from_pretrained(str(path_or_id), revision=revision)
    except (OSError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path_or_id}: cannot read the config ({type(exc).__name__}: {exc})") from None


def load_model_and_tokenizer(path_or_id: str | Path, device: str | torch.device | None = None,
                             dtype: torch.dtype | None = None, revision: str | None = None,
                             trust_remote_code: bool = False) -> tuple[Any, Any]:
    """The :class:`~rasd.modeling.RasdModel` (in eval mode) and its tokenizer.

    Raises:
        ModelLoadError: when a file is missing or corrupt, naming it.
    """
    from transformers import AutoTokenizer

    from rasd.modeling import RasdModel

    folder = Path(path_or_id)
    local = folder.is_dir()
    if local:
        _check_folder(folder)
    elif not _is_hub_id(path_or_id):
        raise _not_found(path_or_id)
    try:
        state_dict = _read_weights(folder) if local else None
        if state_dict is not None:
            model = RasdModel.from_pretrained(None, config=read_config(folder), state_dict=state_dict,
                                              dtype=dtype or torch.float32)
            del state_dict
        else:
            model = RasdModel.from_pretrained(str(path_or_id), revision=revision, use_safetensors=True,
                                              dtype=dtype or torch.float32, trust_remote_code=trust_remote_code)
    except Exception as exc:  # safetensors, torch and transformers raise many kinds; all mean "unusable"
        where = folder / "model.safetensors" if local else path_or_id
        raise ModelLoadError(f"{where}: cannot load the weights ({type(exc).__name__}: {exc})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path_or_id), revision=revision,
                                                  trust_remote_code=trust_remote_code)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path_or_id}: cannot load the tokenizer ({type(exc).__name__}: {exc})") from None
    if device is not None:
        model.to(device)
    return model.eval(), tokenizer


def _read_weights(folder: Path) -> dict[str, torch.Tensor] | None:
    """The weights of a single-file checkpoint, read (not memory-mapped) into process memory.

    With a memory map, every page the model touches stays counted in the process's memory
    as long as any tensor views the file, on top of converted copies (oneDNN, bf16, int8):
    reading owns one copy and keeps peak memory near the model's size.
    """
    from safetensors import safe_open

    path = folder / "model.safetensors"
    if not path.is_file():
        return None  # sharded checkpoint: transformers reads the index itself
    with safe_open(str(path), framework="pt", device="cpu", backend="pread") as fh:
        return {name: fh.get_tensor(name) for name in fh.keys()}
