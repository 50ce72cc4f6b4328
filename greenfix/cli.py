"""The command line: ``greenfix demo`` (also ``python -m greenfix demo``),
``greenfix doctor`` and ``greenfix --version``.  Neither ``--help``,
``--version`` nor ``doctor`` imports eventlet or gevent
(tests/test_packaging.py and tests/test_doctor.py check it)."""

from __future__ import absolute_import, print_function

import argparse
import json
import sys


class _Version(argparse.Action):
    """``--version``: argparse's own "version" action prints to stderr on
    Python 2.7, and a plain flag would not get past 2.7's required
    sub-command; this prints to stdout and exits at once."""

    def __init__(self, **kwargs):
        kwargs.update(nargs=0, default=argparse.SUPPRESS)
        super(_Version, self).__init__(**kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from greenfix import __version__
        print("greenfix %s" % __version__)
        parser.exit()


def _parser():
    parser = argparse.ArgumentParser(
        prog="greenfix",
        description="Host names in eventlet socket calls, resolved without "
                    "freezing the hub.")
    parser.add_argument("--version", action=_Version, help="print greenfix's version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo", help="show the hub freeze a lost DNS reply causes, and greenfix fixing it")
    demo.add_argument("--case", help=argparse.SUPPRESS)
    demo.add_argument("--framework", choices=("eventlet", "gevent"),
                      help="run the scenes under this framework only (default: under "
                           "each one installed)")
    doctor = commands.add_parser(
        "doctor", help="what your resolver configuration costs unpatched, which backend "
                       "greenfix would use, and whether it is active (exit code 1: "
                       "something is broken)")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument("--resolve", metavar="NAME",
                        help="also look NAME up through greenfix's backends and libc, timed")
    return parser


def _doctor(args):
    from greenfix import doctor
    result = doctor.report(resolve=args.resolve)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        sys.stdout.write(doctor.format_text(result))
    return 1 if result["problems"] else 0


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        return _doctor(args)
    if args.command != "demo":
        _parser().print_help()
        return 2
    from greenfix import demo
    if args.case:
        demo.run_case(json.loads(args.case))
        return 0
    return demo.main(args.framework)


if __name__ == "__main__":
    sys.exit(main())
