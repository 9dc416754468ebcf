"""The results store: one Parquet file per run under ``runs/`` (written atomically as each
run ends, so nothing is lost when the harness is interrupted) and a consolidated
``results.parquet``, all with one fixed schema derived from :class:`ResultRecord`.

No operation drops a recorded row:

* :meth:`ResultsStore.load` merges the consolidated table (committed with the repository)
  and the per-run files (``runs/`` is not committed) by run id; when both hold a run, the
  row with the later timestamp wins, and on a tie the per-run file (it is what a re-run
  wrote last).
* :meth:`ResultsStore.consolidate` writes that merge, so re-running a suite on a fresh clone
  keeps the committed rows; a consolidated file that cannot be read is moved aside
  (``results.parquet.unreadable-<time>``) instead of being overwritten.
* A row that is not a valid record of this version (another schema, an unknown status, a
  field of the wrong type) is skipped with a warning naming its file, so its run counts as
  not recorded and is redone; the file itself is kept (a per-run file is renamed
  ``<run_id>.parquet.rejected`` when its run is written again, a consolidated row is moved
  to ``rejected.parquet`` when the store is consolidated).
* :meth:`ResultsStore.supersede` moves rows out of the live store into
  ``superseded.parquet`` (kept, never deleted; reports leave them out).
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..record import ResultRecord


def _arrow_type(hint: str) -> pa.DataType:
    if "float" in hint:
        return pa.float64()
    if "int" in hint:
        return pa.int64()
    return pa.string()


def schema() -> pa.Schema:
    hints = {name: str(tp) for name, tp in ResultRecord.__annotations__.items()}
    return pa.schema([(name, _arrow_type(hints[name])) for name in ResultRecord.columns()])


SCHEMA = schema()
CONSOLIDATED = "results.parquet"
SUPERSEDED = "superseded.parquet"
REJECTED = "rejected.parquet"
#: why a row was moved to superseded.parquet / rejected.parquet, and when
MOVE_COLUMNS = (("moved_reason", pa.string()), ("moved_at", pa.string()))


def _empty() -> pd.DataFrame:
    return SCHEMA.empty_table().to_pandas()


def _row_problem(row: dict) -> str | None:
    """Why ``row`` is not a valid record of this version (``None`` when it is)."""
    for name in SCHEMA.names:
        value = row.get(name)
        kind = SCHEMA.field(name).type
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if name in ("formulation", "solver", "instance", "status", "run_id"):
                return f"no {name}"
            continue
        if kind == pa.string() and not isinstance(value, str):
            return f"{name} is not text ({value!r})"
        if kind in (pa.float64(), pa.int64()) and (isinstance(value, (bool, str)) or not isinstance(value, (int, float))):
            return f"{name} is not a number ({value!r})"
    try:
        record = ResultRecord.from_row(row)
        if not (isinstance(record.params, dict) and isinstance(record.extra, dict)):
            return "params and extra must be JSON mappings"
    except (ValueError, TypeError) as exc:
        return " ".join(str(exc).split())[:200]
    return None


def _conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of :data:`SCHEMA`, in order (missing ones empty, unknown ones dropped)."""
    frame = frame.copy()
    for name in SCHEMA.names:
        if name not in frame.columns:
            frame[name] = None
    for name in ("params", "extra"):  # rows of versions that lacked them: no hyperparameters / specifics
        frame[name] = frame[name].where(frame[name].notna(), "{}")
    return frame[SCHEMA.names]


def _table(frame: pd.DataFrame, extra_columns: tuple = ()) -> pa.Table:
    fields = list(SCHEMA) + [pa.field(name, kind) for name, kind in extra_columns]
    return pa.Table.from_pandas(frame, schema=pa.schema(fields), preserve_index=False)


