"""Lets ``python -m creditctl`` run the command line."""

from creditctl.main import main

main()
