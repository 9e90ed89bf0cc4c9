"""pmirc: a contract-rules language and compiler for DWP's Performance Management and Intervention Regime."""

__version__ = "0.1.0"
