"""Loopback stand-ins for the platforms' APIs, serving the recorded responses in bench/platforms/.

Each fake holds the posts of its recorded response and answers requests the way the platform documents:
it pages them (two per page, as a platform may return fewer than asked), honours the parameters a spider
sends for incremental runs (since_id, since/until, numericFilters, after, pageToken), and builds the
response in the recorded file's shape. `server.script` lets a test make the next answers a 429 or a
broken body; `server.requests` records every request, so tests can assert what was asked.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

FIXTURES = Path(__file__).resolve().parent / "platforms"
PAGE = 2  # posts per page served by every fake


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakeServer:
    handler: Callable[[Seen, str], Answer]
    requests: list[Seen] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)  # answers given before the handler's, in order
    url: str = ""

    def api_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path != "/robots.txt"]


def serve(handler: Callable[[Seen, str], Answer]) -> tuple[FakeServer, Callable[[], None]]:
    fake = FakeServer(handler)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(
                method=self.command,
                path=parts.path,
                params={key: values[0] for key, values in parse_qs(parts.query).items()},
                headers={key.lower(): value for key, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            fake.requests.append(seen)
            if parts.path == "/robots.txt":
                status, headers, body = 404, {}, b""
            elif fake.script:
                status, headers, body = fake.script.pop(0)
            else:
                status, headers, body = fake.handler(seen, fake.url)
            self.send_response(status)
            headers = {"Content-Type": "application/json; charset=utf-8", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return fake, stop


def ok(data: Any, headers: dict[str, str] | None = None) -> Answer:
    return 200, headers or {}, json.dumps(data).encode()


def unauthorized() -> Answer:
    return 401, {}, b'{"error": "unauthorized"}'


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def later(number: int) -> datetime:
    """The publication time of the `number`th added post: after every recorded one, one minute apart."""
    return datetime(2025, 3, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=number)


def _z(number: int) -> str:
    return later(number).isoformat().replace("+00:00", "Z")


# --- one fake per platform: `posts` is the recorded list, newest first; tests may insert newer ones ----------


class Platform:
    """A platform's posts and how its API pages them."""

    posts: list[Any]
    page_size = PAGE

    def handle(self, seen: Seen, base: str) -> Answer:
        raise NotImplementedError

    def add_newer(self, number: int = 1) -> None:
        """Publish a post newer than all others: a copy of the newest with a new id (from `number`) and a later
        time (`later(number)`); calling it with 1, 2, 3… grows the platform newest-first."""
        raise NotImplementedError


class Rss(Platform):
    def __init__(self) -> None:
        self.feed = fixture("rss_feed.xml")
        self.extra: list[str] = []

    def handle(self, seen: Seen, base: str) -> Answer:
        if seen.path != "/matkailu/feed":
            return 404, {}, b""
        etag = f'"feed-v{len(self.extra)}"'
        if seen.headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        body = self.feed.replace(b"<item>", "".join(self.extra).encode() + b"<item>", 1)
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag}, body

    def add_newer(self, number: int = 1) -> None:
        self.extra.insert(
            0,
            f"<item><title>Revontuli Hotels laskee hintoja {number}</title>"
            f"<link>https://uutiset.example/matkailu/hinnat-{number}</link>"
            f"<pubDate>{format_datetime(later(number))}</pubDate><description>Revontuli Hotels laskee hintoja."
            "</description></item>",
        )


class Mastodon(Platform):
    token = "mastodon-token"

    def __init__(self) -> None:
        self.posts = fixture_json("mastodon_tag_timeline.json")

    def handle(self, seen: Seen, base: str) -> Answer:
        p = seen.params
        statuses = [s for s in self.posts if "since_id" not in p or int(s["id"]) > int(p["since_id"])]
        statuses = [s for s in statuses if "max_id" not in p or int(s["id"]) < int(p["max_id"])]
        page = statuses[: self.page_size]
        if seen.path == "/api/v2/search":
            if seen.headers.get("authorization") != f"Bearer {self.token}":
                return unauthorized()
            return ok({"accounts": [], "statuses": page, "hashtags": []})
        if not seen.path.startswith("/api/v1/timelines/tag/"):
            return 404, {}, b""
        headers = {}
        if page:  # as Mastodon does: a next link whenever the page is not empty, without since_id
            older = urlencode({"limit": p.get("limit", 20), "max_id": page[-1]["id"]})
            newer = urlencode({"min_id": page[0]["id"]})
            headers["Link"] = f'<{base}{seen.path}?{older}>; rel="next", <{base}{seen.path}?{newer}>; rel="prev"'

        return ok(page, headers)

    def add_newer(self, number: int = 1) -> None:
        status = copy.deepcopy(self.posts[0])
        status["id"] = str(113456789012345680 + 100 * number)
        status["uri"] = status["uri"].rsplit("/", 1)[0] + "/" + status["id"]
        status["url"] = status["url"].rsplit("/", 1)[0] + "/" + status["id"]
        status["created_at"] = _z(number)
        self.posts.insert(0, status)


