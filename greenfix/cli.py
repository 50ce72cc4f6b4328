"""The command line: ``greenfix demo`` (also ``python -m greenfix demo``) and
``greenfix --version``.  Neither ``--help`` nor ``--version`` imports
eventlet (tests/test_packaging.py checks it)."""

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
