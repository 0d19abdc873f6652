"""Bench-only: server-side time and SQL query count per request (enabled by bench.settings)."""

import time
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse

TIMING_HEADER = "Server-Timing"
QUERIES_HEADER = "X-Bench-Queries"


class ServerTimingMiddleware:
    """Outermost middleware: the time covers every other middleware, the view and rendering."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started, cpu_started = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        elapsed_ms = (time.perf_counter() - started) * 1000
        # CPU time of this process (a sync worker serves one request at a time): on a shared
        # machine it says what the request costs when wall time says how busy the machine was.
        cpu_ms = (time.process_time() - cpu_started) * 1000
        response[TIMING_HEADER] = f"app;dur={elapsed_ms:.3f}, cpu;dur={cpu_ms:.3f}"
        response[QUERIES_HEADER] = str(queries)
        return response