class Bluesky(Platform):
    token = "bsky-access-jwt"
    cursor_dies_after = 1  # pages served with a cursor per query before it "runs out" (10k in real life)

    def __init__(self) -> None:
        self.posts = fixture_json("bluesky_search_posts.json")["posts"]

    def handle(self, seen: Seen, base: str) -> Answer:
        if seen.path == "/xrpc/com.atproto.server.createSession":
            login = json.loads(seen.body or b"{}")
            if login != {"identifier": "kaiku.bsky.social", "password": "app-pass-word"}:
                return 401, {}, b'{"error": "AuthenticationRequired", "message": "Invalid identifier or password"}'
            did = "did:plc:kaikukaikukaikukaikukaiku"
            return ok(
                {"did": did, "handle": login["identifier"], "accessJwt": self.token, "refreshJwt": "r", "active": True}
            )
        if seen.path != "/xrpc/app.bsky.feed.searchPosts":
            return 404, {}, b""
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, b'{"error": "AuthMissing", "message": "Authentication Required"}'
        p = seen.params
        posts = [
            post
            for post in self.posts
            if ("since" not in p or _time(post["record"]["createdAt"]) >= _time(p["since"]))
            and ("until" not in p or _time(post["record"]["createdAt"]) < _time(p["until"]))
        ]
        offset = int(p.get("cursor", 0))
        page = posts[offset : offset + self.page_size]
        more = offset + self.page_size < len(posts) and offset // self.page_size + 1 <= self.cursor_dies_after
        body: dict[str, Any] = {"hitsTotal": len(posts), "posts": page}
        if more:
            body["cursor"] = str(offset + self.page_size)
        return ok(body)

    def add_newer(self, number: int = 1) -> None:
        post = copy.deepcopy(self.posts[0])
        post["uri"] = post["uri"].rsplit("/", 1)[0] + f"/3ljbnew{number:06d}"
        post["record"]["createdAt"] = _z(number)
        self.posts.insert(0, post)


class Reddit(Platform):
    token = "reddit-app-token"

    def __init__(self, oauth: bool = False) -> None:
        self.listing = fixture_json("reddit_search.json")
        self.posts = self.listing["data"]["children"]
        self.oauth = oauth

    def handle(self, seen: Seen, base: str) -> Answer:
        if seen.path == "/api/v1/access_token":
            if seen.method != "POST" or b"grant_type=client_credentials" not in seen.body:
                return 400, {}, b'{"error": "unsupported_grant_type"}'
            if not seen.headers.get("authorization", "").startswith("Basic "):
                return 401, {}, b'{"message": "Unauthorized", "error": 401}'
            return ok({"access_token": self.token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})
        if not seen.path.endswith("/search.json"):
            return 404, {}, b""
        if self.oauth and seen.headers.get("authorization") != f"Bearer {self.token}":
            return unauthorized()
        names = [child["data"]["name"] for child in self.posts]
        start = names.index(seen.params["after"]) + 1 if "after" in seen.params else 0
        page = self.posts[start : start + self.page_size]
        listing = copy.deepcopy(self.listing)
        listing["data"]["children"] = page
        listing["data"]["dist"] = len(page)
        listing["data"]["after"] = page[-1]["data"]["name"] if start + self.page_size < len(self.posts) else None
        return ok(listing)

    def add_newer(self, number: int = 1) -> None:
        child = copy.deepcopy(self.posts[0])
        child["data"].update(name=f"t3_new{number}", id=f"new{number}", created_utc=later(number).timestamp())
        child["data"]["permalink"] = f"/r/Finland/comments/new{number}/revontuli_again/"
        self.posts.insert(0, child)


