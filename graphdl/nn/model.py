"""Sequential models with Keras-style training: compile, fit, evaluate, predict.

    model = gd.nn.Sequential([gd.nn.Flatten(), gd.nn.Dense(128, activation="relu"),
                              gd.nn.Dropout(0.2), gd.nn.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, validation_split=0.1)
    model.evaluate(x_test, y_test)

A model owns a graph: an input placeholder, a bool ``training`` placeholder it
feeds (True in ``fit``, False otherwise, so Dropout is active only while
training), the layers' output, and — once it has seen labels — a label
placeholder, the loss, the metrics and ONE training op from the optimizer. A
:class:`~graphdl.Session` on the model's backend runs it; the backend is the
fastest one registered unless ``compile(backend=...)`` names one.
"""

import os
import sys
import time

import numpy as np

from .. import checkpoint as _ckpt
from .. import dtypes as _dt
from .. import losses as _losses
from .. import metrics as _metrics
from .. import optim as _optim
from ..backends import available_backends
from ..errors import GraphError
from ..graph import Graph, name_scope
from ..ops.reduction import sum as reduce_sum
from ..ops.sources import placeholder
from ..session import Session
from ..shapes import fmt
from .callbacks import Callback, History
from .layers import Layer

__all__ = ["Sequential", "default_backend", "FASTEST_FIRST"]

#: backends in order of preference when a model does not name one
FASTEST_FIRST = ("numba", "numpy")


def default_backend():
    """``$GRAPHDL_BACKEND`` when set, else the fastest registered backend: "numba"
    once it exists, else "numpy"."""
    chosen = os.environ.get("GRAPHDL_BACKEND")
    if chosen:
        return chosen
    registered = available_backends()
    for name in FASTEST_FIRST:
        if name in registered:
            return name
    return registered[0]


