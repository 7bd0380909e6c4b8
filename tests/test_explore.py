"""The explorer's API (transport-free) and its server: what each route returns, how bad input is answered, and
property tests that no request gets anything but a 2xx or a 4xx JSON error."""

import base64
import http.client
import io
import json
import signal
import socket
import subprocess
import sys
import threading
from urllib.parse import urlencode

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from infogan.cli import build_parser
from infogan.config import CodeConfig, preset
from infogan.encode import estimate, read_image
from infogan.errors import ConfigError
from infogan.explore.app import GRID, MAX_BODY, Explorer, model_info
from infogan.explore.server import make_server
from infogan.model import InfoGAN
from infogan.runs import load_model

TILE = 28 + 2  # an MNIST image and its gutter in a grid


def _png_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


DIGIT = _png_bytes(np.pad(np.full((20, 6), 255, np.uint8), ((4, 4), (11, 11))))


@pytest.fixture(scope="module")
def explorer(trained_run) -> Explorer:
    return Explorer(load_model(trained_run))


@pytest.fixture(scope="module")
def server(explorer):
    srv = make_server(explorer.model, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _image(response) -> np.ndarray:
    assert response.status == 200 and response.content_type == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.body)))


def _error(response) -> str:
    assert response.content_type == "application/json"
    return json.loads(response.body)["error"]


# ---- routes -----------------------------------------------------------------------------------------------------
def test_model_route_describes_the_codes(explorer):
    r = explorer.handle("GET", "/api/model")
    info = json.loads(r.body)
    assert r.status == 200 and info == model_info(explorer.model)
    assert [c["name"] for c in info["codes"]] == ["cat0", "c1", "c2"] and info["codes"][0]["k"] == 10
    assert info["image_shape"] == [1, 28, 28] and info["range"] == [-2.0, 2.0]


def test_grid_follows_the_codes_and_the_seed(explorer):
    base = _image(explorer.handle("GET", "/api/grid?seed=5&cat0=1&c1=0.5&c2=0"))
    assert base.shape == (GRID * TILE + 2, GRID * TILE + 2)
    assert np.array_equal(base, _image(explorer.handle("GET", "/api/grid?c2=0&c1=0.5&cat0=1&seed=5")))
    for changed in ("seed=6&cat0=1&c1=0.5", "seed=5&cat0=2&c1=0.5", "seed=5&cat0=1&c1=-1.5", "seed=5&cat0=1&c1=0.5&c2=1"):
        assert not np.array_equal(base, _image(explorer.handle("GET", f"/api/grid?{changed}"))), changed


def test_traversal_starts_from_the_grids_first_image(explorer):
    grid = _image(explorer.handle("GET", "/api/grid?seed=9&cat0=0&c1=0.3"))
    cat = _image(explorer.handle("GET", "/api/traversal?code=cat0&seed=9&cat0=7&c1=0.3"))
    assert cat.shape == (TILE + 2, 10 * TILE + 2)
    assert np.array_equal(cat[2:30, 2:30], grid[2:30, 2:30])  # cat0 = 0 in the first column
    cont = _image(explorer.handle("GET", "/api/traversal?code=c1&seed=9&cat0=3"))
    assert cont.shape == (TILE + 2, 10 * TILE + 2)
    first = _image(explorer.handle("GET", "/api/grid?seed=9&cat0=3&c1=-2"))
    assert np.abs(cont[2:30, 2:30].astype(int) - first[2:30, 2:30]).max() <= 1  # c1 = -2 in the first column


def test_encode_returns_qs_estimates_and_generated_images(explorer):
    r = explorer.handle("POST", "/api/encode?seed=3", DIGIT)
    assert r.status == 200
    result = json.loads(r.body)
    expected = estimate(explorer.model, read_image(DIGIT, (1, 28, 28), "digit")[None])[0]
    assert result["codes"] == json.loads(json.dumps(expected))
    samples = Image.open(io.BytesIO(base64.b64decode(result["images"].split(",", 1)[1])))
    assert samples.size == (8 * TILE + 2, TILE + 2)
    seen = Image.open(io.BytesIO(base64.b64decode(result["input"].split(",", 1)[1])))
    assert seen.size == (28, 28)
    inverted = json.loads(explorer.handle("POST", "/api/encode?seed=3&invert=1", DIGIT).body)
    assert inverted["input"] != result["input"]


