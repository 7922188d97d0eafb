"""Converters: reduction."""

from __future__ import annotations
