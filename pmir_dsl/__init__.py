"""pmirc: a contract-rules language and compiler for DWP's Performance Management and Intervention Regime.

For notebooks: ``pmir_dsl.run_check(contract_path, data_dir, as_of=None)`` returns the typed
results of ``pmirc check`` (:mod:`pmir_dsl.api`, documented in docs/pack.md).
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "run_check"]


def __getattr__(name: str) -> Any:
    """``pmir_dsl.run_check`` and the result classes, imported on first use (so that
    ``import pmir_dsl`` stays cheap for the command line)."""
    if name == "run_check" or name in ("CheckResults", "Result", "Escalation", "FeeRow",
                                       "Notice", "Review", "QualityEntry"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'pmir_dsl' has no attribute {name!r}")
