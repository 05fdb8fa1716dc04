"""The offline viewer the local sink writes at the root of every backup (see build.py)."""

from .build import Viewer

__all__ = ["Viewer"]
