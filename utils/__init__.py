"""Shared helpers of the book: budgets, seeds, data and texts, models, training, plots and claims.

Every chapter starts with one call, ``chapter = setup("<part>/<NN_slug>")``, then imports what it
uses, e.g. ``from utils import budget, claims, data``. Modules depend on each other only downward:
``budget`` and ``repro`` at the bottom, ``claims`` and ``plot`` above them, ``data`` (with ``texts`` on it), ``models``
and ``train`` beside them; nothing here imports a notebook's code.
"""
from tqdm import tqdm as _tqdm

__all__ = ["budget", "claims", "data", "models", "plot", "repro", "setup", "texts", "train"]

# tqdm starts a monitor thread that refreshes idle progress bars from the background; in a kernel
# driven by a notebook executor, output sent from that thread after a cell ends can leave the
# executor waiting forever. Bars still update on every iteration without it.
_tqdm.monitor_interval = 0


def setup(chapter: str, *, threads: int | None = None):
    """Start a chapter: seed, style, device, CPU threads and its claims ledger, in one call.

    ``chapter`` is the notebook's id, ``"<part>/<NN_slug>"`` (a notebook on Colab has no path to read it
    from). Seeds every generator for the purpose ``"chapter"`` under ``BOOK_SEED``, applies the book's
    plot style, sets torch's CPU threads (``$BOOK_THREADS``, else ``threads``, else torch's default:
    pass ``threads=1`` for tiny tensors, where one thread is faster), opens the chapter's ledger, and
    prints one line saying where it runs. Inside IPython an error in any later cell is recorded in the
    ledger, so the Scoreboard shows a chapter that stopped early. Returns the :class:`claims.Chapter`,
    with the device to use as ``chapter.device``.
    """
    from utils import budget, claims, plot, repro

    repro.set_chapter(chapter)
    ledger = claims.Chapter(chapter)
    repro.seed_everything("chapter")
    plot.use_book_style()
    repro.set_threads(threads)
    ledger.device = repro.device()
    print(f"{chapter}: budget {budget.current()!r}, BOOK_SEED={repro.book_seed()}, {repro.device_name()}")
    stale = stale_imports()
    if stale:
        print(f"The install changed {', '.join(stale)} after it was imported: restart the runtime "
              "(on Colab: Runtime → Restart session), then run the notebook again.")
    _record_stops(ledger)
    return ledger


# Packages a notebook may have imported before the Colab install line ran: (module, distribution).
WATCHED = (("numpy", "numpy"), ("pandas", "pandas"), ("scipy", "scipy"), ("sklearn", "scikit-learn"),
           ("matplotlib", "matplotlib"), ("torch", "torch"), ("transformers", "transformers"))


def stale_imports() -> list[str]:
    """Imported packages whose installed version is no longer the one in memory, as ``"numpy 2.0.2 → 2.3.5"``."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    stale = []
    for module, distribution in WATCHED:
        loaded = getattr(sys.modules.get(module), "__version__", None)
        try:
            installed = version(distribution)
        except PackageNotFoundError:
            continue
        if loaded is not None and loaded.split("+")[0] != installed.split("+")[0]:
            stale.append(f"{distribution} {loaded} → {installed}")
    return stale


def _record_stops(ledger) -> None:
    """Append a stop to ``ledger`` when a later IPython cell raises (a failed claim included)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def after_cell(result) -> None:
        error = result.error_in_exec or result.error_before_exec
        if error is not None:
            ledger.stop(f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}")

    for callback in [c for c in shell.events.callbacks["post_run_cell"] if getattr(c, "_book_ledger", False)]:
        shell.events.unregister("post_run_cell", callback)
    after_cell._book_ledger = True
    shell.events.register("post_run_cell", after_cell)
