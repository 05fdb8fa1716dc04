"""Exceptions with a meaning for the run loop and the exit code.

Plugins raise these; the core decides what happens next (retry, record a failure, stop the run).
"""

from __future__ import annotations


class MigratorError(Exception):
    """Base class: an expected failure with a message fit for the user (no traceback shown)."""

    exit_code = 1


class UsageError(MigratorError):
    """Bad command line, option value or configuration."""

    exit_code = 2


class AuthorizationNeeded(MigratorError):
    """No valid token: the user has to run `migrator auth PLUGIN`."""

    exit_code = 3


class ServiceStopped(MigratorError):
    """The service refuses further work for now (quota, outage): stop cleanly, progress is saved.

    `remaining` may say how many documents are left when the stop came before the listing was handed
    to the run (so the core cannot count them itself).
    """

    exit_code = 4

    def __init__(self, message: str, remaining: int | None = None) -> None:
        super().__init__(message)
        self.remaining = remaining


class QuotaExceeded(ServiceStopped):
    """The service's quota for this key or account is used up."""


class DocumentError(MigratorError):
    """One document (or container) failed; the run goes on and a rerun retries it."""


class TransientError(DocumentError):
    """A failure worth retrying at once (short download, connection reset, 5xx burst)."""


class AnswerLost(TransientError):
    """The request was sent but its answer was lost (5xx, reset, timeout, unreadable body): it may or
    may not have taken effect. Look before doing it again; never repeat it blindly."""


class IntegrityError(TransientError):
    """Bytes read do not match the size or hash the source announced."""


class SkipDocument(MigratorError):
    """A sink cannot take this document, ever (e.g. audio on a photo service): a final skip."""


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = UsageError.exit_code
EXIT_INTERRUPTED = 130
EXIT_BUG = 70  # sysexits' EX_SOFTWARE: an internal error, distinct from every expected failure's code
