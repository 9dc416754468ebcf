"""``miobench instances``: build, list or verify the instance library."""
from __future__ import annotations

from ..errors import InputError
from ._common import command, print_table

NAME = "instances"
ORDER = 40


def add(sub) -> None:
    p = command(sub, NAME, "build, list or verify the instance library", """\
list: the instance catalogue (id, description); build: generate or fetch the instance files
and their manifest; verify: check every file against the manifest's sha256.""")
    p.add_argument("action", choices=["build", "list", "verify"], help="what to do (see above)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="library folder (default: $MIOBENCH_INSTANCE_DIR, else instances/data)")
    p.add_argument("--ids", nargs="*", metavar="ID",
                   help="build only these catalogue ids (default: the whole catalogue)")
    p.add_argument("--strict", action="store_true", help="fail when real data is missing instead of skipping it")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..instances import library

    if args.action == "list":
        if args.ids is not None:
            raise InputError("`miobench instances list` lists the whole catalogue; it takes no --ids")
        print_table("instance catalogue", ("id", "description"),
                    ((instance_id, entry.get("description", "")) for instance_id, entry in library.catalogue().items()))
        return 0
    if args.action == "build":
        if args.ids is not None and not args.ids:
            raise InputError("--ids needs one or more catalogue ids (`miobench instances list`); "
                             "leave it out to build the whole catalogue")
        manifest = library.build_library(args.out, ids=args.ids or None, strict=args.strict)
        wanted = list(dict.fromkeys(args.ids)) if args.ids else list(manifest["instances"])
        built = [i for i in wanted if i in manifest["instances"] and i not in manifest["unavailable"]]
        unavailable = [i for i in (wanted if args.ids else manifest["unavailable"]) if i in manifest["unavailable"]]
        print(f"built {len(built)} instance(s) in {args.out or library.library_dir()}"
              + (f" ({len(manifest['instances'])} in its manifest)" if args.ids else "")
              + (f"; unavailable: {', '.join(unavailable)}" if unavailable else ""))
        return 0
    if args.action == "verify":
        if args.ids:
            raise InputError("`miobench instances verify` checks the whole library; it takes no --ids")
        manifest = library.verify_library(args.out)
        print(f"verified {len(manifest['instances'])} instance file(s) in {args.out or library.library_dir()} "
              "against the manifest's sha256: all match")
        if manifest.get("unlisted"):
            print(f"not in the manifest (ignored): {', '.join(manifest['unlisted'])}")
        return 0
    raise InputError(f"unknown action {args.action}")
