"""The inspector: one page that shows the world through the server's own APIs.

Its files ship in the package and are served as they are: nothing is fetched from anywhere
else, so it works offline.
"""

from __future__ import annotations

from importlib import resources

INDEX = "index.html"  # served at /_mock/
ASSETS = {"inspector.js": "text/javascript", "inspector.css": "text/css"}  # at /_mock/assets/{name}


def read(name: str) -> bytes:
    """A file of the inspector, read once when the app is built."""
    return resources.files(__name__).joinpath(name).read_bytes()
