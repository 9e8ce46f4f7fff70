"""Fetching files by URL into one local cache, so that a network or detector weights named by an
http(s) URL open like a local file and a second use never touches the network.

The cache folder is `$STYLEGAN2_CACHE` if set, else `$XDG_CACHE_HOME/stylegan2-explorer/downloads`,
else `~/.cache/stylegan2-explorer/downloads`; every function takes a `cache_dir` that overrides
it. A URL's file is named by a short hash of the URL and the file name the URL ends with
(`3f2a9c1b7d4e-ffhq.pkl`). A download goes to a temporary file beside it and is renamed only
when the whole body has arrived (as long as the server's Content-Length says): a failure, a full
disk or a cancel leaves nothing half-written behind. The SHA-256 of each completed file is kept
in `index.json` in the cache folder.

Only the standard library is used (urllib). What a download fetches is data: networks go
through the checkpoint loader's restricted unpickler like any local file.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from stylegan2.safe_writes import (
    STALE_TEMP_SECONDS,
    new_temp,
    remove_stale_temps,
    write_text_atomic,
)

log = logging.getLogger(__name__)

#: overrides the default cache folder
CACHE_ENV = "STYLEGAN2_CACHE"
INDEX_NAME = "index.json"
#: seconds to wait for a connection and for each read
DEFAULT_TIMEOUT = 30.0
#: a temporary file untouched for this long is left from a killed download
STALE_PART_S = STALE_TEMP_SECONDS
_CHUNK = 256 * 1024
#: the largest file fetched: published networks are under 400 MB; a server that sends forever
#: must not fill the disk
MAX_DOWNLOAD_BYTES = 4 << 30
#: a transfer that stays below this rate for STALL_S is stopped (each read's timeout alone lets
#: a server that sends a byte every few seconds hold it forever)
STALL_BYTES_PER_S = 1024
STALL_S = 60.0
_USER_AGENT = "stylegan2-explorer"

#: called with (bytes done, total bytes or None when the server does not say)
Progress = Callable[[int, int | None], None]
#: a callable returning True to stop, or a threading.Event that is set to stop
Cancel = Callable[[], bool] | threading.Event


class DownloadError(Exception):
    """A download that did not complete: one line naming the URL and the cache path where the
    file can be put by hand. Nothing is left half-written in the cache."""

    def __init__(self, message: str, url: str = "", path: Path | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.path = path


class DownloadCancelled(DownloadError):
    """The caller's cancel callable or event asked the download to stop."""


def is_url(text: str | os.PathLike[str]) -> bool:
    """True for an http:// or https:// URL (the only schemes fetched)."""
    return isinstance(text, str) and re.match(r"(?i)https?://", text) is not None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched although it starts like one (an unclosed IPv6 bracket, a
    port that is no number), or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        return f"{display_url(url)} is not a valid URL ({exc})"
    if not parts.hostname:
        return f"{display_url(url)} is not a valid URL (no host)"
    return None


def display_url(url: str) -> str:
    """`url` as messages, logs and the download index show it: a password in it (`user:pw@`)
    becomes `***`."""
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:  # unparsable: mask whatever stands between "user:" and "@"
        return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)
    if password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


def default_cache_dir() -> Path:
    """`$STYLEGAN2_CACHE`, else `$XDG_CACHE_HOME/stylegan2-explorer/downloads`, else
    `~/.cache/stylegan2-explorer/downloads` (not created here)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "stylegan2-explorer" / "downloads"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def _path_tail(url: str) -> str:
    """The file name `url`'s path ends with, unquoted ("" when the path ends in a slash or is
    empty); never the host part, where a password may stand."""
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:  # not a valid URL: the name is only for the error that follows
        path = url.split("?", 1)[0].split("#", 1)[0].split("@")[-1]
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def url_label(url: str) -> str:
    """A URL as a progress bar or status line names it: the file name it ends with, else the
    whole URL with any password masked."""
    return _path_tail(url) or display_url(url)


def file_name_for(url: str) -> str:
    """The cache's name for `url`: 12 hex digits of the URL's SHA-256, a dash and the file name
    the URL's path ends with (characters outside [A-Za-z0-9._-] become '_')."""
    digest = hashlib.sha256(url.encode("utf-8", "replace")).hexdigest()[:12]
    tail = re.sub(r"[^A-Za-z0-9._-]", "_", _path_tail(url)).lstrip(".") or "download"
    return f"{digest}-{tail[:100]}"


