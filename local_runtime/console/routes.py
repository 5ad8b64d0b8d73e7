"""The console's Starlette routes under ``/console``: server-rendered Jinja2 pages and plain HTML
forms (each change is a POST answered by a redirect), no JavaScript required.

``GET /console`` callers (``?q=``, ``?sort=last|name|calls``, ``?page=``); ``GET /console/events``
every event of every kind (``?q=``, ``?kind=``, ``?page=``); ``GET /console/callers/{caller}`` one
caller, the number in any common format (``?agent=`` their brief with one agent, ``?q=`` a search);
``GET .../calls/{conversation_id}.mp3``
a call's audio; ``POST .../name``; ``GET .../memories/{memory_id}`` (edit, or confirm a delete),
``POST .../memories/{memory_id}/edit|delete``; ``GET|POST .../calls/{conversation_id}/remove`` and
``GET|POST .../forget`` (each GET asks for confirmation); ``GET .../export.zip``. Every page needs
the console key (``access``): a browser without an open session is sent to ``/console/login``,
anything else gets 401. ``POST /console/logout`` ends the session.
"""

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from agentic_memory.errors import MemoryUnavailable, UnsafeIdentifier
from agentic_memory.scope import AgentNotNamed
from agentic_memory.wiring import Dependencies
from services.error_answers import answer_for

from . import events, formatting, views
from .access import COOKIE, ConsoleAccess, SessionPolicy

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PREFIX = "/console"
# The largest form body read: a memory's text (at most 4,000 characters, up to 12 bytes each once
# URL-encoded) with room to spare. A larger body is refused with a 413, never cut.
MAX_FORM_BYTES = 64 * 1024


def console_routes(deps: Dependencies, key: str, sessions: SessionPolicy | None = None) -> list[BaseRoute]:
    """The console's routes over ``deps`` (the runtime's own, or a stack's), guarded by ``key``; signed-in
    sessions last as ``sessions`` says (8 hours, 30 idle minutes)."""
    return Console(deps, ConsoleAccess(key, sessions)).routes()


