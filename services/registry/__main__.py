"""Entry point: ``python -m services.registry``."""

from services.registry.main import main

main()
