"""The errors the product raises for an operator or a user to act on, each naming what is
wrong and what to do. Kept apart from the modules that raise them, so a pure transform
never imports io or a runner for an error class. A job reports any of them as one line
(lib/logs.run_job)."""


class ConfigError(ValueError):
    """A configuration file or flag is wrong; the message names it."""


class SourceError(RuntimeError):
    """A source table is missing or does not follow the contract."""


class MissingInputError(RuntimeError):
    """A month a stage needs has not been produced by the stage before it."""


class QualityError(RuntimeError):
    """A table's bad-row share passed the configured limit; nothing was published."""


class RunConflictError(RuntimeError):
    """Another run holds a month this run needs."""


class FrozenJarsError(RuntimeError):
    """The frozen jars folder is missing, empty, or frozen for other packages."""


class GraphEngineError(RuntimeError):
    """The configured graph engine cannot run in this session."""


class NotTrainable(ValueError):
    """The labelled month has no churned (or no retained) customers: no model can be fitted."""


class NothingToFollow(MissingInputError):
    """No list of the months before has been produced: there is no outcome to record yet."""
