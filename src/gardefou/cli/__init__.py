"""The `gardefou` command: ``cli.main`` is the entry point, ``cli.group`` the group the
``commands_*`` modules register on. Nothing is exported from the package itself."""

__all__: list[str] = []