class Console:
    def __init__(self, deps: Dependencies, access: ConsoleAccess) -> None:
        self.deps = deps
        self.access = access
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.agent_names = views.AgentNames()
        filters = self.templates.env.filters
        filters["caller_url"] = caller_url
        filters["when"] = formatting.when
        filters["iso"] = formatting.iso
        filters["number"] = formatting.number
        filters["agent"] = self.agent_names.label
        self.templates.env.globals["event_kinds"] = (*events.KINDS, events.DEAD_LETTERED)

    def routes(self) -> list[BaseRoute]:
        def guarded(path: str, endpoint: Any, methods: list[str]) -> Route:
            return Route(PREFIX + path, _guarded(self.access, endpoint), methods=methods)

        pages = [
            guarded("", self.callers, ["GET"]),
            guarded("/events", self.events, ["GET"]),
            guarded("/callers/{caller}", self.caller, ["GET"]),
            guarded("/callers/{caller}/calls/{conversation_id}.mp3", self.audio, ["GET"]),
            guarded("/callers/{caller}/name", self.rename, ["POST"]),
            guarded("/callers/{caller}/memories/{memory_id}", self.memory, ["GET"]),
            guarded("/callers/{caller}/memories/{memory_id}/delete", self.delete, ["POST"]),
            guarded("/callers/{caller}/memories/{memory_id}/edit", self.edit, ["POST"]),
            guarded("/callers/{caller}/calls/{conversation_id}/remove", self.remove_call, ["GET", "POST"]),
            guarded("/callers/{caller}/export.zip", self.export, ["GET"]),
            guarded("/callers/{caller}/forget", self.forget, ["GET", "POST"]),
        ]
        return [
            Route(PREFIX + "/login", self.login, methods=["GET", "POST"]),
            Route(PREFIX + "/logout", self.logout, methods=["POST"]),
            Mount(PREFIX + "/static", StaticFiles(directory=str(HERE / "static")), name="console-static"),
            *pages,
        ]

    async def login(self, request: Request) -> Response:
        failed = False
        if request.method == "POST":
            form = await _form(request)
            if self.access.key_matches(form.get("key", "")):
                answer = RedirectResponse(PREFIX, status_code=303)
                answer.set_cookie(
                    COOKIE, self.access.open_session(), httponly=True, samesite="strict", path=PREFIX
                )
                return answer
            failed = True
        context = {"failed": failed, "ended": request.query_params.get("ended", "")}
        return self._page(request, "login.html", context, 401 if failed else 200)

    async def logout(self, request: Request) -> Response:
        """End the session here (the cookie's token no longer opens anything) and in the browser."""
        self.access.close_session(request.cookies.get(COOKIE, ""))
        answer = RedirectResponse(PREFIX + "/login?ended=signed-out", status_code=303)
        answer.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return answer

    async def callers(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        page = _int(request.query_params.get("page"), 1)
        sort = request.query_params.get("sort", "last")
        listing = await run_in_threadpool(views.caller_rows, self.deps, query, page, sort)
        await run_in_threadpool(self.agent_names.look_up, self.deps, listing.rows)
        notice = request.query_params.get("notice", "")
        context = {"listing": listing, "q": query, "notice": notice}
        return self._page(request, "callers.html", context)

    async def events(self, request: Request) -> Response:
        query, kind = request.query_params.get("q", ""), request.query_params.get("kind", "")
        page = _int(request.query_params.get("page"), 1)
        listing = await run_in_threadpool(views.event_rows, self.deps, query, kind, page)
        self.agent_names.learn(listing.events)
        return self._page(request, "events.html", {"listing": listing, "q": query, "kind": kind})

    async def caller(self, request: Request) -> Response:
        given, agent = request.path_params["caller"], request.query_params.get("agent") or None
        caller = views.caller_id_of(self.deps, given)
        if caller != given:
            # A number typed in another format: the page of the caller it names, at its own address.
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(caller_url(caller) + query, status_code=303)
        query = request.query_params.get("q", "").strip()
        view = await run_in_threadpool(views.caller_view, self.deps, caller, agent)
        if view is None:
            dead = events.dead_letters_of(self.deps)
            context = {"caller_id": caller, "dead_letters_readable": dead.readable}
            return self._page(request, "missing.html", context, 404)
        self.agent_names.learn([*view.calls, *view.other_events])
        results: list[str] | None = None
        search_error = None
        if query:
            try:
                results = await run_in_threadpool(views.search, self.deps, caller, query, view.agent_id)
            except MemoryUnavailable as error:
                search_error = str(error)
            except AgentNotNamed:
                search_error = (
                    "Under MEMORY_SCOPE=caller_and_agent a search is with one agent, and this caller has "
                    "no brief with any: open the page with ?agent=<agent_id>."
                )
        context = {
            "view": view,
            "q": query,
            "results": results,
            "search_error": search_error,
            "notice": request.query_params.get("notice", ""),
        }
        return self._page(request, "caller.html", context)

    async def audio(self, request: Request) -> Response:
        caller, conversation = request.path_params["caller"], request.path_params["conversation_id"]
        body = await run_in_threadpool(views.audio_of, self.deps, caller, conversation)
        if body is None:
            return Response("no audio for this call", status_code=404, media_type="text/plain")
        return Response(body, media_type="audio/mpeg", headers={"Cache-Control": "private, no-store"})

    async def rename(self, request: Request) -> Response:
        caller, agent = request.path_params["caller"], request.query_params.get("agent") or None
        form = await _form(request)
        done = await run_in_threadpool(views.rename, self.deps, caller, form.get("name", ""), agent)
        notice = (
            "Name corrected."
            if done
            else "The name was not changed: a name is one to four words of letters, at most 60 "
            "characters, and the caller needs a brief."
        )
        return _back_to(caller, agent, notice)

    async def memory(self, request: Request) -> Response:
        """One memory: edit its text, or delete it (the confirmation the delete needs)."""
        caller, memory_id = request.path_params["caller"], request.path_params["memory_id"]
        record = await run_in_threadpool(views.memory_of, self.deps, caller, memory_id)
        if record is None:
            return _back_to(caller, None, "No such memory of this caller.")
        return self._page(request, "memory.html", {"caller_id": caller, "memory": record})

    async def delete(self, request: Request) -> Response:
        caller, memory_id = request.path_params["caller"], request.path_params["memory_id"]
        form = await _form(request)
        if form.get("confirm") != "delete":
            # Only the confirmation page's button deletes: anything else is asked again.
            return RedirectResponse(f"{caller_url(caller)}/memories/{quote(memory_id, safe='')}", 303)
        done = await run_in_threadpool(views.delete_memory, self.deps, caller, memory_id)
        return _back_to(caller, None, "Memory deleted." if done else "No such memory of this caller.")

    async def edit(self, request: Request) -> Response:
        caller, memory_id = request.path_params["caller"], request.path_params["memory_id"]
        form = await _form(request)
        done = await run_in_threadpool(views.edit_memory, self.deps, caller, memory_id, form.get("text", ""))
        refused = "The memory was not changed (empty, longer than 4,000 characters, or not theirs)."
        return _back_to(caller, None, "Memory changed." if done else refused)

    async def remove_call(self, request: Request) -> Response:
        caller, conversation = request.path_params["caller"], request.path_params["conversation_id"]
        found = await run_in_threadpool(views.call_footprint, self.deps, caller, conversation)
        if found is None:
            return _back_to(caller, None, "No such call of this caller.")
        if request.method == "GET":
            return self._page(request, "remove_call.html", {"caller_id": caller, "found": found})
        form = await _form(request)
        if form.get("confirm") != "remove":
            return self._page(request, "remove_call.html", {"caller_id": caller, "found": found}, 400)
        removed = await run_in_threadpool(views.remove_call, self.deps, found)
        return _back_to(
            caller, None, f"Call {conversation} removed ({removed} archived objects, its memories)."
        )

    async def export(self, request: Request) -> Response:
        caller = request.path_params["caller"]
        exported = await run_in_threadpool(views.export, self.deps, caller)
        if exported is None:
            return Response("nothing is kept about this caller", status_code=404, media_type="text/plain")
        filename, body = exported
        headers = {
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        }
        return Response(body, media_type="application/zip", headers=headers)

    async def forget(self, request: Request) -> Response:
        caller = request.path_params["caller"]
        if request.method == "GET":
            found = await run_in_threadpool(views.footprint, self.deps, caller)
            left = await run_in_threadpool(views.left_by_forget, self.deps, caller)
            return self._page(request, "forget.html", {"caller_id": caller, "found": found, "left": left})
        form = await _form(request)
        if form.get("confirm", "").strip() != caller:
            found = await run_in_threadpool(views.footprint, self.deps, caller)
            left = await run_in_threadpool(views.left_by_forget, self.deps, caller)
            context = {"caller_id": caller, "found": found, "left": left, "mismatch": True}
            return self._page(request, "forget.html", context, 400)
        erased = await run_in_threadpool(views.forget, self.deps, caller)
        notice = f"Forgotten: {caller} ({erased} archived objects and every memory erased)."
        return RedirectResponse(f"{PREFIX}?notice={quote(notice)}", status_code=303)

    def _page(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers={"Cache-Control": "no-store"}
        )


def caller_url(caller_id: str, agent_id: str | None = None) -> str:
    url = f"{PREFIX}/callers/{quote(caller_id, safe='')}"
    return f"{url}?agent={quote(agent_id, safe='')}" if agent_id else url


def _guarded(access: ConsoleAccess, endpoint: Any) -> Any:
    async def guarded(request: Request) -> Response:
        if not access.admits(request):
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                ended = "?ended=expired" if request.cookies.get(COOKIE) else ""
                answer = RedirectResponse(PREFIX + "/login" + ended, status_code=303)
                answer.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
                return answer
            return Response("the console key is required", status_code=401, media_type="text/plain")
        try:
            response: Response = await endpoint(request)
        except UnsafeIdentifier as error:
            return Response(error.detail, status_code=answer_for(error).status, media_type="text/plain")
        return response

    return guarded


def _back_to(caller: str, agent: str | None, notice: str) -> Response:
    url = caller_url(caller, agent)
    return RedirectResponse(f"{url}{'&' if '?' in url else '?'}notice={quote(notice)}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form body (the console's forms), without a multipart parser."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise HTTPException(413, f"the form is larger than {MAX_FORM_BYTES:,} bytes: nothing was changed")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, f"the form is larger than {MAX_FORM_BYTES:,} bytes: nothing was changed")
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default
