"""Converters: creation."""

from __future__ import annotations
