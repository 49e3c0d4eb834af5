"""Subcommand modules; importing this package registers every command on the app.

Add one import line per command module, sorted.
"""
from nenscope.cli.commands import adc  # noqa: F401
from nenscope.cli.commands import analyze  # noqa: F401
from nenscope.cli.commands import convert  # noqa: F401
from nenscope.cli.commands import demo  # noqa: F401
from nenscope.cli.commands import dose  # noqa: F401
from nenscope.cli.commands import evidence  # noqa: F401
from nenscope.cli.commands import exams  # noqa: F401
from nenscope.cli.commands import info  # noqa: F401
from nenscope.cli.commands import phantom  # noqa: F401
from nenscope.cli.commands import radiomics  # noqa: F401
from nenscope.cli.commands import recommend  # noqa: F401
from nenscope.cli.commands import response  # noqa: F401
from nenscope.cli.commands import suv  # noqa: F401
