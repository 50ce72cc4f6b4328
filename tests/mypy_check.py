"""mypy over two snippets, for the type stubs' tests (tests/test_typing.py,
tests/test_watchdog.py)."""

import pytest


def check(tmp_path, good, bad):
    """Assert mypy accepts the source ``good`` and rejects ``bad``; return
    what it said of ``bad``."""
    mypy = pytest.importorskip("mypy.api")
    paths = []
    for name, text in (("good.py", good), ("bad.py", bad)):
        path = tmp_path / name
        path.write_text(text)
        paths.append(str(path))
    out, _, status = mypy.run([paths[0], "--no-incremental"])
    assert status == 0, out
    out, _, status = mypy.run([paths[1], "--no-incremental"])
    assert status == 1, out
    return out
