"""Reports regulators ask for: DSA statements of reasons (dsa), transparency reports
(transparency) and prevalence estimates with honest intervals (prevalence)."""

__all__: list[str] = []  # import the report modules themselves
