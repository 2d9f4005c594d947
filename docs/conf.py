"""Sphinx configuration for fw's documentation."""

from importlib import metadata

project = "fw"
author = "The fw developers"
copyright = "2026, The fw developers"
release = metadata.version("fw-core")

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "examples/**/*.out"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Type hints such as ``type[X]`` would otherwise be ambiguous cross-references
# to the several attributes named ``type`` (Failure.type, IPv4Address.type...).
suppress_warnings = ["ref.python"]

html_theme = "furo"
html_title = "fw"
html_static_path: list[str] = []
