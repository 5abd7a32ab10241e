"""Fixtures of the end-to-end tests."""

from tests.support.platform import platform

__all__ = ["platform"]
