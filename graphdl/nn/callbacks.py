"""Training callbacks and the History that ``fit`` returns."""

import io
import math
from pathlib import Path

from ..errors import GraphError
from ..fileio import write_atomic

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback"]


class Callback:
    """Hooks ``fit`` calls; ``self.model`` is the model being trained.

    Set ``self.model.stop_training = True`` to end training after this epoch.
    """

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=fn)``."""

    def __init__(self, on_epoch_end=None, on_train_end=None):
        self._epoch_end, self._train_end = on_epoch_end, on_train_end

    def on_epoch_end(self, epoch, logs=None):
        if self._epoch_end:
            self._epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if self._train_end:
            self._train_end(logs)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``mode``: "min", "max" or "auto" (max for accuracies, else min).
    ``restore_best_weights``: put back the weights of the best epoch at the end.
    ``stopped_epoch`` is the epoch training stopped after (0 if it ran to the end).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False):
        if mode not in ("auto", "min", "max"):
            raise GraphError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.mode = mode if mode != "auto" else ("max" if "acc" in monitor else "min")
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor not in (logs or {}):
            raise GraphError(f"EarlyStopping: monitored quantity {self.monitor!r} is not "
                             f"logged; available: {', '.join(sorted(logs or {}))}")
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class History(Callback):
    """What ``fit`` returns: ``history.history["loss"]`` (one value per epoch), and
    the same for each metric and their ``val_`` versions; ``history.epoch``."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def plot(self, path, title=None):
        """Write loss (and each metric) per epoch, training and validation, to ``path``.

        The format follows the suffix (.png or .svg); the file is written atomically.
        """
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise GraphError(f"history.plot: {str(path)!r} must end in .png or .svg")
        if not self.history:
            raise GraphError("history.plot: nothing to plot (no epoch has run)")
        import matplotlib  # noqa: PLC0415 (plotting is optional at import time)
        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure  # noqa: PLC0415 (no pyplot: no global state)

        keys = [k for k in self.history if not k.startswith("val_")]
        fig = Figure(figsize=(4.5 * len(keys), 3.6))
        for i, key in enumerate(keys):
            ax = fig.add_subplot(1, len(keys), i + 1)
            epochs = [e + 1 for e in self.epoch]
            ax.plot(epochs, self.history[key], marker="o", label="training")
            if "val_" + key in self.history:
                ax.plot(epochs, self.history["val_" + key], marker="s", label="validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.grid(alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110)
        write_atomic(path, buf.getvalue())
        return path
