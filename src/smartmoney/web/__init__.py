"""The web dashboard over a store (`smartmoney serve`): pages and a JSON API that assemble the
Book API's results and the weekly note; nothing is computed here. See docs/web.md."""

from smartmoney.web.app import create_app

__all__ = ["create_app"]
