"""The web side of ``p2c serve``: the REST API (and, later, the console) on FastAPI."""

from p2c.web.app import create_app

__all__ = ["create_app"]
