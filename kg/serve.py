"""`kg serve`: the built store behind the real Oxigraph SPARQL server, read-only.

The server is the `oxigraph` binary of the PyPI package `oxigraph` (same version as pyoxigraph,
so both read the same store files), run as::

    oxigraph serve-read-only --location OUT/store --bind HOST:PORT \
        --union-default-graph --timeout-s N

`serve-read-only` has no update endpoint: POST /update and the graph store protocol answer
403, so analysts cannot change the graph through it. `running_server` starts and stops the same
server for tests and benchmarks.

`kg serve` puts a small reverse proxy (`DocsProxy`, Python's http.server) on HOST:PORT in
front of that server, which then listens on a free loopback port of its own:

- `/docs/` serves the generated documentation folder (`docs/`: the ontology page at
  /docs/ontology/, the JSON-LD context at /docs/context.jsonld);
- `/`, Oxigraph's YASGUI query page, gets a one-line bar of links to that documentation
  (the page itself is Oxigraph's and cannot be edited);
- every other request (/query, /update, /store, the page's scripts) goes to Oxigraph as it
  came, and its answer comes back as it is sent, streamed: Oxigraph does all the SPARQL,
  refuses updates and applies the timeout.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import http.client
import http.server
import math
import mimetypes
import os
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

from kg import load
from kg.errors import KgError, UsageError

#: How long the server may take to answer its first query.
STARTUP_WAIT_S = 30.0
#: How long a stopping server may take to exit after SIGTERM before it is killed.
STOP_GRACE_S = 5.0


@dataclass
class _Address:
    """A server on HOST:PORT: `url` is its SPARQL endpoint, `base_url` its query UI."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}/"

    @property
    def url(self) -> str:
        return self.base_url + "query"


