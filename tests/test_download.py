"""Downloads against a loopback HTTP server: good, truncated, corrupt, missing, slow, flaky and unreachable mirrors."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from infogan.data import download, load_dataset, svhn
from infogan.data.download import RemoteFile, ensure_files
from infogan.data.idx import write_idx
from infogan.data.mnist import MNIST
from infogan.errors import DataError

PAYLOAD = bytes(range(256)) * 400  # 100 KiB: several reads
FILE = RemoteFile("data.bin", "md5:" + hashlib.md5(PAYLOAD).hexdigest())


class Server:
    """Serves files under /MODE/NAME; MODE says how: good, truncated, corrupt, 404, slow, flaky (503 twice)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {"data.bin": PAYLOAD}
        self.requests: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests[self.path] += 1
                mode, _, name = self.path.strip("/").partition("/")
                body = outer.files.get(name)
                if body is None or mode == "404":
                    self.send_error(404)
                    return
                if mode == "flaky" and outer.requests[self.path] <= 2:
                    self.send_error(503)
                    return
                if mode == "slow":
                    threading.Event().wait(1.0)  # not time.sleep, which the tests stub
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncated":
                    body = body[: len(body) // 2]
                elif mode == "corrupt":
                    body = body[:100] + bytes([body[100] ^ 1]) + body[101:]
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def mirror(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{mode}/"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFOGAN_OFFLINE")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the backoff instead of waiting for it."""
    waited: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waited.append)
    return waited


def refused_mirror() -> str:
    """A loopback port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _fails(folder: Path, mirrors: list[str], **kwargs: float) -> str:
    with pytest.raises(DataError) as info:
        download.download(FILE, folder, mirrors, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.startswith("could not download data.bin: ")
    assert f"put the file in {folder}" in message and "--data-dir" in message
    assert _leftovers(folder) == []  # nothing partial or corrupt is left, under any name
    return message


def test_good_mirror(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    path = download.download(FILE, tmp_path, [server.mirror("good")])
    assert path == tmp_path / "data.bin" and path.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == ["data.bin"] and sleeps == []


@pytest.mark.parametrize("bad", ["404", "truncated", "corrupt", "refused", "slow"])
def test_good_mirror_after_a_bad_one(bad: str, server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    first = refused_mirror() if bad == "refused" else server.mirror(bad)
    path = download.download(FILE, tmp_path, [first, server.mirror("good")], timeout_s=0.3)
    assert path.read_bytes() == PAYLOAD and _leftovers(tmp_path) == ["data.bin"]
    assert server.requests["/good/data.bin"] == 1 and sleeps == []


def test_every_mirror_bad_is_one_line_naming_each(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    refused = refused_mirror()
    mirrors = [server.mirror("404"), server.mirror("truncated"), server.mirror("corrupt"), refused,
               server.mirror("slow")]
    message = _fails(tmp_path, mirrors, tries=2, timeout_s=0.3, backoff_s=0.5)
    assert f"{server.mirror('404')}: HTTP 404;" in message
    assert f"{server.mirror('truncated')}: truncated (51200 of 102400 bytes) (2 tries)" in message
    assert f"{server.mirror('corrupt')}: md5 mismatch" in message
    assert f"{refused}: connection refused (2 tries)" in message
    assert f"{server.mirror('slow')}: timed out (2 tries)" in message
    # A 404 is final; every other mirror is asked again after the backoff.
    assert server.requests["/404/data.bin"] == 1 and server.requests["/corrupt/data.bin"] == 2
    assert sleeps == [0.5]


def test_retries_back_off_exponentially(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    path = download.download(FILE, tmp_path, [server.mirror("flaky")], tries=3, backoff_s=0.25)
    assert path.read_bytes() == PAYLOAD
    assert server.requests["/flaky/data.bin"] == 3 and sleeps == [0.25, 0.5]


def test_gives_up_after_tries(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    message = _fails(tmp_path, [server.mirror("flaky")], tries=2, backoff_s=0.1)
    assert "HTTP 503 (2 tries)" in message and server.requests["/flaky/data.bin"] == 2


def test_a_stale_part_file_is_removed_and_a_live_one_kept(server: Server, tmp_path: Path) -> None:
    stale, live = tmp_path / ".data.bin.old.part", tmp_path / ".data.bin.new.part"
    stale.write_bytes(b"half")
    live.write_bytes(b"half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    download.download(FILE, tmp_path, [server.mirror("good")])
    assert _leftovers(tmp_path) == [live.name, "data.bin"]


def test_only_http_mirrors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not an http"):
        download.download(FILE, tmp_path, ["file:///etc/"])


def test_ensure_files_uses_a_good_cache_and_replaces_a_corrupt_one(
    server: Server, tmp_path: Path, online: None
) -> None:
    (tmp_path / "data.bin").write_bytes(PAYLOAD)
    assert ensure_files("x", [FILE], tmp_path, [server.mirror("good")]) == [tmp_path / "data.bin"]
    assert server.requests["/good/data.bin"] == 0
    (tmp_path / "data.bin").write_bytes(PAYLOAD[:-1] + b"!")
    with pytest.warns(UserWarning, match="does not match its md5 checksum; downloading it again"):
        ensure_files("x", [FILE], tmp_path, [server.mirror("good")])
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD and server.requests["/good/data.bin"] == 1


def test_offline_never_connects(server: Server, tmp_path: Path) -> None:
    assert os.environ["INFOGAN_OFFLINE"] == "1"  # set for every test by conftest
    with pytest.raises(DataError, match=r"^--data x needs --data-dir DIR holding data.bin, .*INFOGAN_OFFLINE=1\)$"):
        ensure_files("x", [FILE], tmp_path, [server.mirror("good")])
    assert sum(server.requests.values()) == 0 and _leftovers(tmp_path) == []


def _serve_mnist_like(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> np.ndarray:
    """Put a 5-image MNIST-format train split on the server and point MNIST's mirrors and checksums at it."""
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "i.gz", images)
    write_idx(tmp_path / "l.gz", np.arange(5, dtype=np.uint8))
    server.files["train-images-idx3-ubyte.gz"] = (tmp_path / "i.gz").read_bytes()
    server.files["train-labels-idx1-ubyte.gz"] = (tmp_path / "l.gz").read_bytes()
    sums = {n: "md5:" + hashlib.md5(b).hexdigest() for n, b in server.files.items()}
    monkeypatch.setattr(MNIST, "mirrors", (server.mirror("404"), server.mirror("good")))
    monkeypatch.setattr(MNIST, "checksums", {**MNIST.checksums, **sums})
    return images


def test_mnist_downloads_into_the_cache_once(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             online: None) -> None:
    images = _serve_mnist_like(server, monkeypatch, tmp_path)
    for _ in range(2):
        data = load_dataset("mnist")
        assert data.images[:, 0].numpy().tolist() == images.tolist() and data.labels.tolist() == [0, 1, 2, 3, 4]
    assert server.requests["/good/train-images-idx3-ubyte.gz"] == 1
    cache = Path(os.environ["INFOGAN_DATA"]) / "mnist"
    assert _leftovers(cache) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_svhn_downloads_and_maps_label_10_to_0(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               online: None) -> None:
    x = np.random.default_rng(1).integers(0, 256, (32, 32, 3, 4), dtype=np.uint8)
    scipy.io.savemat(tmp_path / "t.mat", {"X": x, "y": np.array([[10], [1], [9], [10]], dtype=np.uint8)})
    body = (tmp_path / "t.mat").read_bytes()
    server.files["test_32x32.mat"] = body
    monkeypatch.setattr(svhn, "MIRRORS", (server.mirror("good"),))
    monkeypatch.setitem(svhn.FILES, "test", RemoteFile("test_32x32.mat", "sha256:" + hashlib.sha256(body).hexdigest()))
    data = load_dataset("svhn", split="test")
    assert data.shape == (3, 32, 32) and data.labels.tolist() == [0, 1, 9, 0]
    assert data.images[2].permute(1, 2, 0).numpy().tolist() == x[:, :, :, 2].tolist()
