"""The package version, read by the build (setuptools) and exposed as ``__version__``."""

__all__ = ["__version__"]

__version__ = "0.1.0"