@pytest.mark.parametrize(
    "method, target, body, status, message",
    [
        ("GET", "/api/grid?seed=-1", b"", 400, "seed must be an integer in 0..2147483647, got '-1'"),
        ("GET", "/api/grid?seed=1.5", b"", 400, "seed must be an integer in 0..2147483647, got '1.5'"),
        ("GET", "/api/grid?cat0=10", b"", 400, "cat0 must be an integer in 0..9, got '10'"),
        ("GET", "/api/grid?c1=10.5", b"", 400, "c1 must be a number in [-10, 10], got '10.5'"),
        ("GET", "/api/grid?c1=inf", b"", 400, "c1 must be a number in [-10, 10], got 'inf'"),
        ("GET", "/api/grid?c1=nan", b"", 400, "c1 must be a number in [-10, 10], got 'nan'"),
        ("GET", "/api/grid?c3=1", b"", 400, "unknown parameter 'c3'; this route takes: c1, c2, cat0, seed"),
        ("GET", "/api/grid?c1=1&c1=2", b"", 400, "parameter 'c1' given 2 times"),
        ("GET", "/api/model?x=1", b"", 400, "unknown parameter 'x'; this route takes: none"),
        ("GET", "/api/traversal?code=z", b"", 400, "code must be one of: cat0, c1, c2; got 'z'"),
        ("GET", "/api/grid?" + "&".join(f"k{i}=1" for i in range(65)), b"", 400, "bad query string"),
        ("GET", "/api/grid?c1=%ff", b"", 400, "bad query string"),
        ("GET", "/etc/passwd", b"", 404, "no such page: '/etc/passwd'"),
        ("GET", "/../app.js", b"", 404, "no such page: '/../app.js'"),
        ("POST", "/api/grid", b"", 405, "/api/grid takes GET, not 'POST'"),
        ("GET", "/api/encode", b"", 405, "/api/encode takes POST, not 'GET'"),
        ("DELETE", "/", b"", 405, "/ takes GET, not 'DELETE'"),
        ("POST", "/api/encode", b"", 400, "send a PNG or JPEG image as the request body"),
        ("POST", "/api/encode?invert=2", DIGIT, 400, "invert must be an integer in 0..1, got '2'"),
        ("POST", "/api/encode", b"GIF89a", 415, "image in the request body is not a PNG or JPEG file"),
        ("POST", "/api/encode", b"x" * (MAX_BODY + 1), 413, "image is 8,388,609 bytes, more than the 8,388,608"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_message(explorer, method, target, body, status, message):
    r = explorer.handle(method, target, body)
    assert r.status == status
    assert _error(r).startswith(message)


def test_a_bug_is_a_500_without_internals(explorer, monkeypatch, capsys):
    monkeypatch.setattr(explorer.model, "generate", lambda latent: 1 / 0)
    r = explorer.handle("GET", "/api/grid")
    assert (r.status, _error(r)) == (500, "internal error")
    assert "ZeroDivisionError" in capsys.readouterr().err  # the operator sees the traceback, not the client


def test_a_code_named_like_a_parameter_is_refused():
    config = preset("mnist")
    config.latent.codes.append(CodeConfig(name="seed", kind="continuous"))
    with pytest.raises(ConfigError, match="code name 'seed' clashes"):
        Explorer(InfoGAN.build(config))


# ---- property tests ---------------------------------------------------------------------------------------------
NAMES = ["seed", "code", "invert", "cat0", "c1", "c2"]
VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**40), 2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0", "1", "9", "c1", "cat0", "-2", "2.0", "1e309", "0x10", " 3 ", "１"]),
)
QUERIES = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=6)), VALUES, max_size=6).map(urlencode),
    st.text(max_size=40),
)
PATHS = st.one_of(st.sampled_from(["/", "/app.js", "/api/model", "/api/grid", "/api/traversal", "/api/encode"]),
                  st.text(max_size=20))
BODIES = st.one_of(st.just(b""), st.binary(max_size=64), st.just(DIGIT), st.binary(max_size=64).map(lambda b: DIGIT[:40] + b))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.one_of(st.sampled_from(["GET", "POST", "PUT", "HEAD"]), st.text(max_size=8)), path=PATHS,
       query=QUERIES, body=BODIES)
def test_any_request_gets_a_2xx_or_a_4xx_json_error(explorer, method, path, query, body):
    r = explorer.handle(method, f"{path}?{query}", body)
    assert 200 <= r.status < 300 or 400 <= r.status < 500, (r.status, r.body[:200])
    if r.status >= 400:
        message = _error(r)
        assert message and "\n" not in message and "Traceback" not in message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.one_of(st.binary(max_size=120), st.text(max_size=120).map(str.encode)),
       line=st.sampled_from([b"GET /api/grid?c1=", b"POST /api/encode HTTP/1.1\r\nContent-Length: ", b"FOO / HTTP/1.0",
                             b"GET / HTTP/1.1\r\nHost: ", b"GET /api/model HTTP/1.1\r\nHost: localhost\r\n"]))