def cache_path(url: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where `url`'s file lives in the cache, downloaded or not (also where to put it by hand)."""
    return resolve_cache_dir(cache_dir) / file_name_for(url)


def cached(url: str, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The cached file for `url`, or None when it has not been downloaded."""
    path = cache_path(url, cache_dir)
    return path if path.is_file() else None


def read_index(cache_dir: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """file name -> {"url", "sha256", "size", "downloaded"} for the files this cache fetched.
    An unreadable index reads as empty (it is a record, not something files depend on)."""
    path = resolve_cache_dir(cache_dir) / INDEX_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as exc:  # (nested too deep for json)
        log.warning("ignoring the unreadable download index %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def recorded_sha256(url: str, cache_dir: str | os.PathLike[str] | None = None) -> str | None:
    """The SHA-256 recorded when `url` was downloaded into this cache, or None."""
    entry = read_index(cache_dir).get(file_name_for(url))
    return entry.get("sha256") if isinstance(entry, dict) else None


def refetch_hint(path: str | os.PathLike[str]) -> str:
    """For a file that failed to load: when it is a download this project cached (the index
    beside it names it), "; it is the cached download of URL: if that was damaged, delete it to
    fetch it again",
    else "". A cached file is used without a request, so a damaged one fails every time."""
    try:
        p = Path(path).resolve()
        entry = read_index(p.parent).get(p.name) if (p.parent / INDEX_NAME).is_file() else None
    except (OSError, RuntimeError, ValueError):
        return ""
    if not isinstance(entry, dict) or not p.is_file():  # a deleted one is fetched anew anyway
        return ""
    url = entry.get("url", "a URL")
    return f"; it is the cached download of {url}: if that was damaged, delete it to fetch it again"


def sha256_of(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: set (to 1, true or yes) to turn every download off, e.g. on a machine without internet or
#: in a test suite that must never reach an outside address
OFFLINE_ENV = "STYLEGAN2_OFFLINE"


def offline_mode(offline: bool = False) -> bool:
    """True when downloads are off: asked for by the caller, or by $STYLEGAN2_OFFLINE."""
    return offline or os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def download(
    url: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """The local copy of `url`: the cached file when there is one (no network at all), else a
    fresh download into the cache. `offline` refuses to fetch. `progress(done, total)` is
    called after every chunk; `cancel` is checked between chunks. `timeout` bounds the
    connection and every read, in seconds.

    Raises DownloadError (DownloadCancelled for a cancel) with one line naming the URL and the
    path to put the file at by hand; ValueError for a URL that is not http(s).
    """
    if not is_url(url):
        raise ValueError(f"not an http(s) URL: {display_url(url)!r}")
    problem = url_problem(url)
    if problem:
        raise DownloadError(f"cannot download {problem}", url)
    folder = resolve_cache_dir(cache_dir)
    final = folder / file_name_for(url)
    if final.is_file():
        return final
    shown = display_url(url)
    by_hand = f"download it by hand to {final}"
    if offline_mode(offline):
        raise DownloadError(
            f"{shown} is not in the download cache and downloads are off; {by_hand}", url, final
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A part written to in the last STALE_PART_S may be a download still running (every
        # read is bounded by the timeout, so a live one is written to far more often).
        if remove_stale_temps(final, STALE_PART_S):
            log.info("removed temporary files of %s left by an interrupted download", final.name)
        tmp = new_temp(final)
    except OSError as exc:
        raise DownloadError(
            f"cannot download {shown}: cannot write to the cache folder {folder} "
            f"({exc.strerror or exc}); {by_hand} or choose another cache folder",
            url,
            final,
        ) from None
    try:
        digest, size = _fetch(url, tmp, progress, _cancel_check(cancel), timeout)
        try:
            tmp.replace(final)
        except OSError as exc:
            raise _Failure(_disk_reason(exc, folder)) from None
    except _Failure as exc:
        tmp.unlink(missing_ok=True)
        cls = DownloadCancelled if exc.cancelled else DownloadError
        raise cls(f"cannot download {shown}: {exc}; {by_hand}", url, final) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _record(folder, final.name, shown, digest, size)
    log.info("downloaded %s to %s (%d bytes)", shown, final, size)
    return final


class _Failure(Exception):
    """Why a fetch stopped, worded for the end of 'cannot download URL: ...'."""

    def __init__(self, reason: str, cancelled: bool = False) -> None:
        super().__init__(reason)
        self.cancelled = cancelled


def _cancel_check(cancel: Cancel | None) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return cancel.is_set  # type: ignore[union-attr]
    return cancel  # type: ignore[return-value]


_NOT_HTTP = "redirect to a non-http URL"


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only (never file:// or ftp://); urllib's own handler already
    stops loops and long chains with a 3xx HTTPError. Credentials typed in the URL follow a
    redirect within the same origin (scheme, host and port), as a browser's do, and no further."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth and _origin(req.full_url) == _origin(new.full_url):
            new.add_unredirected_header("Authorization", auth)
        return new

    def http_error_302(self, req, fp, code, msg, headers):
        target = headers.get("location") or headers.get("uri")
        if target and not is_url(urllib.parse.urljoin(req.full_url, target)):
            raise urllib.error.HTTPError(req.full_url, code, _NOT_HTTP, headers, fp)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.scheme.lower(), parts.hostname, parts.port or default


def _opener() -> urllib.request.OpenerDirector:
    # built per download: the proxy settings are read from the environment as it is now
    return urllib.request.build_opener(_HttpOnlyRedirects)


def _open_temp(path: Path) -> BinaryIO:
    """The temporary file's writer (a seam for tests that need a full disk)."""
    return open(path, "wb")


def _fetch(
    url: str, tmp: Path, progress: Progress | None, cancelled: Callable[[], bool], timeout: float
) -> tuple[str, int]:
    """Stream `url` into `tmp`; (sha256, size), or _Failure with a short reason."""
    if cancelled():
        raise _Failure("cancelled", cancelled=True)
    request = urllib.request.Request(_wire_url(url), headers={"User-Agent": _USER_AGENT})
    auth = _basic_auth(url)
    if auth is not None:
        # unredirected: a redirect to another origin must not carry them (see _HttpOnlyRedirects)
        request.add_unredirected_header("Authorization", auth)
    try:
        response = _opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.reason == _NOT_HTTP:
            reason = f"a redirect to a non-http URL (HTTP {exc.code}), never followed"
            raise _Failure(reason) from None
        if 300 <= exc.code < 400:
            reason = (
                f"a redirect loop, too many redirects or one without a target (HTTP {exc.code})"
            )
            raise _Failure(reason) from None
        raise _Failure(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        raise _Failure(_network_reason(exc, timeout)) from None
    with response:
        total = _content_length(response)
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise _Failure(f"the server announces {total:,} bytes, above the {_MAX_TEXT} limit")
        kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "text/html":
            raise _Failure("the server answered with a web page (text/html), not the file")
        digest = hashlib.sha256()
        done = 0
        stall = _StallWatch()
        if progress is not None:
            progress(0, total)
        try:
            with _open_temp(tmp) as out:
                while True:
                    if cancelled():
                        raise _Failure("cancelled", cancelled=True)
                    chunk = response.read1(_CHUNK)
                    if not chunk:
                        break
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise _Failure(_disk_reason(exc, tmp.parent)) from None
                    digest.update(chunk)
                    if done == 0 and _looks_like_html(chunk):
                        raise _Failure("the server answered with a web page, not the file")
                    done += len(chunk)
                    if done > MAX_DOWNLOAD_BYTES:
                        raise _Failure(f"the body passed the {_MAX_TEXT} limit")
                    if stall.stalled(done):
                        raise _Failure(
                            f"the transfer stalled (under {STALL_BYTES_PER_S} bytes/s "
                            f"for {STALL_S:g} s)"
                        )
                    if progress is not None:
                        progress(done, total)
        except http.client.IncompleteRead as exc:
            got = done + len(exc.partial)
            raise _Failure(_short_reason(got, total)) from None
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _Failure(_disk_reason(exc, tmp.parent)) from None
            raise _Failure(_network_reason(exc, timeout)) from None
    if total is not None and done != total:
        raise _Failure(_short_reason(done, total))
    if done == 0:
        raise _Failure("the server sent an empty file")
    return digest.hexdigest(), done


_MAX_TEXT = f"{MAX_DOWNLOAD_BYTES >> 30} GiB"


def _looks_like_html(head: bytes) -> bool:
    """A sign-in or error page served with 200 and a binary content type (file hosts do)."""
    start = head[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


class _StallWatch:
    """Whether the last STALL_S seconds brought fewer than STALL_BYTES_PER_S bytes a second."""

    def __init__(self) -> None:
        self.mark_time, self.mark_done = time.monotonic(), 0

    def stalled(self, done: int) -> bool:
        now = time.monotonic()
        if now - self.mark_time < STALL_S:
            return False
        slow = done - self.mark_done < STALL_BYTES_PER_S * (now - self.mark_time)
        self.mark_time, self.mark_done = now, done
        return slow


def _wire_url(url: str) -> str:
    """`url` as it goes over the wire: a non-ASCII path or query percent-encoded (UTF-8), a
    non-ASCII host in IDNA, as a browser sends them, and no `user:password@` (sent as a header:
    urllib would look it up as part of the host name). The URL as typed names the cache file."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if not netloc.isascii():
        host = (parts.hostname or "").encode("idna").decode("ascii")
        netloc = host if parts.port is None else f"{host}:{parts.port}"
    keep = "/%:@!$&'()*+,;=~"
    path = urllib.parse.quote(parts.path, safe=keep)
    query = urllib.parse.quote(parts.query, safe=keep + "?")
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, ""))


def _basic_auth(url: str) -> str | None:
    """The Basic Authorization header for a `user:password@` in `url` (percent-decoded, UTF-8),
    or None when it names no user."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return None
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _content_length(response: Any) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        n = int(value) if value is not None else None
    except ValueError:
        return None
    return n if n is not None and n >= 0 else None


def _short_reason(got: int, total: int | None) -> str:
    if total is None:
        return f"the connection closed early after {got} bytes"
    return f"the body ended after {got} of the {total} bytes the server announced"


def _disk_reason(exc: OSError, folder: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk holding {folder} is full"
    return f"cannot write to {folder} ({exc.strerror or exc})"


def _network_reason(exc: BaseException, timeout: float) -> str:
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return "the host name could not be looked up (offline?)"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused (offline, or nothing serves that address)"
    if isinstance(reason, ConnectionError):
        return f"the connection failed ({type(reason).__name__})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, http.client.HTTPException):
        # e.g. BadStatusLine carries the raw line, line breaks included
        said = " ".join(str(reason).split())[:80]
        detail = f": {said!r}" if said else ""
        return f"the server's answer is not valid HTTP ({type(reason).__name__}{detail})"
    return " ".join(str(reason).split()) or type(reason).__name__


def _record(folder: Path, name: str, url: str, sha256: str, size: int) -> None:
    """Add a completed file to the index. Losing the record (a read-only folder, a race with
    another download) costs only the SHA-256 shown by `stylegan2 models --weights`."""
    index = read_index(folder)
    index[name] = {
        "url": url,
        "sha256": sha256,
        "size": size,
        "downloaded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        write_text_atomic(folder / INDEX_NAME, json.dumps(index, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        log.warning("could not record %s in the download index: %s", name, exc)
