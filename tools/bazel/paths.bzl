"""Helpers for source lists written relative to the repository root (core/runtime/sources.bzl)."""

def package_relative(paths, package = None):
    """Paths relative to `package` (default: the calling BUILD file's package); fails on others."""
    pkg = (package if package != None else native.package_name()) + "/"
    out = []
    for p in paths:
        if not p.startswith(pkg):
            fail("%s is not under %s (source lists in sources.bzl are repository-relative)" % (p, pkg))
        out.append(p[len(pkg):])
    return out
