"""The shared kernel: the bottom layer every app may import and that imports no app.

Errors, view decorators, rate limiting and client addresses, publishing to WebSocket groups and
the domain-event bus live here, so that no app needs the project shell (`helpdesk/`).
"""
