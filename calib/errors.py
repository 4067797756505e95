"""Exception and warning hierarchy shared by every calib stage.

Every error calib raises on purpose derives from :class:`CalibError`, so callers can catch
one type. Messages name the file, row/key path and field whenever there is one.
"""

from __future__ import annotations

__all__ = [
    "CalibError",
    "ConfigError",
    "RubricError",
    "DataValidationError",
    "StoreError",
    "GraderError",
    "CalibWarning",
]


class CalibError(Exception):
    """Base class for every error calib raises deliberately."""


class ConfigError(CalibError):
    """A configuration file or option is invalid (names the file and key path)."""


class RubricError(ConfigError):
    """A rubric YAML file is invalid.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The rubric file.
    key_path : str, optional
        Dotted key path inside the file, e.g. ``dimensions[2].levels[0].anchor``.
    """

    def __init__(self, message: str, path: str | None = None, key_path: str | None = None):
        self.path = path
        self.key_path = key_path
        where = ": ".join(p for p in (str(path) if path else None, key_path) if p)
        super().__init__(f"{where}: {message}" if where else message)


class DataValidationError(CalibError):
    """Input data failed validation (names the source file, row and field)."""


class StoreError(CalibError):
    """A calib store folder is missing, corrupt or incompatible."""


class GraderError(CalibError):
    """A grader could not be configured or run."""


class CalibWarning(UserWarning):
    """A result is degenerate or approximate (e.g. NaN because there is no variance)."""
