"""Entry point: ``python -m services.scoring``."""

from services.scoring.main import main

main()