def _atomic_write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class ResultsStore:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.runs = self.directory / "runs"
        self._warned: set[tuple[Path, str]] = set()

    # ------------------------------------------------------------------ writing
    def write(self, record: ResultRecord) -> Path:
        self.runs.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([record.to_row()], schema=SCHEMA)
        path = self.runs / f"{record.run_id}.parquet"
        if path.exists() and not self._holds_only_valid_rows(path):
            os.replace(path, path.with_name(path.name + ".rejected"))  # keep what was there
        _atomic_write(table, path)
        return path

    def prepare(self) -> None:
        """Make sure rows can be written here (before any run is executed)."""
        from ..errors import writable_dir

        writable_dir(self.directory, "results store")
        writable_dir(self.runs, "results store folder")

    # ------------------------------------------------------------------ reading
    def _warn(self, path: Path, what: str) -> None:
        if (path, what) in self._warned:
            return
        self._warned.add((path, what))
        warnings.warn(f"skipping {what} in results file {path}", stacklevel=4)

    def _read(self, path: Path, *, warn: bool = True) -> pd.DataFrame | None:
        """One Parquet file as a frame, or ``None`` (with a warning) when it cannot be read."""
        try:
            return pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError, ValueError) as exc:
            if warn:
                self._warn(path, f"an unreadable file ({' '.join(str(exc).split())[:160]})")
            return None

    def _split_valid(self, path: Path, frame: pd.DataFrame, *, warn: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(valid rows conformed to the schema, invalid rows as read)."""
        conformed = _conform(frame)
        problems = [_row_problem(row) for row in conformed.to_dict("records")]
        bad = [p is not None for p in problems]
        if any(bad) and warn:
            first = next(p for p in problems if p is not None)
            self._warn(path, f"{sum(bad)} row(s) that are not valid records of this version ({first}); "
                             "their runs count as not recorded")
        mask = pd.Series(bad, index=frame.index, dtype=bool)
        return conformed[~mask], frame[mask]

    def _holds_only_valid_rows(self, path: Path) -> bool:
        frame = self._read(path, warn=False)
        return frame is not None and self._split_valid(path, frame, warn=False)[1].empty

    def _read_valid(self, path: Path, *, warn: bool = True) -> pd.DataFrame | None:
        frame = self._read(path, warn=warn)
        if frame is None:
            return None
        good, _ = self._split_valid(path, frame, warn=warn)
        return good

    def _consolidated(self) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
        """(valid rows, invalid rows, whether the file exists but cannot be read)."""
        path = self.directory / CONSOLIDATED
        if not path.is_file():
            return _empty(), pd.DataFrame(), False
        frame = self._read(path)
        if frame is None:
            return _empty(), pd.DataFrame(), True
        good, bad = self._split_valid(path, frame)
        return good, bad, False

    def _run_files(self) -> pd.DataFrame:
        files = sorted(self.runs.glob("*.parquet")) if self.runs.is_dir() else []
        frames = [f for f in (self._read_valid(path) for path in files) if f is not None and not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else _empty()

    def load(self) -> pd.DataFrame:
        """Every valid row, one per run: the consolidated table merged with ``runs/`` by run id
        (the later timestamp wins; on a tie the per-run file). Unreadable files and invalid
        rows are skipped with a warning naming the file, so their runs count as not recorded."""
        consolidated, _, _ = self._consolidated()
        return self._merge(consolidated, self._run_files())

    @staticmethod
    def _merge(consolidated: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
        frames = [f for f in (consolidated.assign(_source=0), runs.assign(_source=1)) if not f.empty]
        if not frames:
            return _empty()
        merged = pd.concat(frames, ignore_index=True)
        merged["_stamp"] = merged["timestamp"].fillna("")
        merged = merged.sort_values(["_stamp", "_source"], kind="stable")
        merged = merged.drop_duplicates("run_id", keep="last").drop(columns=["_stamp", "_source"])
        return merged.reset_index(drop=True)[SCHEMA.names]

    def records(self) -> list[ResultRecord]:
        return [ResultRecord.from_row({str(k): v for k, v in row.items()}) for row in self.load().to_dict("records")]

    # ------------------------------------------------------------------ rewriting
    def consolidate(self) -> Path:
        """Write the merged rows to ``results.parquet`` (atomically). Nothing is dropped: an
        unreadable consolidated file is moved aside first, invalid rows go to ``rejected.parquet``."""
        consolidated, invalid, unreadable = self._consolidated()
        path = self.directory / CONSOLIDATED
        self.directory.mkdir(parents=True, exist_ok=True)
        if unreadable:
            aside = path.with_name(f"{CONSOLIDATED}.unreadable-{_now().replace(':', '')}")
            os.replace(path, aside)
            warnings.warn(f"moved the unreadable {path} aside to {aside.name}", stacklevel=2)
        if not invalid.empty:
            self._append(REJECTED, _conform(invalid), "not a valid record of this version", text_only=True)
        frame = self._merge(consolidated, self._run_files())
        frame = frame.sort_values(["formulation", "instance", "params", "solver", "repeat"], kind="stable")
        _atomic_write(_table(frame), path)
        return path

    def supersede(self, run_ids: Iterable[str], reason: str) -> int:
        """Move the rows of ``run_ids`` out of the live store into ``superseded.parquet`` (kept
        with ``reason`` and the time; reports leave them out); return how many moved."""
        wanted = set(run_ids)
        live = self.load()
        moving = live[live["run_id"].isin(wanted)]
        if moving.empty:
            return 0
        self._append(SUPERSEDED, moving, reason)  # first keep them, then remove them from the live store
        consolidated, _, unreadable = self._consolidated()
        path = self.directory / CONSOLIDATED
        if not unreadable and path.is_file():
            kept = consolidated[~consolidated["run_id"].isin(wanted)]
            _atomic_write(_table(kept.sort_values(["formulation", "instance", "params", "solver", "repeat"],
                                                  kind="stable")), path)
        for run_id in moving["run_id"]:
            (self.runs / f"{run_id}.parquet").unlink(missing_ok=True)
        return len(moving)

    def superseded(self) -> pd.DataFrame:
        """The rows moved out by :meth:`supersede`, with ``moved_reason`` and ``moved_at``."""
        path = self.directory / SUPERSEDED
        frame = self._read(path) if path.is_file() else None
        return frame if frame is not None else _empty().assign(moved_reason=None, moved_at=None)

    def _append(self, name: str, rows: pd.DataFrame, reason: str, *, text_only: bool = False) -> None:
        path = self.directory / name
        rows = rows.assign(moved_reason=reason, moved_at=_now())
        previous = self._read(path) if path.is_file() else None
        frame = pd.concat([previous, rows], ignore_index=True) if previous is not None else rows
        if text_only:  # rejected rows: whatever they held, as text (they did not fit the schema)
            frame = frame.astype(object).where(frame.notna(), None)
            frame = frame.map(lambda v: v if v is None or isinstance(v, str) else str(v))
            table = pa.Table.from_pandas(frame, schema=pa.schema([(c, pa.string()) for c in frame.columns]),
                                         preserve_index=False)
        else:
            table = _table(frame[[*SCHEMA.names, "moved_reason", "moved_at"]], MOVE_COLUMNS)
        _atomic_write(table, path)
