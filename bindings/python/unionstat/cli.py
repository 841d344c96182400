"""The ``unionstat`` command line. Exit status: 0 clean, 1 errors found, 2 bad usage or
unreadable input — so that ETL scripts can branch on it."""

from __future__ import annotations

import argparse

import sys
from collections.abc import Sequence

from .errors import Error

__all__ = ["main"]


def _cmd_forms(args: argparse.Namespace) -> int:
    from .forms import forms

    for form_id, form in forms().items():
        print(f"{form_id:15} {len(form.fields):3} fields {len(form.rules):4} rules  {form.title}  ({form.source['issuer']})")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .forms import forms

    print(forms()[args.form].render(args.lang, detail=args.detail))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .forms import forms
    from .io import read_reports

    form = forms()[args.form]
    df = read_reports(args.file, form)
    res = form.check(df)
    v = res.violations
    if args.format == "json":
        print(v.to_json(orient="records", force_ascii=False))
    elif args.format == "csv":
        print(v.to_csv(index=False), end="")
    elif args.format == "html":
        from .views import batch_html

        print(batch_html(res))
    else:
        s = res.summary
        failing = s[(s["fails"] > 0) | (s["errors"] > 0)]
        print(f"{len(df)} reports, {len(v)} violations ({int((v['severity'] == 'error').sum()) if len(v) else 0} errors)")
        if len(failing):
            print(failing[["rule", "severity", "items", "passes", "fails", "skipped", "errors"]].to_string(index=False))
        for _, r in v.head(args.limit).iterrows():
            print(f"  row {r['row'] + 1} unit {r['unit']}: [{r['severity']}] {r['rule']}: {r['message']}")
    return 0 if res.ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.output, quiet=args.quiet)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unionstat", description="Trade-union statistical reporting: forms, rules, roll-up.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("forms", help="list the bundled forms").set_defaults(func=_cmd_forms)
    s = sub.add_parser("show", help="print a form in its paper layout")
    s.add_argument("form")
    s.add_argument("--lang", choices=["zh", "en"], default="zh")
    s.add_argument("--detail", action="store_true", help="add each blank's printed wording and transcriber's note")
    s.set_defaults(func=_cmd_show)
    v = sub.add_parser("validate", help="validate a file of reports against a form")
    v.add_argument("file")
    v.add_argument("--form", required=True)
    v.add_argument("--format", choices=["table", "csv", "json", "html"], default="table")
    v.add_argument("--limit", type=int, default=20, help="violations listed in table format")
    v.set_defaults(func=_cmd_validate)
    d = sub.add_parser("demo", help="the bundled sample province: validate, roll up, check")
    d.add_argument("--output", default="unionstat-demo.html", help="HTML report to write")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except (Error, OSError, KeyError) as exc:
        print(f"unionstat: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
