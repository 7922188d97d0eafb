"""Converters: unary."""

from __future__ import annotations
