"""Tests for fw.python.logfile: size and daily rotation, readers, reopening."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from fw.python.logfile import DailyLogFile, LogFile, LogReader


def content(path: Path) -> bytes:
    return path.read_bytes()


# -- LogFile -----------------------------------------------------------------


def test_write_and_size(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path))
    log.write("héllo\n")
    log.write(b"bytes\n")
    log.flush()
    assert content(tmp_path / "app.log") == "héllo\nbytes\n".encode()
    assert log.size == len("héllo\n".encode()) + 6
    assert log.path == str(tmp_path / "app.log")
    log.close()
    assert log.closed


def test_existing_file_is_appended(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(b"old\n")
    log = LogFile("app.log", str(tmp_path))
    assert log.size == 4
    log.write("new\n")
    log.close()
    assert content(tmp_path / "app.log") == b"old\nnew\n"


def test_rotation_by_size(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path), rotateLength=10)
    log.write("123456789\n")  # reaches 10 bytes: the next write rotates first
    assert log.listLogs() == []
    log.write("second\n")
    assert log.listLogs() == [1]
    assert content(tmp_path / "app.log.1") == b"123456789\n"
    assert content(tmp_path / "app.log") == b"second\n"
    log.write("third!\n")  # 14 bytes now
    log.write("fourth\n")
    assert log.listLogs() == [1, 2]
    assert content(tmp_path / "app.log.2") == b"123456789\n"
    assert content(tmp_path / "app.log.1") == b"second\nthird!\n"
    assert content(tmp_path / "app.log") == b"fourth\n"
    log.close()


def test_manual_rotate(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path))
    log.write("a\n")
    log.rotate()
    log.write("b\n")
    log.close()
    assert content(tmp_path / "app.log.1") == b"a\n"
    assert content(tmp_path / "app.log") == b"b\n"
    assert log.size == 2


def test_max_rotated_files(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path), rotateLength=1, maxRotatedFiles=2)
    for n in range(5):
        log.write(f"{n}\n")
    log.close()
    assert log.listLogs() == [1, 2]
    assert content(tmp_path / "app.log") == b"4\n"
    assert content(tmp_path / "app.log.1") == b"3\n"
    assert content(tmp_path / "app.log.2") == b"2\n"
    assert not (tmp_path / "app.log.3").exists()


def test_no_rotation_without_length(tmp_path: Path) -> None:
    for length in (None, 0):
        log = LogFile(f"app{length}.log", str(tmp_path), rotateLength=length)
        for _ in range(10):
            log.write("x" * 100)
        assert log.listLogs() == []
        log.close()


def test_list_logs_ignores_other_files(tmp_path: Path) -> None:
    for name in ("app.log.3", "app.log.10", "app.log.0", "app.log.old", "app.logx.1", "other.1"):
        (tmp_path / name).write_bytes(b"")
    log = LogFile("app.log", str(tmp_path))
    assert log.listLogs() == [3, 10]
    log.close()


def test_get_log(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path), rotateLength=5)
    log.write("line 1\nline 2\nline 3\n")
    log.write("current\n")
    reader = log.getLog(1)
    assert reader.readLines(2) == ["line 1\n", "line 2\n"]
    assert reader.readLines() == ["line 3\n"]
    assert reader.readLines() == []
    reader.close()
    with pytest.raises(ValueError, match="no such logfile"):
        log.getLog(2)
    with log.getCurrentLog() as current:
        assert current.readLines() == ["current\n"]
    log.close()


def test_log_reader_tolerates_bad_utf8(tmp_path: Path) -> None:
    (tmp_path / "bad").write_bytes(b"ok\n\xff\xfe\n")
    with LogReader(str(tmp_path / "bad")) as reader:
        assert reader.readLines() == ["ok\n", "\ufffd\ufffd\n"]


def test_default_mode(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path), defaultMode=0o640)
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o640
    log.write("x\n")
    log.rotate()
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o640
    log.close()


def test_mode_of_existing_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    path.chmod(0o604)
    log = LogFile("app.log", str(tmp_path))
    assert log.defaultMode == 0o604
    log.rotate()
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o604
    log.close()


def test_reopen_after_external_move(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path))
    log.write("before\n")
    os.rename(log.path, str(tmp_path / "moved"))
    log.write("still to the moved file\n")
    log.reopen()
    log.write("after\n")
    log.close()
    assert content(tmp_path / "moved") == b"before\nstill to the moved file\n"
    assert content(tmp_path / "app.log") == b"after\n"
    assert log.size == 6


def test_from_full_path(tmp_path: Path) -> None:
    log = LogFile.fromFullPath(str(tmp_path / "full.log"), rotateLength=3)
    assert log.name == "full.log"
    assert log.directory == str(tmp_path)
    assert log.rotateLength == 3
    log.close()


def test_no_rotation_when_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = LogFile("app.log", str(tmp_path), rotateLength=1)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    log.write("a\n")
    log.write("b\n")
    assert log.listLogs() == []
    log.close()
    assert content(tmp_path / "app.log") == b"a\nb\n"


def test_threads_share_a_log_file(tmp_path: Path) -> None:
    log = LogFile("app.log", str(tmp_path), rotateLength=1000)

    def work(n: int) -> None:
        for i in range(100):
            log.write(f"{n}:{i}\n")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    lines = []
    for number in [*reversed(log.listLogs()), None]:
        name = "app.log" if number is None else f"app.log.{number}"
        lines.extend(content(tmp_path / name).decode().splitlines())
    assert sorted(lines) == sorted(f"{n}:{i}" for n in range(4) for i in range(100))


# -- DailyLogFile ----------------------------------------------------------------


class FakeClock:
    def __init__(self, when: float) -> None:
        self.now = when

    def seconds(self) -> float:
        return self.now


def noon(year: int, month: int, day: int) -> float:
    return time.mktime((year, month, day, 12, 0, 0, 0, 0, -1))


def test_daily_rotation(tmp_path: Path) -> None:
    clock = FakeClock(noon(2026, 1, 31))
    log = DailyLogFile("app.log", str(tmp_path), now=clock.seconds)
    assert log.lastDate == (2026, 1, 31)
    log.write("january\n")
    clock.now += 3600
    log.write("same day\n")
    assert not (tmp_path / "app.log.2026_1_31").exists()
    clock.now = noon(2026, 2, 1)
    assert log.shouldRotate()
    log.write("february\n")
    assert content(tmp_path / "app.log.2026_1_31") == b"january\nsame day\n"
    assert content(tmp_path / "app.log") == b"february\n"
    assert log.lastDate == (2026, 2, 1)
    clock.now = noon(2026, 2, 3)
    log.write("later\n")
    assert log.listLogs() == [(2026, 1, 31), (2026, 2, 1)]
    log.close()


def test_daily_get_log(tmp_path: Path) -> None:
    clock = FakeClock(noon(2026, 3, 1))
    log = DailyLogFile("app.log", str(tmp_path), now=clock.seconds)
    log.write("first day\n")
    clock.now = noon(2026, 3, 2)
    log.write("second day\n")
    with log.getLog((2026, 3, 1)) as reader:
        assert reader.readLines() == ["first day\n"]
    with log.getLog((2026, 3, 2)) as reader:  # today: the current file
        assert reader.readLines() == ["second day\n"]
    with pytest.raises(ValueError, match="no such logfile"):
        log.getLog((2020, 1, 1))
    log.close()


def test_daily_suffix_and_dates(tmp_path: Path) -> None:
    clock = FakeClock(noon(2026, 12, 5))
    log = DailyLogFile("app.log", str(tmp_path), now=clock.seconds)
    assert log.suffix((2026, 12, 5)) == "2026_12_5"
    assert log.suffix(noon(2025, 7, 4)) == "2025_7_4"
    assert log.toDate() == (2026, 12, 5)
    assert log.toDate(noon(2000, 2, 29)) == (2000, 2, 29)
    log.close()


def test_daily_existing_file_dates_from_its_mtime(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old day\n")
    os.utime(path, (noon(2026, 4, 1), noon(2026, 4, 1)))
    clock = FakeClock(noon(2026, 4, 3))
    log = DailyLogFile("app.log", str(tmp_path), now=clock.seconds)
    assert log.lastDate == (2026, 4, 1)
    log.write("new day\n")
    log.close()
    assert content(tmp_path / "app.log.2026_4_1") == b"old day\n"
    assert content(tmp_path / "app.log") == b"new day\n"


def test_daily_no_overwrite_of_rotated_file(tmp_path: Path) -> None:
    (tmp_path / "app.log.2026_5_1").write_bytes(b"precious\n")
    clock = FakeClock(noon(2026, 5, 1))
    log = DailyLogFile("app.log", str(tmp_path), now=clock.seconds)
    log.write("one\n")
    clock.now = noon(2026, 5, 2)
    log.write("two\n")
    log.close()
    assert content(tmp_path / "app.log.2026_5_1") == b"precious\n"
    assert content(tmp_path / "app.log") == b"one\ntwo\n"


def test_daily_clock_going_back(tmp_path: Path) -> None:
    clock = FakeClock(noon(2026, 6, 2))
    log = DailyLogFile("app.log", str(tmp_path), now=clock.seconds)
    log.write("a\n")
    clock.now = noon(2026, 6, 1)
    log.write("b\n")
    assert log.lastDate == (2026, 6, 2)
    assert log.listLogs() == []
    log.close()


def test_daily_from_full_path(tmp_path: Path) -> None:
    clock = FakeClock(noon(2026, 7, 1))
    log = DailyLogFile.fromFullPath(str(tmp_path / "d.log"), now=clock.seconds)
    assert log.path == str(tmp_path / "d.log")
    log.close()