class Sequential:
    """A stack of layers, each applied to the previous one's output.

    ``input_shape`` (without the batch axis; or the first layer's ``input_shape``)
    builds the graph right away; otherwise it is built from the first data the
    model sees. ``seed`` seeds the
    initial weights, dropout and the shuffling in ``fit``.
    """

    def __init__(self, layers=(), input_shape=None, name="sequential", seed=0):
        self.layers = []
        for layer in layers:
            self.add(layer)
        self.name, self.seed = name, seed
        self.graph = None
        self.session = None
        self.backend = None  # chosen by compile(); default: the fastest registered
        self.stop_training = False
        self._compiled = None  # (optimizer, loss fn, metric fns, backend)
        self._train = None  # the label placeholder, loss, metrics and train op
        if input_shape is None and self.layers:
            input_shape = self.layers[0].input_shape
        if input_shape is not None:
            self.build(input_shape)

    def add(self, layer):
        """Append a layer (before the model is built)."""
        if not isinstance(layer, Layer):
            raise GraphError(f"Sequential: {layer!r} is not a gd.nn layer")
        if getattr(self, "graph", None) is not None:
            raise GraphError("Sequential.add: the model is already built")
        self.layers.append(layer)

    # -- graph ---------------------------------------------------------------------
    def __call__(self, x, training=False):
        """Apply the layers to ``x`` in the current graph; returns the output tensor."""
        self.output_shapes = []
        for layer in self.layers:
            x = layer(x, training=training)
            self.output_shapes.append(x.shape)
        return x

    def build(self, input_shape):
        """Build the forward graph for inputs of shape (batch, *input_shape)."""
        if self.graph is not None:
            return
        if not self.layers:
            raise GraphError("Sequential: a model needs at least one layer")
        self.input_shape = tuple(int(d) for d in input_shape)
        self.graph = Graph(seed=self.seed)
        with self.graph.as_default():
            self.input = placeholder((None, *self.input_shape), name="x")
            self.training = placeholder((), "bool", name="training")
            with name_scope(self.name):
                self.output = self(self.input, training=self.training)
        self._make_session()

    @property
    def variables(self):
        """Every layer's variables (the weights), in layer order."""
        return [v for layer in self.layers for v in layer.variables]

    @property
    def trainable_variables(self):
        return [v for v in self.variables if v.trainable]

    def summary(self, print_fn=print):
        """Print each layer's name, output shape and parameter count."""
        self._require_built("summary")
        rows = [(f"{layer.name} ({type(layer).__name__})", fmt(shape),
                 sum(int(np.prod(v.shape)) for v in layer.variables))
                for layer, shape in zip(self.layers, self.output_shapes)]
        width = max(len(r[0]) for r in rows) + 2
        print_fn(f"{'layer':<{width}}{'output shape':<22}params")
        for name, shape, n in rows:
            print_fn(f"{name:<{width}}{shape:<22}{n}")
        print_fn(f"total params: {sum(r[2] for r in rows)}")

    # -- training setup ---------------------------------------------------------
    def compile(self, optimizer="adam", loss="mse", metrics=(), backend=None):
        """Choose the optimizer (name or gd.optim instance), the loss (Keras name or
        function (y_true, y_pred) -> scalar), metrics (names or functions) and the
        Session backend (default: the fastest registered one)."""
        metric_fns = [(_metrics.name_of(m), _metrics.get(m)) for m in (metrics or ())]
        self._compiled = (_optim.get(optimizer), _losses.get(loss), metric_fns,
                          backend or default_backend())
        self._train = None
        self.backend = self._compiled[3]
        if self.graph is not None:
            self._make_session()

    def _make_session(self):
        """A Session on the chosen backend; switching backends carries the weights over."""
        backend = self.backend or default_backend()
        if self.session is None or self.session.backend.name != backend:
            values = self.get_weights() if self.session is not None else None
            self.session = Session(self.graph, backend=backend, seed=self.seed)
            if values:
                self.set_weights(values)

    def _build_training(self, Y):
        """Labels placeholder shaped and typed like ``Y``, the loss, metrics, train op."""
        optimizer, loss_fn, metric_fns, _ = self._compiled
        Y = np.asarray(Y)
        dtype = "int64" if _dt.is_int(Y.dtype) else "float32"
        with self.graph.as_default():
            labels = placeholder((None, *Y.shape[1:]), dtype, name="y")
            with name_scope("loss"):
                loss = loss_fn(labels, self.output)
                penalties = [p for layer in self.layers for p in layer.losses]
                for p in penalties:
                    loss = loss + reduce_sum(p)
            with name_scope("metrics"):
                metrics = {name: fn(labels, self.output) for name, fn in metric_fns}
            train = optimizer.minimize(loss, var_list=self.trainable_variables)
        self._train = {"labels": labels, "loss": loss, "metrics": metrics, "train": train}
        self.loss, self.train_op = loss, train

    def _require_built(self, what):
        if self.graph is None:
            raise GraphError(f"Sequential.{what}: the model is not built yet; pass "
                             "input_shape=... or call fit/predict first")

    def _prepare(self, X, Y=None, what="fit"):
        if self._compiled is None and Y is not None:
            raise GraphError(f"Sequential.{what}: call model.compile(optimizer, loss) first")
        X = np.asarray(X)
        if X.ndim < 1 or len(X) == 0:
            raise GraphError(f"Sequential.{what}: X is empty")
        self.build(X.shape[1:])
        if Y is not None:
            Y = np.asarray(Y)
            if len(Y) != len(X):
                raise GraphError(f"Sequential.{what}: X has {len(X)} rows but Y has {len(Y)}")
            if self._train is None:
                self._build_training(Y)
        return X, Y

    # -- running -----------------------------------------------------------------
    def _run_batches(self, fetch, X, Y, batch_size, training, order=None, bar=None):
        """Mean of each fetched scalar over the batches (weighted by batch size)."""
        t = self._train
        totals, n = {}, 0
        order = np.arange(len(X)) if order is None else order
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            feed = {self.input: X[idx], t["labels"]: Y[idx], self.training: training}
            values = self.session.run(fetch, feed)
            for k, v in values.items():
                if k != "train":
                    totals[k] = totals.get(k, 0.0) + float(v) * len(idx)
            n += len(idx)
            if bar is not None:
                bar.set_postfix({k: f"{v / n:.4f}" for k, v in totals.items()}, refresh=False)
                bar.update(1)
        return {k: v / n for k, v in totals.items()}

    def fit(self, X, Y, epochs=1, batch_size=32, validation_split=0.0, validation_data=None,
            shuffle=True, callbacks=(), verbose=1):
        """Train for ``epochs`` passes over (X, Y) in mini-batches; return a History.

        ``validation_split`` holds out that fraction of the rows (the last ones,
        before shuffling) and ``validation_data=(X_val, Y_val)`` gives them
        directly; their loss and metrics are logged as ``val_*``. ``verbose=1``:
        a progress bar per epoch with the running loss and metrics (quiet when
        the output is not a terminal); 2: one line per epoch; 0: silent.
        """
        X, Y = self._prepare(X, Y, "fit")
        if validation_data is None and validation_split:
            if not 0.0 < validation_split < 1.0:
                raise GraphError(f"fit: validation_split must be in (0, 1), got "
                                 f"{validation_split!r}")
            cut = len(X) - int(round(len(X) * validation_split))
            X, Y, validation_data = X[:cut], Y[:cut], (X[cut:], Y[cut:])
        history = History()
        history.epoch_times = []
        cbs = [history, *callbacks]
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise GraphError(f"fit: callback {cb!r} is not a gd.nn.Callback")
            cb.set_model(self)
        self.stop_training = False
        rng = np.random.default_rng(self.seed)
        t = self._train
        fetch = {"train": t["train"], "loss": t["loss"], **t["metrics"]}
        n_batches = -(-len(X) // batch_size)
        for cb in cbs:
            cb.on_train_begin()
        for epoch in range(epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            order = rng.permutation(len(X)) if shuffle else None
            bar = _progress(n_batches, f"Epoch {epoch + 1}/{epochs}", verbose)
            try:
                logs = self._run_batches(fetch, X, Y, batch_size, True, order, bar)
                if validation_data is not None:
                    val = self.evaluate(*validation_data, batch_size=max(batch_size, 256),
                                        return_dict=True)
                    logs.update({"val_" + k: v for k, v in val.items()})
                    if bar is not None:
                        bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            finally:
                if bar is not None:
                    bar.close()
            history.epoch_times.append(time.perf_counter() - start)
            if verbose == 2:
                print(f"epoch {epoch + 1}/{epochs} ({history.epoch_times[-1]:.2f} s): "
                      + "  ".join(f"{k} {v:.4f}" for k, v in logs.items()))
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in cbs:
            cb.on_train_end()
        return history

    def evaluate(self, X, Y, batch_size=256, verbose=0, return_dict=False):
        """Loss and metrics on (X, Y) without dropout: ``[loss, *metrics]`` (the loss
        alone when there are no metrics), or a dict with ``return_dict``."""
        X, Y = self._prepare(X, Y, "evaluate")
        t = self._train
        fetch = {"loss": t["loss"], **t["metrics"]}
        logs = self._run_batches(fetch, X, Y, batch_size, False)
        if verbose:
            print("  ".join(f"{k} {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, X, batch_size=256):
        """The model's output for every row of X (no dropout), as one array."""
        X, _ = self._prepare(X, None, "predict")
        outs = [self.session.run(self.output, {self.input: X[i:i + batch_size],
                                               self.training: False})
                for i in range(0, len(X), batch_size)]
        return np.concatenate(outs, axis=0)

    # -- weights and checkpoints ------------------------------------------------
    def get_weights(self):
        """{variable name: array} of every layer variable."""
        self._require_built("get_weights")
        vs = self.variables
        return dict(zip([v.name for v in vs], self.session.run(vs)))

    def set_weights(self, weights):
        """Set layer variables from {name: array}; checks all names and shapes first."""
        self._require_built("set_weights")
        _ckpt.check_fits("weights", weights, self.variables)
        _ckpt.assign_values(self.session, {v: weights[v.name] for v in self.variables})

    def _signature(self):
        return [type(layer).__name__ for layer in self.layers]

    def save(self, path):
        """Write the weights to ``path`` (.npz, atomically) with the model's layout."""
        self._require_built("save")
        meta = {"model": self._signature(), "input_shape": list(self.input_shape)}
        _ckpt.write_arrays(path, self.get_weights(), meta)

    def load(self, path):
        """Read weights saved by :meth:`save`; builds the model if needed. A file of
        another model, a shape mismatch or a damaged file raises CheckpointError and
        changes nothing."""
        arrays, meta = _ckpt.read_arrays(path)
        if meta.get("model") is not None and meta["model"] != self._signature():
            raise _ckpt.CheckpointError(
                f"{str(path)!r} holds a model with layers {meta['model']}, this model has "
                f"{self._signature()}")
        if self.graph is None:
            if "input_shape" not in meta:
                raise _ckpt.CheckpointError(f"{str(path)!r} does not say the input shape; "
                                            "build the model first")
            self.build(meta["input_shape"])
        _ckpt.check_fits(path, arrays, self.variables)
        _ckpt.assign_values(self.session, {v: arrays[v.name] for v in self.variables})
        return self


def _progress(total, desc, verbose):
    """A tqdm bar when verbose == 1 and stderr is a terminal, else None."""
    if verbose != 1 or not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415 (only needed when a bar is shown)
    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True)
