"""`kg serve`: the built store behind the real Oxigraph SPARQL server, read-only.

The server is the `oxigraph` binary of the PyPI package `oxigraph` (same version as pyoxigraph,
so both read the same store files), run as::

    oxigraph serve-read-only --location OUT/store --bind HOST:PORT \
        --union-default-graph --timeout-s N

`serve-read-only` has no update endpoint: POST /update and the graph store protocol answer
403, so analysts cannot change the graph through it. Its page at http://HOST:PORT/ is the
YASGUI query editor. `running_server` starts and stops the same server for tests and benchmarks.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import math
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import KgError, UsageError

#: How long the server may take to answer its first query.
STARTUP_WAIT_S = 30.0
#: How long a stopping server may take to exit after SIGTERM before it is killed.
STOP_GRACE_S = 5.0


@dataclass
class RunningServer:
    """A started Oxigraph server: `url` is the SPARQL endpoint, `base_url` the query UI."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    _output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))
    _reader: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}/"

    @property
    def url(self) -> str:
        return self.base_url + "query"

    def output(self) -> str:
        """The server's last lines of output (stdout and stderr), for error messages."""
        return "\n".join(self._output).strip()


def find_oxigraph() -> str:
    """The `oxigraph` binary: next to this Python (the virtualenv's), else on PATH."""
    bin_dir = Path(sys.executable).parent
    for name in ("oxigraph", "oxigraph.exe"):
        candidate = bin_dir / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("oxigraph")
    if found is None:
        raise UsageError(
            "the Oxigraph server is not installed: `pip install oxigraph` "
            "(the same version as pyoxigraph)"
        )
    return found


def check_port_free(host: str, port: int) -> None:
    """Raise UsageError when HOST:PORT cannot be listened on (taken, or not a local address)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    errors = []
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            # The server (Rust) sets SO_REUSEADDR too, so a port in TIME_WAIT counts as free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
                return
            except OSError as exc:
                errors.append(exc)
    if any(exc.errno == errno.EADDRINUSE for exc in errors):
        raise UsageError(
            f"port {port} on {host} is already in use (another `kg serve`?); "
            "choose another with --port"
        )
    reason = errors[0].strerror if errors else "no address"
    raise UsageError(f"cannot listen on {host}:{port}: {reason}")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on `host` now (the OS picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_server(
    store_dir: Path, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0
) -> RunningServer:
    """Start `oxigraph serve-read-only` on `store_dir` and wait until it answers a query.

    `port=0` picks a free port. `timeout` (seconds, rounded up to whole seconds as the server
    takes them) bounds every query. Raises UsageError for a missing store or a taken port.
    """
    store_dir = Path(store_dir)
    if not store_dir.is_dir():
        raise UsageError(f"no store at {store_dir}: run `kg build` first")
    if not timeout > 0:
        raise UsageError(f"the query timeout must be a positive number of seconds, not {timeout}")
    if not 0 <= port <= 65535:
        raise UsageError(f"port {port} is not a TCP port (0-65535)")
    if port != 0:
        check_port_free(host, port)
        return _start(store_dir, host, port, timeout)
    for attempt in range(3):  # a picked port can be taken before the server binds it
        try:
            return _start(store_dir, host, free_port(host), timeout)
        except _PortTaken:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class _PortTaken(UsageError):
    """The server could not bind its port."""


def _start(store_dir: Path, host: str, port: int, timeout: float) -> RunningServer:
    command = [
        find_oxigraph(),
        "serve-read-only",
        "--location",
        str(store_dir),
        "--bind",
        f"{_url_host(host)}:{port}",
        "--union-default-graph",
        "--timeout-s",
        str(max(1, math.ceil(timeout))),
    ]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = RunningServer(host, port, process)
    server._reader = threading.Thread(target=_collect_output, args=(server,), daemon=True)
    server._reader.start()
    try:
        _wait_until_ready(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: RunningServer, grace: float = STOP_GRACE_S) -> int:
    """Stop the server: SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns its exit code."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if server._reader is not None:
        server._reader.join(timeout=grace)  # the pipe ends with the process
    if process.stdout is not None and not (server._reader and server._reader.is_alive()):
        process.stdout.close()
    return int(process.returncode)


@contextlib.contextmanager
def running_server(
    store_dir: Path, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0
) -> Iterator[RunningServer]:
    """Serve `store_dir` for the duration of a `with` block (tests, benchmarks).

    >>> with running_server(Path("build/store")) as server:  # doctest: +SKIP
    ...     requests.get(server.url, params={"query": "ASK {}"})
    """
    server = start_server(store_dir, host, port, timeout)
    try:
        yield server
    finally:
        stop_server(server)


class _Stop(Exception):
    """Raised in the main thread by SIGTERM, so that it stops the server like Ctrl-C does."""


def serve_command(out_dir: Path, host: str, port: int, timeout: float) -> int:
    """`kg serve`: serve OUT/store until Ctrl-C or SIGTERM; 0 when stopped that way."""
    store_dir = Path(out_dir) / "store"
    previous = _on_sigterm_raise_stop()
    try:
        server = start_server(store_dir, host, port, timeout)
        try:
            print(f"Serving SPARQL at {server.url} (query UI at {server.base_url})", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            code = server.process.wait()
        finally:
            stop_server(server)
        if code in _STOPPED_BY_SIGNAL:  # a terminal's Ctrl-C reached the server first
            print("Stopped.", flush=True)
            return 0
        raise KgError(f"the Oxigraph server stopped by itself (exit {code}): {server.output()}")
    except (KeyboardInterrupt, _Stop):
        print("Stopped.", flush=True)
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


_STOPPED_BY_SIGNAL = {-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM}


def _on_sigterm_raise_stop() -> object:
    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the server stop in peace
        raise _Stop

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave SIGTERM alone
        return None


def _collect_output(server: RunningServer) -> None:
    stream = server.process.stdout
    if stream is None:
        return
    with contextlib.suppress(ValueError, OSError):
        for line in stream:
            server._output.append(line.decode("utf-8", "replace").rstrip())


def _wait_until_ready(server: RunningServer, wait: float = STARTUP_WAIT_S) -> None:
    probe_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
        server.host, server.host
    )
    probe = f"http://{_url_host(probe_host)}:{server.port}/query?" + urllib.parse.urlencode(
        {"query": "ASK {}"}
    )
    request = urllib.request.Request(probe, headers={"Accept": "application/sparql-results+json"})
    deadline = time.monotonic() + wait
    while True:
        code = server.process.poll()
        if code is not None:
            time.sleep(0.1)  # let the reader thread take the last lines
            output = server.output()
            if "address already in use" in output.lower():
                raise _PortTaken(
                    f"port {server.port} on {server.host} is already in use; "
                    "choose another with --port"
                )
            raise UsageError(f"the Oxigraph server stopped at start (exit {code}): {output}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise KgError(
                f"the Oxigraph server did not answer within {wait:.0f} s: {server.output()}"
            )
        time.sleep(0.05)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
