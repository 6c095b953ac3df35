"""A Dask client for one stage run: a LocalCluster of worker processes, or a running scheduler."""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from blindspot.config import DaskConfig
from blindspot.errors import ConfigError

CONNECT_TIMEOUT_S = 10
# The client of the enclosing dask_client, if any: a stage that opens one around several steps (the
# compare stage: the baseline's validation, the shuffle, the prior-shift passes) starts one cluster.
_OPEN: list = []


@contextlib.contextmanager
def dask_client(cfg: DaskConfig) -> Iterator:
    """A ``distributed.Client``, closed (and its LocalCluster stopped) on leaving.

    Inside another ``dask_client`` block, that block's client is given and left open: the
    steps of one stage share one cluster (and its workers' memory of earlier steps).

    Parameters
    ----------
    cfg : DaskConfig
        ``scheduler_address`` set: connect to that scheduler (its workers must import the same
        blindspot). Null: start ``n_workers`` worker processes (not threads: validation holds the
        GIL) of ``threads_per_worker`` threads and ``memory_limit`` each, without the dashboard.

    Raises
    ------
    ConfigError
        No scheduler answers at ``scheduler_address`` within :data:`CONNECT_TIMEOUT_S` seconds:
        one line naming the address.
    """
    if _OPEN:
        yield _OPEN[-1]
        return
    import distributed  # noqa: F401 - configures its loggers on import: set the level after

    # Dask logs every scheduler and worker event at INFO, which the stage's log would print: the
    # stage prints its own summary only. The workers' own logs are silenced by silence_logs.
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with _connect(cfg) as client:
            _OPEN.append(client)
            try:
                yield client
            finally:
                _OPEN.pop()
    finally:
        logger.setLevel(level)


def engine_session(cfg):
    """One Dask client for a whole stage with ``cfg.engine == "dask"`` (every step inside reuses it, so the
    stage starts one cluster), else nothing. ``cfg`` is the typed config (``engine``, ``dask``)."""
    if cfg.engine != "dask":
        return contextlib.nullcontext()
    return dask_client(cfg.dask)


@contextlib.contextmanager
def _connect(cfg: DaskConfig) -> Iterator:
    from distributed import Client, LocalCluster

    if not cfg.scheduler_address:
        with LocalCluster(n_workers=cfg.n_workers, threads_per_worker=cfg.threads_per_worker,
                          memory_limit=cfg.memory_limit, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(cfg.scheduler_address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"dask.scheduler_address {cfg.scheduler_address!r}: no Dask scheduler answered "
                          f"within {CONNECT_TIMEOUT_S} s ({reason[:160]})") from None
    with client:
        yield client
