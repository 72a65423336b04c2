"""The contract between the Session and a backend.

``Backend.compile(program)`` returns a callable ``run(ctx, feeds)`` where
``feeds`` maps fed tensors to NumPy arrays (already checked and cast by the
Session) and ``ctx`` is the :class:`RunContext` holding variable values and
the random generator. ``run`` returns one array per fetch (None for nodes).

State rules every backend follows (the tests in tests/test_state.py hold each
registered backend to them):

* **Reads** — ``ctx.read_variable(var)`` is the variable's value for this run:
  its stored value, initialized on first use from the variable's own random
  stream. Every read of a variable in a run sees the value from the start of
  the run (a compiled backend reads each ``"variable"`` parameter of the
  :class:`~graphdl.passes.ir.LoweredProgram` once, before computing).
  A fed variable: reads see the fed value; assignments still start from the
  stored value (``assign_add`` adds to what is stored; ``assign(v, v * 2)``
  stores twice the fed value, since ``v * 2`` reads ``v``).
* **Writes are staged** — ``ctx.write_variable(var, value)`` during a run stages
  the new value; a compiled backend calls it once per entry of
  ``LoweredProgram.updates`` after computing them. The Session commits the
  staged values only when ``run`` returns, and discards them when it raises, so
  a failed run changes no variable. Backends never commit, and never write into
  an array from ``feeds``. Two exceptions keep the transaction: an update written
  straight into the variable's array (``BufferPlan.in_place``, graphdl/passes/
  buffers.py) is allowed only where nothing after the first such write can fail;
  a backend keeping variables on a device stages its device copies as one
  :class:`DeviceUpdates` with ``ctx.stage_device(...)`` instead of copying them
  back: the Session's commit commits them, a rollback discards them, and
  ``check_numerics`` asks them which hold NaN or inf (graphdl/backends/numba_cuda).
  Either way the arrays the caller holds never change: fetches never alias
  variable values. An in-place write goes only into an array the backend made
  itself and recorded in ``ctx.private`` (``private[var] is`` the stored value), and
  only while ``ctx.in_place_ok`` (``begin(in_place=False)`` when the Session may still
  roll back after the backend returned, as ``check_numerics`` does); otherwise the
  backend writes into a copy and stages that.
* **Fetched arrays** — ``run`` returns arrays the backend will not touch again
  (no buffer reused by the next run). The Session copies a fetch only where it
  would alias a variable's value, a feed, a constant or another fetch, so the
  caller always owns what it gets. A ``run`` with ``owns_results = True`` makes that
  guarantee itself (its fetches are writable and share memory with no feed, constant,
  variable value — stored or staged — or other fetch; its staged values share none
  with a feed), and the Session skips its own check (it reads the attribute after
  ``run`` returned, so a wrapper may set it per run).
* **Randomness** — random ops draw from ``ctx.rng``; a failed run restores it,
  so the next run draws what the failed one would have.
"""

import hashlib

import numpy as np


class Backend:
    """Base class: subclasses set ``name`` and implement ``compile``."""

    name = None

    def compile(self, program):
        raise NotImplementedError


class DeviceUpdates:
    """New variable values a backend keeps on its device, staged for one run.

    ``variables``: the Variables they update. The Session (through the RunContext)
    calls :meth:`commit` when the run succeeded, else :meth:`discard`;
    ``check_numerics`` calls :meth:`non_finite` before committing.
    """

    variables = ()

    def non_finite(self):
        """The Variables among ``variables`` whose new value holds NaN or inf."""
        raise NotImplementedError

    def commit(self):
        """Make the staged values the variables' values."""
        raise NotImplementedError

    def discard(self):
        """Forget the staged values, and bring the RunContext's stored values up to
        date with the device's committed ones (a host replay then starts from the
        state the run started from)."""
        raise NotImplementedError


class RunContext:
    """Session state seen by stateful ops: variable values and randomness.

    ``seed``: an int, or None for fresh entropy. Each variable's initializer draws
    from its own generator derived from the seed and the variable's name, so initial
    values do not depend on the order variables are first read, nor on which other
    variables a graph holds. Random ops draw from ``rng``, seeded from the same seed.
    """

    def __init__(self, seed=None):
        self._seed_seq = np.random.SeedSequence(seed)
        self.rng = np.random.default_rng(self._seed_seq)
        self.values = {}  # Variable -> committed np.ndarray
        self._staged = None  # Variable -> value written in the run in progress
        self._device = []  # DeviceUpdates staged by the run in progress
        self._rng_state = None
        # Variable -> an array a backend made for it that nothing else holds (in-place
        # updates write into the stored value only while it is still this array)
        self.private = {}
        self.in_place_ok = True  # see begin()

    # -- what backends use ------------------------------------------------------------
    def read_variable(self, var):
        """The value of ``var`` for the run in progress (staged, else stored)."""
        if self._staged is not None and var in self._staged:
            return self._staged[var]
        if var not in self.values:
            value = np.asarray(var.initial_value(self.variable_rng(var)), dtype=var.dtype)
            if self._staged is not None:  # a failed run does not even initialize
                self._staged[var] = value
                return value
            self.values[var] = value
        return self.values[var]

    def write_variable(self, var, value):
        """Stage ``value`` as ``var``'s new value (outside a run: store it at once)."""
        value = np.asarray(value, dtype=var.dtype)
        if self._staged is not None:
            self._staged[var] = value
        else:
            self.values[var] = value

    def stage_device(self, updates):
        """Stage a :class:`DeviceUpdates` (outside a run: commit it at once)."""
        if self._staged is not None:
            self._device.append(updates)
        else:
            updates.commit()

    def variable_rng(self, var):
        """The generator ``var``'s initializer draws from: seed and name, nothing else."""
        digest = hashlib.sha256(var.name.encode("utf-8")).digest()
        key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
        seq = np.random.SeedSequence(self._seed_seq.entropy, spawn_key=key)
        return np.random.default_rng(seq)

    # -- what the Session uses ----------------------------------------------------------
    def begin(self, draws=True, in_place=True):
        """Open a run: writes are staged until :meth:`commit`. ``draws=False`` says the
        run has no random op (then the generator's state need not be saved).
        ``in_place=False`` forbids writing updates into stored arrays in this run (the
        Session may roll back after the backend returned)."""
        self._staged = {}
        self._device = []
        self.in_place_ok = in_place
        self._rng_state = self.rng.bit_generator.state if draws else None

    def staged(self):
        """The values written so far in the run in progress."""
        return self._staged or {}

    def staged_non_finite(self):
        """The Variables whose staged new value holds NaN or inf (host and device)."""
        host = [v for v, a in self.staged().items()
                if np.asarray(a).dtype.kind in "fc" and not np.all(np.isfinite(a))]
        return host + [v for d in self._device for v in d.non_finite()]

    def commit(self, owned=lambda value: value):
        """Store the staged values (each passed through ``owned``) and close the run."""
        staged, self._staged = self._staged, None
        device, self._device = self._device, []
        for var, value in (staged or {}).items():
            self.values[var] = owned(value)
        for updates in device:
            updates.commit()

    def rollback(self):
        """Forget the staged values and the random draws of the failed run."""
        self._staged = None
        device, self._device = self._device, []
        for updates in device:
            updates.discard()
        if self._rng_state is not None:
            self.rng.bit_generator.state = self._rng_state
