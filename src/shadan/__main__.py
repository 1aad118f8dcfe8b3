"""The `shadan` command (console script and `python -m shadan`).

Worker processes (verification, archive checks) start by importing the program's main module again
(multiprocessing's spawn). This module loads the command-line program only when it runs, so a worker
loads just what its task needs: importing every command costs about a second on each start.
"""

from __future__ import annotations


def main() -> None:
    from shadan.cli.main import app  # deferred on purpose, see above

    app(prog_name="shadan")


if __name__ == "__main__":
    main()
