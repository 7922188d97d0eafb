"""Runs pytest as a Bazel py_test (tests/py/BUILD.bazel): ``bazel_pytest.py [pytest args...]``.

Works from the test's runfiles tree, with the repository's pyproject.toml as pytest configuration (so
``pythonpath = ["py"]`` imports the package from the runfiles), writes Bazel's JUnit XML, and turns
pytest's "no tests collected" (exit 5) into a failure.
"""

from __future__ import annotations

import os
import sys

import pytest


def main() -> int:
    workspace = os.path.join(os.environ["TEST_SRCDIR"], os.environ["TEST_WORKSPACE"])
    os.chdir(workspace)
    args = ["-p", "no:cacheprovider", "-c", "pyproject.toml", "--rootdir", workspace]
    xml = os.environ.get("XML_OUTPUT_FILE")
    if xml:
        args += ["--junitxml", xml]
    status = pytest.main(args + sys.argv[1:])
    if status == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("no tests were collected: failing", file=sys.stderr)
        return 1
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
