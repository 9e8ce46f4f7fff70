"""Downloads into the cache, against a local server only: a second use makes no request, and every
failure (offline, 404, a redirect loop, a cut-off body, a wrong length, a stall, a full disk, a
cancel) is one line naming the URL and the cache path, with nothing half-written left behind."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from stylegan2 import downloads
from stylegan2.downloads import (
    DownloadCancelled,
    DownloadError,
    cache_path,
    cached,
    default_cache_dir,
    download,
    file_name_for,
    read_index,
    recorded_sha256,
)
from tests.http_fixture import cache_files

# These tests serve files from 127.0.0.1, so downloads are on (the suite turns them off).
pytestmark = pytest.mark.usefixtures("downloads_on")

BODY = bytes(range(256)) * 400  # 100 KiB: several chunks, quick to serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_then_cache_hit_makes_no_request(http_server, cache):
    url = http_server.add("net.pkl", BODY)
    seen = []
    path = download(url, progress=lambda done, total: seen.append((done, total)))
    assert path == cache_path(url) and path.parent == cache
    assert path.name == file_name_for(url) and path.name.endswith("-net.pkl")
    assert path.read_bytes() == BODY
    assert seen[0] == (0, len(BODY)) and seen[-1] == (len(BODY), len(BODY))
    assert http_server.total_requests == 1

    assert download(url) == path
    assert cached(url) == path
    assert download(url, offline=True) == path
    assert http_server.total_requests == 1  # the second and third use never touched the network
    assert cache_files(cache) == [path.name]

    entry = read_index()[path.name]
    assert entry["url"] == url and entry["size"] == len(BODY)
    assert entry["sha256"] == hashlib.sha256(BODY).hexdigest() == recorded_sha256(url)


def test_a_body_without_content_length_downloads(http_server, cache):
    http_server.add("net.pkl", BODY)
    url = http_server.url("chunked/net.pkl")
    seen = []
    path = download(url, progress=lambda done, total: seen.append(total))
    assert path.read_bytes() == BODY
    assert set(seen) == {None}


def _one_line_failure(url: str, folder: Path, **kwargs) -> str:
    with pytest.raises(DownloadError) as info:
        download(url, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert url in msg, msg
    assert str(folder / file_name_for(url)) in msg, msg  # where to put the file by hand
    assert info.value.url == url and info.value.path == folder / file_name_for(url)
    assert cache_files(folder) == [], "something was left in the cache"
    assert read_index() == {}
    return msg


@pytest.mark.parametrize(
    "path, needle",
    [
        ("missing", "HTTP 404"),
        ("loop", "a redirect loop"),
        ("truncated/net.pkl", f"ended after {len(BODY) // 2} of the {len(BODY)} bytes"),
        ("wrong-length/net.pkl", f"ended after {len(BODY)} of the {len(BODY) + 1000} bytes"),
        ("to-file", "a redirect to a non-http URL (HTTP 302), never followed"),
        ("files/absent.pkl", "HTTP 404"),
        ("html/net.pkl", "a web page (text/html), not the file"),
        ("page/net.pkl", "a web page, not the file"),
        ("empty", "an empty file"),
    ],
)
def test_a_misbehaving_server_leaves_the_cache_clean(http_server, cache, path, needle):
    http_server.add("net.pkl", BODY)
    msg = _one_line_failure(http_server.url(path), cache, timeout=5)
    assert needle in msg


def test_a_trickle_and_an_endless_body_are_stopped(http_server, cache, monkeypatch):
    import stylegan2.downloads as downloads

    http_server.add("net.pkl", BODY)
    monkeypatch.setattr(downloads, "STALL_S", 0.05)
    monkeypatch.setattr(downloads, "STALL_BYTES_PER_S", 10**9)
    assert "the transfer stalled" in _one_line_failure(http_server.url("slow/net.pkl"), cache)
    monkeypatch.setattr(downloads, "STALL_S", 60.0)
    monkeypatch.setattr(downloads, "MAX_DOWNLOAD_BYTES", len(BODY) - 1)
    assert "above the" in _one_line_failure(http_server.url("files/net.pkl"), cache)
    assert "passed the" in _one_line_failure(http_server.url("chunked/net.pkl"), cache)


def test_a_non_ascii_path_is_sent_percent_encoded(http_server, cache):
    http_server.add("%C3%BCnicode.pkl", BODY)  # the server sees the encoded name
    path = download(http_server.url("files/ünicode.pkl"))
    assert path.read_bytes() == BODY and path.name.endswith("-_nicode.pkl")


def test_a_server_that_does_not_speak_http_is_one_line(http_server, cache):
    msg = _one_line_failure(http_server.url("garbage"), cache, timeout=5)
    assert "not valid HTTP (BadStatusLine: 'GARBAGE LINE')" in msg


def test_credentials_in_the_url_are_sent_once_and_never_shown(http_server, cache):
    http_server.add("net.pkl", BODY)
    host = f"127.0.0.1:{http_server.port}"
    url = f"http://alice:p%C3%A4%20ss%3Aword@{host}/private/net.pkl"
    assert download(url).read_bytes() == BODY
    entry = read_index()[file_name_for(url)]
    assert entry["url"] == f"http://alice:***@{host}/private/net.pkl"  # no password on disk
    assert "word" not in (cache / "index.json").read_text()

    with pytest.raises(DownloadError) as info:
        download(f"http://alice:wrong@{host}/private/net.pkl")
    assert "HTTP 401" in str(info.value)
    assert "wrong" not in str(info.value) and f"alice:***@{host}" in str(info.value)

    # Nothing that names the URL shows the password, a URL urllib cannot parse included.
    from explorer.fetcher import download_label
    from stylegan2.downloads import display_url

    assert "secret" not in download_label(f"http://alice:secret@{host}/x.pkl")
    assert display_url("http://u:secret@[::1/x.pkl") == "http://u:***@[::1/x.pkl"
    with pytest.raises(DownloadError) as info:
        download("http://u:secret@[::1/x.pkl")
    assert "secret" not in str(info.value)

    # Credentials follow a redirect within their origin, and no further.
    private = "p%C3%A4%20ss%3Aword"
    download(f"http://alice:{private}@{host}/moved/net.pkl")
    assert (
        http_server.authorization["/moved/net.pkl"] == http_server.authorization["/files/net.pkl"]
    )
    assert http_server.authorization["/files/net.pkl"] is not None
    download(f"http://alice:{private}@{host}/away/net.pkl")  # to localhost: another origin
    assert http_server.authorization["/away/net.pkl"] is not None
    assert http_server.authorization["/files/net.pkl"] is None


def test_a_malformed_url_is_one_line(cache):
    for url in ("http://[::1/x.pkl", "http://127.0.0.1:port/x.pkl", "http:///x.pkl"):
        with pytest.raises(DownloadError, match="is not a valid URL"):
            download(url)
        assert "\n" not in str(file_name_for(url))


def test_a_stalled_body_times_out(http_server, cache):
    http_server.add("net.pkl", BODY)
    msg = _one_line_failure(http_server.url("stall/net.pkl"), cache, timeout=0.3)
    assert "no answer within 0.3 s" in msg


def test_offline_connection_refused(cache):
    url = f"http://127.0.0.1:{_free_port()}/net.pkl"
    assert "connection was refused" in _one_line_failure(url, cache, timeout=5)


def test_offline_host_not_found(cache, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    url = "https://stylegan2-test.invalid/ffhq.pkl"  # a reserved name that never resolves
    assert "could not be looked up" in _one_line_failure(url, cache, timeout=5)


def test_offline_flag_refuses_to_fetch(http_server, cache):
    url = http_server.add("net.pkl", BODY)
    msg = _one_line_failure(url, cache, offline=True)
    assert "downloads are off" in msg
    assert http_server.total_requests == 0


class _FullDisk(io.BytesIO):
    def __init__(self, real):
        super().__init__()
        self.real = real
        self.written = 0

    def write(self, data) -> int:
        self.written += len(data)
        if self.written > 50_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.real.write(data)

    def close(self) -> None:
        self.real.close()
        super().close()


def test_a_full_disk_leaves_the_cache_clean(http_server, cache, monkeypatch):
    url = http_server.add("net.pkl", BODY)
    real_open = downloads._open_temp
    monkeypatch.setattr(downloads, "_open_temp", lambda p: _FullDisk(real_open(p)))
    assert "is full" in _one_line_failure(url, cache, timeout=5)


def test_cancel_between_chunks_removes_the_partial_file(http_server, cache):
    http_server.add("net.pkl", BODY)
    url = http_server.url("slow/net.pkl")
    stop = threading.Event()
    partial = []

    def progress(done, total):
        if done:
            partial.extend(p.name for p in cache.iterdir())  # the temp file exists meanwhile
            stop.set()

    with pytest.raises(DownloadCancelled) as info:
        download(url, progress=progress, cancel=stop, timeout=5)
    assert "cancelled" in str(info.value) and "\n" not in str(info.value)
    assert partial and all(name.startswith(".") and ".part" in name for name in partial)
    assert cache_files(cache) == []


def test_cancel_before_start_makes_no_request(http_server, cache):
    url = http_server.add("net.pkl", BODY)
    with pytest.raises(DownloadCancelled):
        download(url, cancel=lambda: True)
    assert http_server.total_requests == 0
    assert cache_files(cache) == []


def test_an_unusable_cache_folder_is_one_line(http_server, tmp_path):
    url = http_server.add("net.pkl", BODY)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "cache"  # cannot be created, even by root
    with pytest.raises(DownloadError) as info:
        download(url, cache_dir=folder)
    assert "cannot write to the cache folder" in str(info.value)
    assert str(folder / file_name_for(url)) in str(info.value)
    assert http_server.total_requests == 0


def test_an_unreadable_index_is_rebuilt(http_server, cache):
    cache.mkdir()
    (cache / "index.json").write_text("{ not json")
    url = http_server.add("net.pkl", BODY)
    download(url)
    assert json.loads((cache / "index.json").read_text())[file_name_for(url)]["size"] == len(BODY)


def test_parts_left_by_a_killed_download_are_removed(http_server, cache):
    url = http_server.add("net.pkl", BODY)
    final = cache_path(url)
    cache.mkdir()
    stale, live = (cache / f".{final.name}.{tag}.part" for tag in ("0000dead", "0000beef"))
    stale.write_bytes(b"half")
    live.write_bytes(b"growing")
    old = time.time() - downloads.STALE_PART_S - 60
    os.utime(stale, (old, old))
    download(url)
    assert not stale.exists() and live.exists()  # another process may still be writing it


def test_cache_folder_choice(monkeypatch, tmp_path):
    monkeypatch.delenv("STYLEGAN2_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home/.cache/stylegan2-explorer/downloads"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg/stylegan2-explorer/downloads"
    monkeypatch.setenv("STYLEGAN2_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    url = "https://example.org/a/b/ffhq.pkl"
    assert cache_path(url, tmp_path / "flag") == tmp_path / "flag" / file_name_for(url)


def test_file_names_are_safe_and_distinct():
    a = file_name_for("https://example.org/x/ffhq.pkl")
    b = file_name_for("https://example.org/y/ffhq.pkl")
    assert a != b and a.endswith("-ffhq.pkl") and b.endswith("-ffhq.pkl")
    assert len(a.split("-", 1)[0]) == 12
    odd = file_name_for("https://example.org/..%2F..%2Fetc%2Fpasswd")
    assert "/" not in odd and not odd.startswith(".")
    assert file_name_for("https://example.org/").endswith("-download")


def test_a_url_is_named_by_its_file_and_never_by_its_password():
    from explorer.fetcher import display_name
    from stylegan2.downloads import url_label

    assert url_label("https://h.org/x/net%20a.pkl?token=t") == "net a.pkl"
    for url in ("https://me:s3cret@h.org", "https://me:s3cret@h.org/", "http://me:s3cret@[bad/"):
        for name in (url_label(url), display_name(url), file_name_for(url)):
            assert "s3cret" not in name, (url, name)
    assert url_label("https://me:s3cret@h.org/") == "https://me:***@h.org/"
    assert url_label("http://me:s3cret@[bad/x.pkl") == "x.pkl"


def test_only_http_urls_are_fetched(cache):
    with pytest.raises(ValueError):
        download("file:///etc/hostname")


def test_a_damaged_cached_download_says_how_to_fetch_it_again(http_server, cache, tmp_path):
    from stylegan2.checkpoints import CheckpointError, load_checkpoint
    from stylegan2.weight_files import read_weight_file

    url = http_server.add("net.pkl", b"not a pickle at all" * 10)
    path = download(url)
    hint = f"it is the cached download of {url}: if that was damaged, delete it to fetch it again"
    with pytest.raises(CheckpointError, match="delete it to fetch it again") as info:
        load_checkpoint(path)
    assert hint in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ValueError) as info:
        read_weight_file(path, "VGG16 weights")
    assert hint in str(info.value)

    # the same bytes outside the cache are only a bad file
    other = tmp_path / "net.pkl"
    other.write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(other)
    assert "cached download" not in str(info.value)
