"""Run the nianbao command line: python -m convert."""

from convert.cli import main

main()
