"""Converter families, one module each; every function is registered for its ATen overloads."""
