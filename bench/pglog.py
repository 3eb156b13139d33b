"""pglog.py: what a client sent, read from the sandbox server's statement log.

The server runs with log_statement = 'all' and log_line_prefix = 'bench|%a|'
(scripts/bench.sh sets both), so each statement is one log entry
"bench|APP|LOG:  statement: SQL" (simple query) or
"bench|APP|LOG:  execute NAME: SQL" followed by "bench|APP|DETAIL:  parameters:
$1 = ..., $2 = ..." (extended query); continuation lines start with a tab.

  pglog.py count LOG OFFSET [SKIP_APP...]   entries after byte OFFSET, per
                                            application: "APP N" lines
  pglog.py sql LOG OFFSET APP               APP's statements as a psql script,
                                            parameters substituted as literals
"""
import re
import sys

PREFIX = re.compile(r"^bench\|([^|]*)\|(LOG|DETAIL):  (.*)$")
STATEMENT = re.compile(r"^(?:statement|execute [^:]*): (.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def entries(path, offset):
    """Yields (app, level, text) for every log entry after offset."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read().decode("utf-8", "replace")
    current = None
    for line in data.split("\n"):
        if line.startswith("\t") and current is not None:
            current[2] += "\n" + line[1:]
            continue
        if current is not None:
            yield tuple(current)
            current = None
        m = PREFIX.match(line)
        if m:
            current = [m.group(1), m.group(2), m.group(3)]
    if current is not None:
        yield tuple(current)


def statements(path, offset):
    """Yields (app, sql, params) per statement; params maps "$N" to a literal."""
    pending = None
    for app, level, text in entries(path, offset):
        if level == "DETAIL" and pending and pending[0] == app \
                and text.startswith("parameters: "):
            pending[2].update(("$" + n, v) for n, v in PARAM.findall(text))
            continue
        if level != "LOG":
            continue
        m = STATEMENT.match(text)
        if not m:
            continue
        if pending:
            yield tuple(pending)
        pending = [app, m.group(1), {}]
    if pending:
        yield tuple(pending)


def substitute(sql, params):
    # Longest names first, so that $1 does not replace the start of $10.
    for name in sorted(params, key=len, reverse=True):
        sql = sql.replace(name, params[name])
    return sql


def main():
    cmd, path, offset = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rest = sys.argv[4:]
    if cmd == "count":
        counts = {}
        for app, _, _ in statements(path, offset):
            if app not in rest:
                counts[app] = counts.get(app, 0) + 1
        for app in sorted(counts):
            print(app, counts[app])
    elif cmd == "sql":
        for app, sql, params in statements(path, offset):
            if app == rest[0]:
                print(substitute(sql, params).rstrip().rstrip(";") + ";")
    else:
        sys.exit("usage: pglog.py count|sql LOG OFFSET [APP...]")


if __name__ == "__main__":
    main()
