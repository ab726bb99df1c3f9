"""Run the nianbao command line: python -m convert (and the nianbao console script)."""

import sys


def run() -> None:
    """Catch stop signals first, so Ctrl-C while the command line is still being imported ends quietly too."""
    from convert.lifecycle import Interrupted, catch_stop_signals

    catch_stop_signals()
    try:
        from convert.cli import main
    except Interrupted as stop:
        # Stopped while importing the catalogue: a failed import leaves nothing behind, so it loads afresh now
        # (further stop signals are ignored while this one is handled).
        from convert.checks.catalogue import text

        print(text("interrupted"), file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    main()


if __name__ == "__main__":
    run()
