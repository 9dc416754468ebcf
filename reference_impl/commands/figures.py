"""``miobench figures``: list or build the reproduced paper figures."""
from __future__ import annotations

from ..errors import InputError, writable_dir
from ._common import command, params, print_table

NAME = "figures"
ORDER = 80


def add(sub) -> None:
    p = command(sub, NAME, "list or build reproduced paper figures", """\
list: the reproduced figures and tables (id, paper, title); build ID...: run their experiments
and write each into reports/figures/<id>/.""", """\
examples:
  miobench figures list
  miobench figures build tutorial.fig2 --setting paper""")
    p.add_argument("action", choices=["list", "build"], help="what to do (see above)")
    p.add_argument("ids", nargs="*", metavar="ID", help="for build: figure ids (see `miobench figures list`)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder, with a single id (default: reports/figures/<id>)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="figure parameter, repeatable (default: none, the setting's values)")
    p.add_argument("--setting", choices=["quick", "paper"], default="quick",
                   help="quick (the pipeline's short limits) or paper (the paper's limits and grids) "
                        "(default: %(default)s)")
    p.add_argument("--skip-missing-data", action="store_true",
                   help="write a note instead of failing when the figure's data is unavailable")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..reports.paper import build_figure, figures

    if args.action == "list":
        if args.ids:
            raise InputError("`miobench figures list` lists every figure; it takes no ids")
        print_table("reproduced paper figures", ("id", "paper", "title"),
                    ((figure.id, figure.paper, figure.title) for figure in figures().values()))
        return 0
    if not args.ids:
        raise InputError("`miobench figures build` needs one or more figure ids (see `miobench figures list`)")
    if args.out and len(args.ids) > 1:
        raise InputError("--out takes a single figure id; with several, each goes to reports/figures/<id>")
    from ..reports.paper import check_params, get_figure

    figure_params = params(args.param, "--param", "time_limit=10")
    for figure_id in args.ids:  # every id and parameter checked before any figure is built
        check_params(get_figure(figure_id), figure_params, setting=args.setting)
    if args.out:
        writable_dir(args.out, "figure folder")
    for figure_id in args.ids:
        for path in build_figure(figure_id, args.out, setting=args.setting,
                                 skip_missing_data=args.skip_missing_data, **figure_params):
            print(path)
    return 0
