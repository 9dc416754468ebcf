"""``miobench report``: a report from a results store (or from asv results)."""
from __future__ import annotations

from ..errors import InputError, writable_dir
from ._common import command

NAME = "report"
ORDER = 70


def add(sub) -> None:
    p = command(sub, NAME, "write a report from a results store", """\
Write a Markdown and HTML report (tables and figures: status counts, gaps, times,
formulation strength) from a results store, or from asv results with --asv.""")
    p.add_argument("--store", default="results/default", metavar="DIR",
                   help="results store to report on (default: %(default)s)")
    p.add_argument("--out", default="reports/default", metavar="DIR",
                   help="folder the report is written to, created if needed (default: %(default)s)")
    p.add_argument("--title", default=None, help="report title (default: 'miobench report: <store folder name>')")
    p.add_argument("--asv", default=None, metavar="RESULTS_DIR",
                   help="report asv results over commits from this folder instead, e.g. .asv/results "
                        "(default: none, report the results store)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    source = Path(args.asv or args.store)
    if not source.is_dir():
        raise InputError(f"{'asv results' if args.asv else 'results store'} {source} is not a folder"
                         + ("" if source.exists() else " (it does not exist)"))
    _require_rows(args)
    writable_dir(args.out, "report folder")
    if args.asv:
        from ..reports.asv_history import build_asv_report

        paths = build_asv_report(args.asv, args.out)
    else:
        from ..reports.build import build_report

        paths = build_report(args.store, args.out, title=args.title)
    print("\n".join(str(p) for p in paths))
    return 0


def _require_rows(args) -> None:
    """An empty results store (or asv results folder) is one error line, before --out exists."""
    if args.asv:
        from ..asv_glue import load_results

        if load_results(args.asv).empty:
            raise InputError(f"no asv results in {args.asv}; run `miobench bench run` first")
        return
    import warnings

    from ..harness.store import ResultsStore

    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always")
        empty = ResultsStore(args.store).load().empty
    if empty:
        for warning in skipped:  # say why the files there gave no rows
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        raise InputError(f"results store {args.store} has no rows; "
                         f"run `miobench run --suite NAME --store {args.store}` first")
