"""`python -m <package>.dbkit db ...`: the same command as the console script."""

from .cli import main

main()
