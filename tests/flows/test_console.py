"""The commands' consoles: what a stop in the middle of a print leaves on the terminal."""

from __future__ import annotations

import io

import pytest

from flows.cli_base import _Console


class StoppedAfterWriting(io.StringIO):
    """A stream whose first write lands and is then interrupted, as a Ctrl-C arriving just after it."""

    def __init__(self) -> None:
        super().__init__()
        self.stop_next = True

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.stop_next:
            self.stop_next = False
            raise KeyboardInterrupt
        return written


def test_a_stop_landing_just_after_a_line_is_written_does_not_write_that_line_again() -> None:
    stream = StoppedAfterWriting()
    console = _Console(file=stream, width=80)
    with pytest.raises(KeyboardInterrupt):
        console.print("waiting for the warehouse", highlight=False)
    console.print("stopped: the warehouse is as it was", highlight=False)
    assert stream.getvalue().splitlines() == ["waiting for the warehouse", "stopped: the warehouse is as it was"]


def test_a_captured_print_still_returns_its_text() -> None:
    console = _Console(file=io.StringIO(), width=80)
    with console.capture() as captured:
        console.print("one")
    console.print("two")
    assert captured.get() == "one\n" and console.file.getvalue() == "two\n"


def test_a_notebook_still_shows_what_is_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    import rich.jupyter

    shown: list[str] = []
    monkeypatch.setattr(rich.jupyter, "display", lambda segments, text: shown.append(
        "".join(segment.text for segment in segments)))
    _Console(force_jupyter=True, width=80).print("[bold]hello[/bold]")
    assert shown == ["hello\n"]
