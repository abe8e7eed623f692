"""Reports regulators ask for: DSA statements of reasons (dsa), transparency reports
(transparency) and prevalence estimates with honest intervals (prevalence)."""