@dataclass
class RunningServer(_Address):
    """A started Oxigraph server: `url` is the SPARQL endpoint, `base_url` the query UI."""

    process: subprocess.Popen[bytes]
    _output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))
    _reader: threading.Thread | None = None

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
    # Pinned to the generation the store path resolves to now: a later build switches OUT/store
    # to a new generation, and this server keeps reading the one it opened.
    generation = load.generation_of(store_dir)
    if (generation / load.MANIFEST_FILE).exists():
        load.mark_in_use(generation)
    command = [
        find_oxigraph(),
        "serve-read-only",
        "--location",
        os.path.realpath(store_dir),
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


def serve_command(
    out_dir: Path,
    host: str,
    port: int,
    timeout: float,
    docs_dir: Path = Path("docs"),
    reload: bool = False,
) -> int:
    """`kg serve`: serve OUT/store until Ctrl-C or SIGTERM; 0 when stopped that way.

    The server reads the generation that was live when it started, whatever builds follow;
    with `reload` it moves to each new generation a build publishes, without a failed query.
    """
    store_dir = Path(out_dir) / "store"
    previous = _on_sigterm_raise_stop()
    previous_int = _on_sigint_raise_interrupt()
    try:
        with running_endpoint(store_dir, host, port, timeout, docs_dir) as endpoint:
            print(
                f"Serving SPARQL at {endpoint.url} (query UI at {endpoint.base_url}, "
                f"ontology documentation at {endpoint.docs_url})",
                flush=True,
            )
            if not (Path(docs_dir) / "ontology" / "index.html").is_file():
                print(f"(no {docs_dir}/ontology/index.html: run `kg docs` to write it)", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            code = _serve_until_stopped(endpoint, Path(out_dir), timeout, reload)
            server = endpoint.oxigraph
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
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


# ----------------------------------------------------------------------------------------------
# The endpoint as `kg serve` runs it: Oxigraph behind a proxy that also serves docs/
# ----------------------------------------------------------------------------------------------

#: Headers that concern one connection only (RFC 9110, 7.6.1): never forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
#: The bar of links put at the top of Oxigraph's query page.
DOCS_BAR = (
    '<nav id="dkg-links" style="font:14px/1.4 system-ui,sans-serif;padding:6px 12px;'
    'background:#1f4e79;color:#fff">dkg knowledge graph &middot; '
    '<a style="color:#fff" href="/docs/ontology/">Ontology documentation</a> &middot; '
    '<a style="color:#fff" href="/docs/context.jsonld">JSON-LD context</a> &middot; '
    "SPARQL endpoint <code>/query</code> (read-only) &middot; Wikidata joins: the endpoint "
    "is the IRI after <code>SERVICE</code>; edit it there</nav>"
)
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".jsonld": "application/ld+json",
    ".md": "text/markdown; charset=utf-8",
    ".ttl": "text/turtle; charset=utf-8",
}


@dataclass
class Endpoint(_Address):
    """`kg serve`'s endpoint: the proxy on HOST:PORT in front of the Oxigraph server."""

    oxigraph: RunningServer
    proxy: DocsProxy
    retiring: list[RunningServer] = field(default_factory=list)  # replaced by a reload

    @property
    def docs_url(self) -> str:
        return self.base_url + "docs/"


class DocsProxy(http.server.ThreadingHTTPServer):
    """Serves `docs_dir` at /docs/ and forwards everything else to the Oxigraph server."""

    daemon_threads = True
    block_on_close = False  # closing never waits for a client's idle keep-alive connection

    def __init__(
        self, address: tuple[str, int], upstream: RunningServer, docs_dir: Path, timeout: float
    ) -> None:
        self.upstream = upstream
        self.docs_dir = Path(docs_dir).resolve()
        self.upstream_timeout = timeout + 30  # Oxigraph stops the query itself at `timeout`
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes (headers, chunks) go out at once
    server: DocsProxy
    server_version = "dkg-serve"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        return  # the endpoint's console stays quiet; Oxigraph does the work

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def do_PUT(self) -> None:  # noqa: N802
        self._forward()

    def do_DELETE(self) -> None:  # noqa: N802
        self._forward()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._forward()

    def _dispatch(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == "/docs" or path.startswith("/docs/"):
            self._docs(path)
        elif path == "/":
            self._forward(add_bar=True)
        else:
            self._forward()

    def _docs(self, path: str) -> None:
        relative = urllib.parse.unquote(path[len("/docs") :]).lstrip("/")
        if relative in ("", "ontology"):
            self._send(302, b"", {"Location": "/docs/ontology/"})
            return
        target = (self.server.docs_dir / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.server.docs_dir) or not target.is_file():
            hint = " (run `kg docs`)" if relative.startswith("ontology") else ""
            self._send(404, f"not found: /docs/{relative}{hint}\n".encode(), _text())
            return
        content_type = _CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        self._send(200, target.read_bytes(), {"Content-Type": content_type})

    def _forward(self, add_bar: bool = False) -> None:
        body = self._request_body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if add_bar:
            headers.pop("Accept-Encoding", None)  # the page is rewritten: ask for it plain
        upstream = self.server.upstream
        connection = http.client.HTTPConnection(
            "127.0.0.1", upstream.port, timeout=self.server.upstream_timeout
        )
        try:
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
        except OSError as exc:
            connection.close()
            self._send(502, f"the Oxigraph server did not answer: {exc}\n".encode(), _text())
            return
        try:
            out_headers = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() not in ("server", "date")
            ]
            content_type = response.getheader("Content-Type", "")
            if add_bar and response.status == 200 and content_type.startswith("text/html"):
                page = response.read().decode("utf-8", "replace")
                page = page.replace("<body>", "<body>\n" + DOCS_BAR, 1)
                self._send(response.status, page.encode("utf-8"), dict(out_headers))
                return
            self._stream(response, out_headers)
        finally:
            connection.close()

    def _request_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailer lines
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def _stream(self, response: http.client.HTTPResponse, headers: list[tuple[str, str]]) -> None:
        length = response.getheader("Content-Length")
        self.send_response(response.status, response.reason)
        for key, value in headers:
            self.send_header(key, value)
        no_body = self.command == "HEAD" or response.status in (204, 304)
        if length is not None or no_body:
            self.send_header("Content-Length", length or "0")
            self.end_headers()
            if not no_body:
                while chunk := response.read(65536):
                    self.wfile.write(chunk)
            return
        self.send_header("Transfer-Encoding", "chunked")  # Oxigraph streams results
        self.end_headers()
        while chunk := response.read1(65536):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _text() -> dict[str, str]:
    return {"Content-Type": "text/plain; charset=utf-8"}


def start_endpoint(
    store_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 30.0,
    docs_dir: Path = Path("docs"),
) -> Endpoint:
    """Start Oxigraph on a free loopback port and the proxy on HOST:PORT (0: a free port).

    Raises UsageError for a missing store or a taken port, before anything is started."""
    store_dir = Path(store_dir)
    if not store_dir.is_dir():
        raise UsageError(f"no store at {store_dir}: run `kg build` first")
    if not 0 <= port <= 65535:
        raise UsageError(f"port {port} is not a TCP port (0-65535)")
    if port != 0:
        check_port_free(host, port)
    oxigraph = start_server(store_dir, "127.0.0.1", 0, timeout)
    try:
        proxy = DocsProxy((host, port), oxigraph, docs_dir, timeout)
    except OSError as exc:
        stop_server(oxigraph)
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is already in use (another `kg serve`?); "
                "choose another with --port"
            ) from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return Endpoint(host, int(proxy.server_address[1]), oxigraph, proxy)