def test_any_bytes_on_the_socket_get_a_4xx_json_error_or_a_page(server, head, line):
    with socket.create_connection(server.server_address[:2], timeout=20) as s:
        s.sendall(line + head + b"\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        reply = _read_all(s)
    if not reply:
        return  # nothing that parsed as a request (e.g. an empty line): the server just closes
    status_line, _, rest = reply.partition(b"\r\n")
    status = int(status_line.split()[1])
    assert 200 <= status < 300 or 400 <= status < 500, reply[:300]
    if status >= 400:
        body = rest.partition(b"\r\n\r\n")[2]
        assert "error" in json.loads(body)


def _read_all(s: socket.socket) -> bytes:
    reply = b""
    while chunk := s.recv(65536):
        reply += chunk
    return reply


# ---- the server -------------------------------------------------------------------------------------------------
def _request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r, r.read(), conn


def test_server_answers_pages_api_and_keeps_connections(server):
    r, body, conn = _request(server, "GET", "/")
    assert r.status == 200 and b"InfoGAN explorer" in body and r.getheader("Content-Type").startswith("text/html")
    conn.request("GET", "/api/grid?seed=2&c1=1")
    r2 = conn.getresponse()
    assert r2.status == 200 and r2.read().startswith(b"\x89PNG")  # the same connection: keep-alive
    conn.close()
    r, body, _ = _request(server, "POST", "/api/encode", DIGIT, {"Content-Type": "image/png"})
    assert r.status == 200 and set(json.loads(body)) == {"codes", "input", "images"}


def test_server_refuses_a_large_body_without_reading_it(server):
    with socket.create_connection(server.server_address[:2], timeout=20) as s:
        s.sendall(f"POST /api/encode HTTP/1.1\r\nHost: localhost\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode())
        reply = _read_all(s)  # answered and closed at once, though no byte of the body was sent
    assert reply.startswith(b"HTTP/1.1 413") and b"Connection: close" in reply and b'"error"' in reply


@pytest.mark.parametrize(
    "method, headers, status, message",
    [
        ("POST", {}, 411, "POST needs a Content-Length header"),
        ("POST", {"Content-Length": "ten"}, 400, "Content-Length must be a number of bytes"),
        ("PUT", {}, 405, "method 'PUT' is not allowed"),
        ("FROB", {}, 405, "method 'FROB' is not allowed"),
        ("GET", {"Host": "attacker.example"}, 403, "this server answers only requests for localhost"),
    ],
)
def test_server_errors_are_json(server, method, headers, status, message):
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    conn.putrequest(method, "/api/encode" if method == "POST" else "/", skip_host="Host" in headers)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == status and r.getheader("Content-Type") == "application/json"
    assert json.loads(r.read()) == {"error": message}


def test_malformed_request_line_is_a_json_400(server):
    with socket.create_connection(server.server_address[:2], timeout=20) as s:
        s.sendall(b"GET\x00 / HTTP/9.9 extra\r\n\r\n")
        reply = _read_all(s)
    assert reply.split()[1] == b"400" and b'{"error": ' in reply


def test_a_busy_port_is_a_one_line_error(server, explorer):
    port = server.server_address[1]
    with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is in use; pass --port N"):
        make_server(explorer.model, "127.0.0.1", port)


def test_explore_binds_to_loopback_unless_told(trained_run):
    assert build_parser().parse_args(["explore", str(trained_run)]).host == "127.0.0.1"
    srv = make_server(load_model(trained_run), port=0)
    try:
        assert srv.server_address[0] == "127.0.0.1" and srv.loopback_only
    finally:
        srv.server_close()


def test_close_ends_idle_keep_alive_connections_and_joins_their_threads(trained_run):
    # Handler threads must be finished before the interpreter exits (a daemon thread freeing a tensor during exit
    # aborted the process); a keep-alive client idling on its connection must not hold the close for 30 s.
    srv = make_server(load_model(trained_run), port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=30)
    conn.request("GET", "/api/grid?seed=1")
    assert conn.getresponse().read()
    srv.shutdown()
    closing = threading.Thread(target=srv.server_close)
    closing.start()
    closing.join(timeout=10)
    try:
        assert not closing.is_alive(), "server_close waited on the idle keep-alive connection"
        assert not [t for t in threading.enumerate() if "process_request_thread" in t.name]
    finally:
        conn.close()


def test_cli_explore_serves_until_ctrl_c(trained_run):
    proc = subprocess.Popen([sys.executable, "-m", "infogan", "explore", str(trained_run), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conn = None
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"explorer for {trained_run} at http://127.0.0.1:"), line + proc.stderr.read()
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/model")
        assert json.loads(conn.getresponse().read())["codes"][0]["name"] == "cat0"
    finally:  # Ctrl-C with the connection still open, as a browser tab keeps it
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        if conn:
            conn.close()
        assert code == 0, (code, proc.stdout.read(), proc.stderr.read())
