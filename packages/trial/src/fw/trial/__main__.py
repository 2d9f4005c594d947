"""``python -m fw.trial``: the ``trial`` command."""

from fw.trial._script import run

if __name__ == "__main__":
    run()
