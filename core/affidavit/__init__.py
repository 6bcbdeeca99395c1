"""affidavit: verifiable, append-only evidence of how a change reached production."""

__version__ = "0.1.0"
__all__ = ["__version__"]
