"""What an operator runs next to the service: health checks (``doctor``) and log formats."""
