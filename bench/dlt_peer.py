"""The bench's dlt peer: bench.items of the source database merged into the target database.

Usage: dlt_peer.py SOURCE_URL TARGET_URL [BACKEND [LOADER_FILE_FORMAT]]

dlt's sql_table source, by default with its pyarrow backend and the csv loader file format (the
fastest way dlt offers from one PostgreSQL table into another; its plain defaults are sqlalchemy and
insert_values), then a
merge on the primary key id into dataset bench_dlt of the target, the state of the pipeline in a
fresh temporary directory (every run starts from nothing, as the other contenders do). Prints one
JSON line: the seconds of pipeline.run alone (interpreter start and imports left out, in dlt's
favour), the rows dlt reports as loaded and the peak RSS of the Python process.
"""

import json
import resource
import sys
import tempfile
import time

import dlt
from dlt.sources.sql_database import sql_table


def sqlalchemy_url(url: str) -> str:
    # SQLAlchemy needs the scheme postgresql (not libpq's postgres), and psycopg2 is the driver dlt[postgres] installs.
    return "postgresql+psycopg2://" + url.split("://", 1)[1]


def main() -> None:
    source_url, target_url = sys.argv[1], sys.argv[2]
    backend = sys.argv[3] if len(sys.argv) > 3 else "pyarrow"
    loader_file_format = sys.argv[4] if len(sys.argv) > 4 else "csv"
    items = sql_table(
        credentials=sqlalchemy_url(source_url),
        schema="bench",
        table="items",
        backend=backend,
        chunk_size=50_000,
        write_disposition="merge",
        primary_key="id",
    )
    with tempfile.TemporaryDirectory(prefix="bench-dlt-") as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="bench_dlt",
            pipelines_dir=pipelines_dir,
            destination=dlt.destinations.postgres(credentials=target_url),
            dataset_name="bench_dlt",
        )
        started = time.perf_counter()
        info = pipeline.run(items, loader_file_format=loader_file_format)
        seconds = time.perf_counter() - started
        info.raise_on_failed_jobs()
        loaded = pipeline.last_trace.last_normalize_info.row_counts.get("items", 0)
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({"seconds": seconds, "rows_reported": loaded, "backend": backend, "loader_file_format": loader_file_format, "peak_rss_mb": peak_rss_mb}))


if __name__ == "__main__":
    main()