def stop_endpoint(endpoint: Endpoint) -> int:
    """Stop the proxy, then the Oxigraph server; returns the server's exit code."""
    endpoint.proxy.shutdown()
    endpoint.proxy.server_close()
    for old in endpoint.retiring:
        stop_server(old)
    return stop_server(endpoint.oxigraph)


@contextlib.contextmanager
def running_endpoint(
    store_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 30.0,
    docs_dir: Path = Path("docs"),
) -> Iterator[Endpoint]:
    """The endpoint exactly as `kg serve` runs it, for a `with` block (tests, benchmarks)."""
    endpoint = start_endpoint(store_dir, host, port, timeout, docs_dir)
    try:
        yield endpoint
    finally:
        stop_endpoint(endpoint)


RELOAD_POLL_S = 1.0


def _serve_until_stopped(endpoint: Endpoint, out_dir: Path, timeout: float, reload: bool) -> int:
    """Wait for the Oxigraph server to end; with `reload`, switch to each new generation."""
    serving = load.generation_of(Path(out_dir) / "store")
    while True:
        try:
            return endpoint.oxigraph.process.wait(timeout=RELOAD_POLL_S)
        except subprocess.TimeoutExpired:
            pass
        if not reload:
            continue
        live = load.live_generation(out_dir)
        if live is not None and live != serving and (live / "store").is_dir():
            _switch_generation(endpoint, live, timeout)
            serving = live


def _switch_generation(endpoint: Endpoint, gen: Path, timeout: float) -> None:
    """Start Oxigraph on `gen`, point the proxy at it once it answers, then retire the old
    server after its longest possible query, so no request fails during the switch."""
    try:
        fresh = start_server(gen / "store", "127.0.0.1", 0, timeout)
    except (KgError, OSError) as exc:
        print(
            f"kg serve: staying on the current store: cannot open {gen / 'store'}: {exc}",
            file=sys.stderr,
            flush=True,
        )
        return
    old = endpoint.oxigraph
    endpoint.proxy.upstream = fresh
    endpoint.oxigraph = fresh
    endpoint.retiring.append(old)
    print(f"Now serving {gen.name} (a new build).", flush=True)
    retire = threading.Timer(max(1, math.ceil(timeout)) + 2, stop_server, args=(old,))
    retire.daemon = True
    retire.start()


def _wait_interruptibly(process: subprocess.Popen[bytes]) -> int:
    """Wait for the process, waking up often: a signal the OS hands to another thread (the
    proxy's) only runs its Python handler when the main thread runs Python code."""
    while True:
        try:
            return process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue


_STOPPED_BY_SIGNAL = {-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM}


def _on_sigint_raise_interrupt() -> object:
    """Ctrl-C (SIGINT) stops the server even when it was started with SIGINT ignored, as a
    shell does for a command run in the background (`nohup kg serve &`, a CI step): Python
    then leaves it ignored. Returns the disposition to restore, None when left alone."""
    try:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: leave SIGINT alone
        pass
    return None


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
