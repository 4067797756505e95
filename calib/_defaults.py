"""Defaults shared by several stages and commands (a leaf module: imports nothing from calib).

One bootstrap default for every command that prints a bootstrap CI (``agree``, ``report``,
``compare``, ``demo``, ``validate-grader``) and for the library functions behind them, so one
store gives one set of confidence intervals whichever command computed them.
"""

__all__ = ["DEFAULT_N_BOOT", "DEFAULT_SEED"]

#: Bootstrap resamples for confidence intervals.
DEFAULT_N_BOOT = 1000
#: Seed of every bootstrap (and of the other seeded resampling that goes with it).
DEFAULT_SEED = 0
