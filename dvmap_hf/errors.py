"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class DvmapError(Exception):
    """Bad input or an impossible request. The message names the file, column, row or option."""
