"""Converters: attention."""

from __future__ import annotations
