"""User-facing errors: the CLI prints their message on one line and exits non-zero."""


class InfoganError(Exception):
    """Base class for every error caused by user input (config, data, checkpoint, flags)."""


class ConfigError(InfoganError):
    """A configuration value or file is invalid."""


class DataError(InfoganError):
    """A dataset is missing, unreadable or does not match what was asked for."""


class CheckpointError(InfoganError):
    """A checkpoint or run directory is missing, corrupt or incompatible."""


class DivergenceError(InfoganError):
    """Training produced NaN or Inf."""


class BusyError(InfoganError):
    """A run directory is being trained by another process."""
