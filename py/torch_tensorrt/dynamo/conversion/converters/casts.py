"""Converters: casts."""

from __future__ import annotations
