"""Entry point for `spark-submit` on a cluster (docs/spark.md):

    spark-submit [spark options] .../notecheck/scan/spark_submit.py INPUT --out OUT [--policy P] [--map F=C,...]

INPUT and OUT may be any path Spark reads and writes (hdfs://, s3a://, gs://, abfss://, or local). Prints the
summary; exits 2 with a one-line reason when the input or options are unusable.
"""

from __future__ import annotations

import argparse
import sys

from notecheck.errors import NotecheckError


def main(argv: list[str] | None = None) -> int:
    from notecheck.scan.runner import ScanOptions, run_scan
    from notecheck.scan.sources import parse_column_map

    parser = argparse.ArgumentParser(prog="spark_submit.py", description="notecheck bulk scan on Spark")
    parser.add_argument("input")
    parser.add_argument("--out", required=True, help="output directory (Parquet)")
    parser.add_argument("--policy", default="default")
    parser.add_argument("--map", default=None, help="note field=input column, e.g. text=body,id=note_id")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    try:
        summary = run_scan(
            ScanOptions(
                input=args.input,
                out=args.out,
                policy=args.policy,
                engine="spark",
                column_map=parse_column_map(args.map),
                batch_size=args.batch_size,
            )
        )
    except NotecheckError as exc:
        print(f"notecheck: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
