"""A run's logs: ``train.log`` (the ``training`` and ``transformers`` loggers) and ``train_log.jsonl``.

:func:`run_logging` attaches the file handler for the length of one run and always takes it
off again (also when the run fails), so a second run in the same process never writes into
the first one's log and no file stays open. :class:`LogFileCallback` appends every Trainer
log record to the JSON Lines file; :func:`truncate_log` cuts that file back to the checkpoint
a resumed run starts from.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with run_logging(folder / "train.log"):
    ...     logging.getLogger("training").info("epoch 1 done")
    >>> "epoch 1 done" in (folder / "train.log").read_text(encoding="utf-8")
    True
    >>> logging.getLogger("training").info("after the run")
    >>> "after the run" in (folder / "train.log").read_text(encoding="utf-8")
    False
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

logger = logging.getLogger("training")
#: The loggers a run's ``train.log`` collects.
LOGGERS = ("training", "transformers")


@contextmanager
def run_logging(path: Path, append: bool = False) -> Iterator[logging.Handler]:
    """Log the ``training`` (at INFO) and ``transformers`` loggers to ``path`` while the block runs."""
    handler = logging.FileHandler(path, mode="a" if append else "w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in LOGGERS]
    level = logger.level
    for each in loggers:
        each.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for each in loggers:
            each.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


class LogFileCallback(TrainerCallback):
    """Appends every Trainer log record to a JSON Lines file and the run log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        if logs:
            record = {"step": state.global_step, "epoch": state.epoch, **logs}
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
            logger.info("step %s: %s", state.global_step, json.dumps(logs))


def truncate_log(log: Path, checkpoint: Path) -> None:
    """Drop the log lines past the checkpoint a run resumes from, so the log is one trajectory.

    The checkpoint kept may be older than the last logged step (``save_total_limit`` keeps the
    best one); the steps after it are trained again and logged again.
    """
    if not log.exists():
        return
    step = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
    lines = log.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["step"] <= step]
    if len(kept) < len(lines):
        logger.info("train_log.jsonl: %d lines past step %d dropped (trained again from the checkpoint)",
                    len(lines) - len(kept), step)
    log.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
