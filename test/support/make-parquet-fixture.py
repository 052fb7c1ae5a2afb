"""Writes PARQUET_FIXTURE_WIDE of test/support/parquet-fixture.ts (run with pyarrow, e.g. sdk/python/.venv/bin/python):
60 rows in one row group, 52 columns (bigint, boolean with a null, date, timestamp, a 300-character string, a struct,
binary, and 45 constant int32 columns), zstd, with the string and the struct gzip. Prints the TypeScript to paste."""
import base64
import datetime
import io
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq

n = 60
cols = {
    "id": pa.array([2**60 + 1] + list(range(2, n + 1)), pa.int64()),
    "flag": pa.array([None if i == 2 else i % 2 == 0 for i in range(n)], pa.bool_()),
    "day": pa.array([datetime.date(2026, 3, 1) + datetime.timedelta(days=i) for i in range(n)], pa.date32()),
    "at": pa.array(
        [datetime.datetime(2026, 3, 1, 12, 30, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=i) for i in range(n)],
        pa.timestamp("us", tz="UTC"),
    ),
    "label": pa.array(["long-" * 60] + [f"row {i}" for i in range(1, n)], pa.string()),
    "meta": pa.array([{"a": i, "b": f"m{i}"} for i in range(n)], pa.struct([("a", pa.int32()), ("b", pa.string())])),
    "blob": pa.array([bytes([0, 1, 255])] * n, pa.binary()),
}
for c in range(7, 52):
    cols[f"c{c:02d}"] = pa.array([c] * n, pa.int32())
compression = {name: "zstd" for name in cols}
compression["label"] = "gzip"
compression["meta.a"] = compression["meta.b"] = "gzip"
buf = io.BytesIO()
pq.write_table(pa.table(cols), buf, compression=compression, row_group_size=1000, store_schema=False, write_statistics=False, use_dictionary=False)
lines = textwrap.wrap(base64.b64encode(buf.getvalue()).decode(), 120)
print("export const PARQUET_FIXTURE_WIDE = Buffer.from(\n" + " +\n".join(f'  "{line}"' for line in lines) + ',\n  "base64",\n);')
