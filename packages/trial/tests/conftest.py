"""fw-trial's tests.  ``selfsuite/`` holds sample suites that tests run with
``trial`` and pytest in subprocesses; some of their tests fail on purpose,
so pytest does not collect them here."""

collect_ignore = ["selfsuite"]
