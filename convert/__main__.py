"""Run the nianbao command line: python -m convert (and the nianbao console script)."""


def run() -> None:
    """Catch stop signals first, so Ctrl-C while the command line is still being imported ends quietly too."""
    from convert.lifecycle import catch_stop_signals

    catch_stop_signals()
    from convert.cli import main

    main()


if __name__ == "__main__":
    run()
