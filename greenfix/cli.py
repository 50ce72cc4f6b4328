"""The command line: ``greenfix demo`` (also ``python -m greenfix demo``)."""

from __future__ import absolute_import, print_function

import argparse
import json
import sys


def _parser():
    parser = argparse.ArgumentParser(
        prog="greenfix",
        description="Host names in eventlet socket calls, resolved without "
                    "freezing the hub.")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo", help="show the hub freeze a lost DNS reply causes, and greenfix fixing it")
    demo.add_argument("--case", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command != "demo":
        _parser().print_help()
        return 2
    from greenfix import demo
    if args.case:
        demo.run_case(json.loads(args.case))
        return 0
    return demo.main()


if __name__ == "__main__":
    sys.exit(main())
