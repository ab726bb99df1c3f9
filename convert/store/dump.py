"""Write a store's long table (agency, year, format, key, value) as CSV, JSON Lines or Parquet."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import ModuleType

from convert.atomic import atomic_output, check_output
from convert.errors import UsageError
from convert.store.base import LongRow, neutralise

DUMP_FORMATS = ("csv", "jsonl", "parquet")
DUMP_COLUMNS = ("agency", "year", "format", "key", "value")
# The CSV, read by people in a spreadsheet, also names each cell as the official table prints it.
LABEL_COLUMNS = ("section_label", "row_label", "column_label")
PARQUET_BATCH = 100_000  # rows a Parquet row group holds; the dump never holds more than this in memory


def write_long_table(rows: Callable[[], Iterable[LongRow]], path: Path, fmt: str, *, force: bool = False) -> int:
    """Write the rows (read only once the output is known to be writable, as they come) in a format; return the count."""
    if fmt not in DUMP_FORMATS:
        raise UsageError("dump-format-unknown", format=fmt, known=list(DUMP_FORMATS))
    if fmt == "parquet":
        _pyarrow()  # refuse before anything is read or written
    check_output(path, force)
    with atomic_output(path, force=force) as tmp:
        if fmt == "csv":
            return _write_csv(rows(), tmp)
        if fmt == "jsonl":
            return _write_jsonl(rows(), tmp)
        return _write_parquet(rows(), tmp)


def _write_csv(rows: Iterable[LongRow], path: Path) -> int:
    """Write CSV for spreadsheets: a BOM so Excel reads UTF-8, formula-looking text neutralised, blank as empty.

    After the long table's columns come the cell's official labels (section, row, column), blank for a key
    the format does not know.
    """
    from functools import cache

    from convert.checks.positions import cell_labels
    from convert.formats import known_versions

    @cache
    def labels(fmt: str, key: str) -> tuple[str, ...]:
        found = cell_labels(key, fmt) if fmt in known_versions() else None
        return tuple(neutralise(label) for label in found) if found else ("", "", "")

    # os.linesep and the csv module's minimal quoting: the bytes pandas.DataFrame.to_csv wrote before.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator=os.linesep)
        writer.writerow(DUMP_COLUMNS + LABEL_COLUMNS)
        count = 0
        for agency, year, fmt, key, value in rows:
            text = None if value is None else neutralise(value)
            writer.writerow((neutralise(agency), year, neutralise(fmt), neutralise(key), text, *labels(fmt, key)))
            count += 1
    return count


def _write_jsonl(rows: Iterable[LongRow], path: Path) -> int:
    """Write one compact JSON object per line, text as it is (UTF-8, not neutralised), blank as null."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        for row in rows:
            line = json.dumps(dict(zip(DUMP_COLUMNS, row, strict=True)), ensure_ascii=False, separators=(",", ":"))
            # "/" as "\/" (valid JSON, safe inside HTML): the bytes pandas.DataFrame.to_json wrote before.
            f.write(line.replace("/", "\\/") + "\n")
            count += 1
    return count


def _write_parquet(rows: Iterable[LongRow], path: Path) -> int:
    """Write one Parquet table with typed columns (year int64, the rest UTF-8 text, blank as null), a batch at a time."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("agency", pa.large_string()),
            ("year", pa.int64()),
            ("format", pa.large_string()),
            ("key", pa.large_string()),
            ("value", pa.large_string()),
        ]
    )
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in _batches(iter(rows), PARQUET_BATCH):
            columns = list(zip(*batch, strict=True))
            arrays = [pa.array(column, type=f.type) for column, f in zip(columns, schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
        if not count:  # an empty store is a table with the columns and no row
            writer.write_table(schema.empty_table())
    return count


def _batches(rows: Iterator[LongRow], size: int) -> Iterator[list[LongRow]]:
    """Yield the rows in lists of at most size."""
    while batch := list(islice(rows, size)):
        yield batch


def _pyarrow() -> ModuleType:
    """Return pyarrow (with its parquet module), or refuse in one line saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # a pyarrow built without Parquet fails here
    except ImportError as exc:
        raise UsageError("dump-needs-pyarrow") from exc
    return pyarrow
