"""What an operator runs next to the service: health checks (``doctor``) and log formats."""

__all__: list[str] = []  # import ops.doctor, ops.logs, ... themselves
