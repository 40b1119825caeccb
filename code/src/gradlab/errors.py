"""Exceptions raised by gradlab, each naming the mistake that caused it."""


class MissingForwardError(ValueError):
    """``backward`` was called on a module that has not run ``forward``."""


class MissingGradientError(ValueError):
    """A step was asked for but backward never filled in any gradient."""


class NonFiniteGradientError(ValueError):
    """A gradient norm is NaN or infinite where a finite one is required."""
