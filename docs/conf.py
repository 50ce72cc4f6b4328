"""Sphinx configuration for greenfix's documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "greenfix"
author = "The greenfix developers"
copyright = "2026, The greenfix developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
exclude_patterns = ["_build"]
html_theme = "alabaster"
master_doc = "index"
nitpicky = False
