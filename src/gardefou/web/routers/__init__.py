"""HTTP routers, one per domain. Each stays thin: parse the request, call a service, shape the
response. Errors are raised as gardefou.errors and mapped to statuses in one place (web.app)."""

__all__: list[str] = []  # web.app mounts each router module
