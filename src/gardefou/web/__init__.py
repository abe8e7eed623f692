"""The web service: HTTP API, review console and takedown portal (``gardefou serve``).

    from gardefou.web import create_app, Settings
    app = create_app(Settings(db="gardefou.db"))

See docs/web.md.
"""

from gardefou.web.app import create_app
from gardefou.web.settings import Settings

__all__ = ["Settings", "create_app"]
