"""(being written)"""


def register(cli) -> None:
    """Add this module's commands to the pactlog group."""
