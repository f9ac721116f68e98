"""One Twisted reactor per process, running in a background thread, so crawls can be started again and again.

Why not `CrawlerProcess`: it runs the reactor in the calling thread and a Twisted reactor cannot be
restarted, so a process could crawl only once (a scheduler crawls every few hours, and the tests crawl
several times). Why not a child process: the classifier (a loaded torch model) and the writer (an open
client) are passed in as objects; copying them into a child would mean pickling or reloading them.

So the reactor is started once, on first use, in a daemon thread (`installSignalHandlers=False`: only the
main thread may own signals), and callers hand work to it with `call_in_reactor`, which blocks until
the Deferred fires. This is the pattern crochet uses; the code here is small enough not to need it.

`twisted.internet.reactor` is imported inside the functions that use it, never at module level: importing it
installs Twisted's default reactor, and the asyncio reactor must be installed first, in the reactor thread.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed
from twisted.internet.defer import maybeDeferred
from twisted.python import log

from crawler.errors import CrawlerError
from crawler.url_guard import install_guarded_resolver

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
_START_TIMEOUT_S = 30.0

_lock = threading.Lock()
_thread: threading.Thread | None = None


def reactor_setting() -> str | None:
    """The TWISTED_REACTOR setting that matches the reactor this process runs (Scrapy verifies it)."""
    if is_reactor_installed() and not is_asyncio_reactor_installed():
        return None  # someone installed another reactor before us: use it as it is
    return ASYNCIO_REACTOR


def ensure_reactor() -> None:
    """Start the reactor thread unless it runs already."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        if is_reactor_installed():
            from twisted.internet import reactor  # late: importing it installs a reactor

            if reactor.running:
                raise CrawlerError(
                    "a Twisted reactor is already running in this process outside Kaiku's crawler thread; "
                    "run the crawl from a plain Python process"
                )
            if getattr(reactor, "_startedBefore", False):
                raise CrawlerError("the Twisted reactor of this process has already been stopped; it cannot restart")
        started = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(target=_run_reactor, args=(started, failure), name="kaiku-reactor", daemon=True)
        thread.start()
        if not started.wait(_START_TIMEOUT_S) or failure:
            raise CrawlerError(f"the crawler's reactor did not start: {failure[0] if failure else 'timeout'}")
        _thread = thread
        atexit.register(_stop_reactor)


def _run_reactor(started: threading.Event, failure: list[BaseException]) -> None:
    try:
        if not is_reactor_installed():
            # Installed here, not in the caller's thread, so the asyncio loop belongs to this thread.
            install_reactor(ASYNCIO_REACTOR)
        from twisted.internet import reactor  # late: importing it installs a reactor

        # Twisted's own errors (unhandled Deferred failures) would otherwise sit in a memory buffer.
        log.PythonLoggingObserver(loggerName="twisted").start()

        install_guarded_resolver(reactor)  # connections to internal addresses refused at resolution time
        reactor.callWhenRunning(started.set)
    except BaseException as exc:  # noqa: BLE001 - reported to the caller waiting on `started`
        failure.append(exc)
        started.set()
        return
    reactor.run(installSignalHandlers=False)  # type: ignore[misc,call-arg]  # Twisted's interface typing lags


def _stop_reactor() -> None:
    from twisted.internet import reactor  # late: importing it installs a reactor

    if reactor.running:
        reactor.callFromThread(reactor.stop)  # type: ignore[misc]
        if _thread is not None:
            _thread.join(timeout=5)


def call_in_reactor(function: Callable[[], Any], on_interrupt: Callable[[], Any] | None = None) -> Any:
    """Run `function` in the reactor thread and wait for its result (a Deferred is waited for too).

    The first Ctrl-C (KeyboardInterrupt in the waiting thread) calls `on_interrupt` in the reactor thread,
    e.g. a graceful crawler stop, waits for the work to end and then re-raises; a second one leaves at once.
    """
    if threading.current_thread() is _thread:
        raise CrawlerError("call_in_reactor() called from the reactor thread itself; that would deadlock")
    ensure_reactor()
    from twisted.internet import reactor  # late: importing it installs a reactor

    done = threading.Event()
    outcome: dict[str, Any] = {}

    def succeeded(result: Any) -> None:
        outcome["result"] = result
        done.set()

    def failed(failure: Any) -> None:
        outcome["error"] = failure.value
        done.set()

    def start() -> None:
        maybeDeferred(function).addCallbacks(succeeded, failed)

    reactor.callFromThread(start)
    try:
        done.wait()
    except KeyboardInterrupt:
        if on_interrupt is not None:
            reactor.callFromThread(on_interrupt)
        done.wait()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
