"""Function length and cyclomatic complexity of the C++ in src/, measured with lizard.

Prints the ten longest and the ten most complex functions, then every function over the
limits (more than 80 lines, or a cyclomatic complexity above 25: the limits of issue 17).
Exits 1 when a function over the limits is not one of the known exceptions listed below
(so a new giant function fails, and an exception that is split must be taken off the
list), 0 otherwise. Run: ``python tools/complexity.py [--top N] [ROOT]`` (lizard comes
with the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import lizard

__all__ = ["KNOWN", "MAX_CCN", "MAX_LENGTH", "main", "measure"]

MAX_LENGTH = 80
MAX_CCN = 25

# (file, function) over the limits on purpose, or not yet split, and why.
# Empty: every function in src/ is within the limits. A function may be listed here only
# with the reason it must stay long (e.g. a byte loop whose split measured slower).
KNOWN: set[tuple[str, str]] = set()


def measure(root: pathlib.Path) -> list[tuple[str, str, int, int, int]]:
    """(file, function, first line, length, complexity) of every function under root/src."""
    out = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".cpp", ".hpp"):
            continue
        info = lizard.analyze_file(str(path))
        rel = path.relative_to(root).as_posix()
        for f in info.function_list:
            out.append((rel, f.name, f.start_line, f.length, f.cyclomatic_complexity))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?", default=str(pathlib.Path(__file__).resolve().parents[1]))
    ap.add_argument("--top", type=int, default=10, help="functions listed by length and by complexity")
    args = ap.parse_args(argv)
    funcs = measure(pathlib.Path(args.root))

    def show(title: str, rows: list[tuple[str, str, int, int, int]]) -> None:
        print(title)
        print(f"  {'lines':>5} {'CCN':>4}  function (file:line)")
        for file, name, line, length, ccn in rows:
            print(f"  {length:>5} {ccn:>4}  {name} ({file}:{line})")

    show(f"longest {args.top}:", sorted(funcs, key=lambda r: (-r[3], -r[4]))[: args.top])
    show(f"most complex {args.top}:", sorted(funcs, key=lambda r: (-r[4], -r[3]))[: args.top])
    over = [r for r in funcs if r[3] > MAX_LENGTH or r[4] > MAX_CCN]
    new = [r for r in over if (r[0], r[1]) not in KNOWN]
    gone = KNOWN - {(r[0], r[1]) for r in over}
    show(f"over {MAX_LENGTH} lines or CCN {MAX_CCN}: {len(over)} ({len(over) - len(new)} known exceptions)", over)
    for file, name in sorted(gone):
        print(f"  no longer over the limits, take it off KNOWN: {name} ({file})")
    if new:
        show("NOT ALLOWED (split them, or list them in KNOWN with the reason):", new)
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