class HackerNews(Platform):
    def __init__(self) -> None:
        self.response = fixture_json("hackernews_search_by_date.json")
        self.posts = self.response["hits"]

    def handle(self, seen: Seen, base: str) -> Answer:
        if seen.path != "/api/v1/search_by_date":
            return 404, {}, b""
        hits = self.posts
        numeric = seen.params.get("numericFilters", "")
        if numeric.startswith("created_at_i>"):
            hits = [hit for hit in hits if hit["created_at_i"] > int(numeric.split(">", 1)[1])]
        number = int(seen.params.get("page", 0))
        pages = (len(hits) + self.page_size - 1) // self.page_size
        body = {
            **self.response,
            "hits": hits[number * self.page_size : (number + 1) * self.page_size],
            "page": number,
            "nbPages": pages,
            "nbHits": len(hits),
            "hitsPerPage": self.page_size,
        }
        return ok(body)

    def add_newer(self, number: int = 1) -> None:
        hit = copy.deepcopy(next(h for h in self.posts if h.get("story_text")))
        hit.update(objectID=str(43300000 + number), created_at=_z(number), created_at_i=int(later(number).timestamp()))
        self.posts.insert(0, hit)


class AppStore(Platform):
    def __init__(self) -> None:
        self.response = fixture_json("appstore_customerreviews.json")
        self.posts = self.response["feed"]["entry"]

    def handle(self, seen: Seen, base: str) -> Answer:
        parts = seen.path.split("/")  # /fi/rss/customerreviews/page=N/id=APP/sortby=mostrecent/json
        if len(parts) != 8 or parts[3] != "customerreviews" or not parts[4].startswith("page="):
            return 404, {}, b""
        number = int(parts[4].split("=", 1)[1])
        body = copy.deepcopy(self.response)
        entries = self.posts[(number - 1) * self.page_size : number * self.page_size]
        if entries:
            body["feed"]["entry"] = entries if len(entries) > 1 else entries[0]  # one entry: an object, as Apple does
        else:
            del body["feed"]["entry"]
        return ok(body)

    def add_newer(self, number: int = 1) -> None:
        entry = copy.deepcopy(next(e for e in self.posts if "updated" in e))
        entry["id"]["label"] = str(12089000000 + number)
        entry["updated"]["label"] = later(number).isoformat()
        self.posts.insert(0, entry)


class YouTube(Platform):
    key = "yt-api-key"

    def __init__(self) -> None:
        self.response = fixture_json("youtube_comment_threads.json")
        self.posts = self.response["items"]

    def handle(self, seen: Seen, base: str) -> Answer:
        if seen.path != "/youtube/v3/commentThreads":
            return 404, {}, b""
        if seen.headers.get("x-goog-api-key") != self.key:
            error = {"code": 403, "message": "missing a valid API key", "errors": [{"reason": "forbidden"}]}
            return 403, {}, json.dumps({"error": error}).encode()
        if ("videoId" in seen.params) == ("allThreadsRelatedToChannelId" in seen.params):
            error = {
                "code": 400,
                "message": "Incompatible parameters",
                "errors": [{"reason": "incompatibleParameters"}],
            }
            return 400, {}, json.dumps({"error": error}).encode()
        start = int(seen.params.get("pageToken", "tok0")[3:])
        page = self.posts[start : start + self.page_size]
        body = {
            **self.response,
            "items": page,
            "pageInfo": {"totalResults": len(self.posts), "resultsPerPage": self.page_size},
        }
        body.pop("nextPageToken")
        if start + self.page_size < len(self.posts):
            body["nextPageToken"] = f"tok{start + self.page_size}"
        return ok(body)

    def add_newer(self, number: int = 1) -> None:
        thread = copy.deepcopy(next(t for t in self.posts if t["snippet"].get("videoId")))
        thread["id"] = thread["snippet"]["topLevelComment"]["id"] = f"UgzNewer{number:011d}AaABAg"
        thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = _z(number)
        self.posts.insert(0, thread)
