"""gardefou: stops sexualized deepfakes of real people, before generation, at upload, and after."""

__version__ = "0.1.0"

__all__ = ["__version__"]
