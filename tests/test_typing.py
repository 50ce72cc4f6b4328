"""The type stubs (greenfix/__init__.pyi) describe the real API."""

import ast
import os
import sys

import pytest

import greenfix
from greenfix import options

STUB = os.path.join(os.path.dirname(greenfix.__file__), "__init__.pyi")


pytestmark_py3 = pytest.mark.skipif(sys.version_info < (3,), reason="the stub is Python 3 syntax")


def _stub_tree():
    with open(STUB) as handle:
        return ast.parse(handle.read())


@pytestmark_py3
def test_stub_patch_keywords_are_the_options():
    patch = [node for node in _stub_tree().body
             if isinstance(node, ast.FunctionDef) and node.name == "patch"][0]
    assert set(arg.arg for arg in patch.args.kwonlyargs) == set(options._DEFAULTS)


@pytestmark_py3
def test_stub_names_are_the_public_api():
    names = set()
    for node in _stub_tree().body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    assert names == set(greenfix.__all__)


@pytest.mark.skipif(sys.version_info < (3, 8), reason="mypy runs on Python 3.8+")
def test_mypy_accepts_good_use_and_rejects_bad_use(tmp_path):
    import mypy_check
    out = mypy_check.check(
        tmp_path,
        good=(u"import greenfix\n"
              u"ok: bool = greenfix.patch(resolver='auto', nameservers=['127.0.0.1:53'])\n"
              u"count: int = greenfix.clear_cache()\n"
              u"greenfix.stats()['hits']\n"),
        bad=(u"import greenfix\n"
             u"greenfix.patch(nameserver=['127.0.0.1'])\n"
             u"text: str = greenfix.clear_cache()\n"))
    assert out.count("error:") == 2 and "nameserver" in out, out
