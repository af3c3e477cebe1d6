"""Errors the CLI reports as one clear message and a non-zero exit."""


class HarnessError(Exception):
    """Bad input or environment: reported to the user, never turned into a verdict."""


class DatasetError(HarnessError):
    pass


class SandboxError(HarnessError):
    pass
