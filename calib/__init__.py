"""calib: offline evaluation and rubric calibration for interview scoring."""

__version__ = "0.1.0"
