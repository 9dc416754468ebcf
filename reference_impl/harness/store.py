"""The results store: one Parquet file per run under ``runs/`` (written atomically as each
run ends, so nothing is lost when the harness is interrupted) and a consolidated
``results.parquet``, all with one fixed schema derived from :class:`ResultRecord`."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import get_type_hints

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


class ResultsStore:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.runs = self.directory / "runs"
        self._warned: set[Path] = set()

    def write(self, record: ResultRecord) -> Path:
        self.runs.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([record.to_row()], schema=SCHEMA)
        path = self.runs / f"{record.run_id}.parquet"
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path

    def prepare(self) -> None:
        """Make sure rows can be written here (before any run is executed)."""
        from ..errors import writable_dir

        writable_dir(self.directory, "results store")
        writable_dir(self.runs, "results store folder")

    def _read(self, path: Path, **kwargs) -> pa.Table | None:
        """One Parquet file, or ``None`` (with a warning naming it) when it cannot be read."""
        try:
            return pq.read_table(path, **kwargs)
        except (pa.ArrowException, OSError, ValueError) as exc:
            if path in self._warned:
                return None
            self._warned.add(path)
            warnings.warn(f"skipping unreadable results file {path}: {' '.join(str(exc).split())[:200]}",
                          stacklevel=3)
            return None

    def load(self) -> pd.DataFrame:
        """All rows (from ``runs/``, else from the consolidated file), one per run. A file that
        cannot be read (truncated, not Parquet) is skipped with a warning naming it, so its run
        counts as not recorded (``miobench run`` executes it again)."""
        files = sorted(self.runs.glob("*.parquet")) if self.runs.is_dir() else []
        if files:
            tables = [t for t in (self._read(f, schema=SCHEMA) for f in files) if t is not None]
            if tables:
                return pa.concat_tables(tables).to_pandas()
        consolidated = self.directory / CONSOLIDATED
        if consolidated.is_file():
            table = self._read(consolidated)
            if table is not None:
                return table.to_pandas()
        return SCHEMA.empty_table().to_pandas()

    def records(self) -> list[ResultRecord]:
        return [ResultRecord.from_row(row) for row in self.load().to_dict("records")]

    def consolidate(self) -> Path:
        frame = self.load().sort_values(["formulation", "instance", "params", "solver", "repeat"], kind="stable")
        path = self.directory / CONSOLIDATED
        self.directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), path)
        return path
