"""Entry point: ``python -m services.objection``."""

from services.objection.main import main

main()
