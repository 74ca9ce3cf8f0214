#!/usr/bin/env python3
"""Summary of a sqlsmith run from the server's CSV log (tests/reliability/sqlsmith.sh).

    smith_report.py LOG.csv QUERIES TURNS FAILURES.txt

Prints the queries run, the errors sqlsmith's statements got by SQLSTATE,
server crashes (a backend terminated by a signal, a PANIC) and internal
errors (XX000), split into those from a statement that calls Cot and the
others. Writes every crash and Cot XX000 with its statement to FAILURES.txt.
Exits 1 if there was a crash or a Cot XX000.
"""

import collections
import csv
import re
import sys

# PostgreSQL 15's csvlog columns.
COLUMNS = [
    "log_time", "user_name", "database_name", "process_id", "connection_from",
    "session_id", "session_line_num", "command_tag", "session_start_time",
    "virtual_transaction_id", "transaction_id", "error_severity", "sql_state_code",
    "message", "detail", "hint", "internal_query", "internal_query_pos", "context",
    "query", "query_pos", "location", "application_name", "backend_type",
    "leader_pid", "query_id",
]
# A call of one of Cot's functions (not a mention of one of its tables).
COT_CALL = re.compile(r"\bcot\s*\.\s*\"?[a-z_0-9]+\"?\s*\(", re.IGNORECASE)


def from_cot(row):
    """Whether an internal error came from Cot: raised in Rust (pgrx gives
    the .rs file as the location), or with a call of Cot in its context
    (inside a call of Cot), or in a statement calling Cot when the log has
    no location in PostgreSQL's own C code to say otherwise."""
    location = row.get("location", "")
    if ".rs:" in location:
        return True
    if any(COT_CALL.search(row.get(k, "")) for k in ("context", "internal_query")):
        return True
    return bool(COT_CALL.search(row.get("query", ""))) and not re.search(r"\.c:\d+$", location)


def main(path, queries, turns, failures_path):
    csv.field_size_limit(1 << 30)
    by_state = collections.Counter()
    first_message = {}
    crashes = []
    cot_internal = []
    other_internal = collections.Counter()
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for raw in csv.reader(f):
            row = dict(zip(COLUMNS, raw))
            severity = row.get("error_severity", "")
            message = row.get("message", "")
            if severity == "PANIC" or "terminated by signal" in message:
                crashes.append(row)
                continue
            if not row.get("application_name", "").startswith("sqlsmith"):
                continue
            if severity not in ("ERROR", "FATAL"):
                continue
            state = row.get("sql_state_code", "")
            by_state[state] += 1
            first_message.setdefault(state, message)
            if state == "XX000":
                if from_cot(row):
                    cot_internal.append(row)
                else:
                    other_internal[(message, row.get("location", ""))] += 1
            elif state == "42601" and COT_CALL.search(row.get("context", "")):
                # A syntax error inside Cot's call: SQL that Cot wrote.
                cot_internal.append(row)

    errors = sum(by_state.values())
    print(f"sqlsmith: {queries} queries in {turns} turns, {errors} errors "
          f"({100.0 * errors / max(queries, 1):.0f}%)")
    print("errors by SQLSTATE (first message seen):")
    for state, n in by_state.most_common():
        print(f"  {state}  {n:8d}  {first_message[state][:100]}")
    print(f"server crashes: {len(crashes)}")
    print(f"XX000 from Cot (raised in Cot, or by a statement calling it) and 42601 from inside Cot: {len(cot_internal)}")
    if other_internal:
        print(f"XX000 raised by PostgreSQL itself: {sum(other_internal.values())}")
        for (message, location), n in other_internal.most_common(10):
            print(f"  {n:6d}  {message[:90]} ({location})")

    with open(failures_path, "w", encoding="utf-8") as out:
        for row in crashes + cot_internal:
            out.write(f"--- {row['log_time']} [{row['process_id']}] {row['error_severity']} "
                      f"{row['sql_state_code']}: {row['message']}\n")
            for key in ("detail", "context", "location", "query"):
                if row.get(key):
                    out.write(f"{key}: {row[key]}\n")
            out.write("\n")
    if crashes or cot_internal:
        with open(failures_path, encoding="utf-8") as f:
            sys.stderr.write(f.read()[:20000])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
