"""``python -m fw.application``: the ``fwd`` application runner."""

from fw.application.fwd import run

if __name__ == "__main__":
    run()
