#!/bin/sh
echo "bazel coverage is not available in the offline build (stub remote_coverage_tools)" >&2
exit 1
