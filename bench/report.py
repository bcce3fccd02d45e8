"""The summary at the end of a run: the figures of each engine side by side, as Markdown."""

from collections import defaultdict

from bench.harness import MAX_QUERIES, MAX_RATIO

ENGINE_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def timing_cell(line: dict) -> str:
    mark = "" if line.get("met", True) else " ✗"
    if line.get("found") is False:
        mark += " (not in the top 10!)"
    elif "hits" in line:
        mark += f", {line['hits']} hits"
    return f"{line['median_ms']:,.1f} / {line['p95_ms']:,.1f} ms ({line['queries']} q){mark}"


def ratio_cell(line: dict) -> str:
    mark = "" if line["ratio_met"] else " ✗"
    every = f"{line['ratio_all_sql']}x of all its SQL"
    return f"{line['ratio']}x of {line['raw_sql_ms']} ms ({every}){mark}"


def generate_cell(line: dict) -> str:
    return (
        f"{line['rows']:,} rows in {line['seconds']:,.0f} s "
        f"({line['rows_per_s']:,} rows/s, peak RSS {line['peak_rss_mb']} MB)"
    )


def memory_cell(line: dict) -> str:
    first, deep = line["page1"], line["deep"]
    return (
        f"RSS {first['rss_mb']} → {deep['rss_mb']} MB; per request "
        f"{first['web_request_py_peak_kb']} → {deep['web_request_py_peak_kb']} KB (web), "
        f"{first['api_request_py_peak_kb']} → {deep['api_request_py_peak_kb']} KB (API)"
    )


def load_cell(line: dict) -> str:
    """The 1, 5 and 15 minute load averages: the machine is shared, so say how busy it was."""
    return " / ".join(str(load) for load in line.get("load_average", [])) or "?"


def label(line: dict) -> str:
    name = line["figure"]
    if "page" in line:
        name += f" (page {line['page']:,})"
    if "query" in line:
        name += f" «{line['query']}»"
    return name


def rows_by_label(lines: list[dict], engines: list[str]) -> dict[str, dict[str, str]]:
    """{row label: {engine: cell}} in the order the figures came."""
    rows: dict[str, dict[str, str]] = defaultdict(dict)
    for line in lines:
        figure, engine = line["figure"], line["db"]
        if figure == "generate":
            rows["generate"][engine] = generate_cell(line)
        elif figure == "memory":
            rows[f"memory, page 1 → page {line['deep_page']:,}"][engine] = memory_cell(line)
        elif "error" in line:
            rows[figure][engine] = f"failed: {line['error'][:120]}"
        elif figure == "environment":
            rows["server"][engine] = f"{line['server']}, {line['cpus']} cores, {line['date']}"
            rows["load average before"][engine] = load_cell(line)
            rows["Accord source digest"][engine] = line.get("accord_source", "?")
        elif figure == "load_after":
            rows["load average after"][engine] = load_cell(line)
        elif figure == "database_size":
            rows["database size"][engine] = f"{line['mb']:,.0f} MB"
        else:
            rows[label(line)][engine] = timing_cell(line)
            if "ratio" in line:
                rows[f"{line['figure']}: time ÷ raw SQL"][engine] = ratio_cell(line)
    return rows


def summary(lines: list[dict], repeat: int) -> str:
    engines = list(dict.fromkeys(line["db"] for line in lines))
    sizes = {line["db"]: line for line in lines if line["figure"] == "generate"}
    head = [
        f"{ENGINE_TITLES[e]}, {sizes[e]['people']:,} people" if e in sizes else e for e in engines
    ]
    out = [
        "| figure | " + " | ".join(head) + " |",
        "| --- |" + " --- |" * len(engines),
    ]
    for name, cells in rows_by_label(lines, engines).items():
        out.append(f"| {name} | " + " | ".join(cells.get(e, "") for e in engines) + " |")
    out.append(
        f"\nmedian / p95 of {repeat} requests after a warm-up; ✗ misses its target "
        f"(lists and the card p95 ≤ 50 ms, search p95 ≤ 100 ms; time ÷ raw SQL ≤ {MAX_RATIO:g}x; "
        f"≤ {MAX_QUERIES} queries per list)."
    )
    return "\n".join(out)
