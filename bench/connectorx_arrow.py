"""ConnectorX on the report's arrow workload: the same file and query, into a pyarrow Table.

Run by `cargo run --release -p asqlite-bench --bin report -- --workloads arrow --connectorx`, side by side with the
Rust contenders (needs `pip install connectorx pyarrow`). By hand:

    python3 bench/connectorx_arrow.py <bench.db> [--rounds N] [--time-ms MS]

Prints `rows_per_s=<median>` over the rounds (each round reads the table for at least MS milliseconds, at least
once) and `peak_kib=<growth>`: how far the peak resident memory rose over the resident memory before one more read
(Linux `VmHWM`, reset through `/proc/self/clear_refs`, after a warm-up read), as the report measures its own.
"""

import argparse
import statistics
import time

import connectorx as cx

SQL = "SELECT car_id, make, year, mileage, price FROM cars_arrow"


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--time-ms", type=int, default=400)
    a = p.parse_args()
    url = "sqlite://" + a.db
    table = cx.read_sql(url, SQL, return_type="arrow")  # warm-up: imports, page cache
    rows = table.num_rows
    del table
    rates = []
    for _ in range(a.rounds):
        start = time.perf_counter()
        while True:
            t = time.perf_counter()
            table = cx.read_sql(url, SQL, return_type="arrow")
            took = time.perf_counter() - t
            if table.num_rows != rows:
                raise SystemExit(f"read {table.num_rows} rows, expected {rows}")
            del table
            rates.append(rows / took)
            if time.perf_counter() - start >= a.time_ms / 1000:
                break
    print(f"rows={rows}")
    print(f"rows_per_s={statistics.median(rates):.0f}")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = status_kib("VmRSS")
        table = cx.read_sql(url, SQL, return_type="arrow")
        peak = status_kib("VmHWM")
        del table
        print(f"peak_kib={max(0, peak - before)}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
