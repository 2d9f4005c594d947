"""
Run the tutorial's tests and the echo tests with ``python -m fw.trial``, as a
user would run ``trial test_base_1 test_echo``, and show what it prints.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
with tempfile.TemporaryDirectory() as temp:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "fw.trial",
            "--temp-directory",
            str(Path(temp) / "_trial_temp"),
            "test_base_1",
            "test_echo",
        ],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=60,
    )
# The run's duration changes from run to run.
print(re.sub(r"in \d+\.\d+s", "in N.NNNs", run.stdout), end="")
print("exit status:", run.returncode)
