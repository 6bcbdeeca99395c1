"""``python -m affidavit``."""

from affidavit.cli.main import run

run()
