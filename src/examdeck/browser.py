"""Headless Chromium driven over the DevTools protocol: open pages at a given width, run scripts.

One browser process serves many pages (``Browser.page``). Chromium speaks the protocol on two
pipes (``--remote-debugging-pipe``: it reads commands on fd 3 and writes answers on fd 4, each
message a JSON object ended by a NUL byte), so nothing listens on a port and no extra library
is needed. Used by ``examdeck preview --report`` and by the phone-view test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Browser", "BrowserError", "Page", "find_chromium", "launch"]

# Flags for a headless browser that talks to nobody (also safe as root in a container).
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# ... driven through the DevTools pipe, reading the preview's local files.
CHROMIUM_FLAGS = (*HEADLESS_FLAGS, "--allow-file-access-from-files", "--remote-debugging-pipe")


class BrowserError(RuntimeError):
    """Chromium could not be started, died, timed out or answered a command with an error."""


def find_chromium() -> str | None:
    """``$EXAMDECK_CHROMIUM``, else ``chromium`` or ``chromium-browser`` or ``google-chrome`` on PATH."""
    explicit = os.environ.get("EXAMDECK_CHROMIUM")
    if explicit:
        return shutil.which(explicit)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Page:
    """One tab: its DevTools session. Methods raise BrowserError."""

    browser: Browser
    session: str
    target: str

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def set_viewport(self, width: int, height: int, scale: float = 1) -> None:
        """The layout viewport in CSS px, and the device pixel ratio (2 for a phone's retina screen)."""
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False})

    def goto(self, url: str, timeout: float = 60) -> None:
        """Navigate and wait for the load event (scripts ran, images loaded)."""
        self.send("Page.enable")
        self.browser.events.clear()
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise BrowserError(f"cannot open {url}: {answer['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session, timeout)

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """The value of a JS expression (awaited when a promise), as JSON."""
        answer = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"script failed: {text}")
        return answer.get("result", {}).get("value")

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (beyond the viewport's height), at the device pixel ratio."""
        import base64

        answer = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(answer["data"]))
        return path

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


class Browser:
    """A running headless Chromium; use ``launch()``."""

    def __init__(self, proc: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.proc = proc
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def page(self) -> Page:
        """A new blank tab."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session, target)

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 60) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._out, json.dumps(message).encode() + b"\0")
        except OSError as err:
            raise BrowserError(f"Chromium stopped listening ({err})") from err
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline, method)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self.events.append(answer)

    def wait_event(self, name: str, session: str | None, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == name and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            answer = self._read(deadline, name)
            if "method" in answer:
                self.events.append(answer)

    def _read(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"Chromium timed out on {waiting_for}")
            ready, _, _ = select.select([self._in], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (code {self.proc.poll()}) during {waiting_for}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        decoded: dict[str, Any] = json.loads(message)
        return decoded

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass


@contextmanager
def launch(chromium: str | None = None) -> Iterator[Browser]:
    """Start headless Chromium with a fresh profile, and stop it at the end.

    :raises BrowserError: no Chromium (install the ``chromium`` package), or it did not start.
    """
    executable = chromium or find_chromium()
    if executable is None:
        raise BrowserError("Chromium not found: install it (apt-get install chromium) or set EXAMDECK_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="examdeck-chromium-") as profile:
        # Chromium reads commands from its fd 3 and writes to its fd 4. The pipes are not
        # inheritable (PEP 446); in the child, copies go to fds 3 and 4 (via fds >= 10, so
        # that neither copy overwrites the other end), which exec keeps.
        command_read, command_write = os.pipe()
        answer_read, answer_write = os.pipe()

        def child_fds() -> None:
            import fcntl

            commands = fcntl.fcntl(command_read, fcntl.F_DUPFD, 10)
            answers = fcntl.fcntl(answer_write, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        try:
            proc = subprocess.Popen(
                [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                close_fds=False, preexec_fn=child_fds,  # noqa: PLW1509 - the child only duplicates two fds
            )
        except OSError as err:
            raise BrowserError(f"cannot start {executable}: {err}") from err
        finally:
            os.close(command_read)
            os.close(answer_write)
        browser = Browser(proc, command_write, answer_read)
        try:
            yield browser
        finally:
            browser.close()
