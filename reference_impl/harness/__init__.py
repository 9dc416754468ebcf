"""The harness: expand a suite into runs, run each in its own process with a hard wall-clock
limit, and record every run — finished, timed out, crashed — as a row of a Parquet store."""
