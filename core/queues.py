"""Task queue names by urgency (plain constants: the settings import them).

- `realtime`: someone is waiting. Inbound webhook processing, outbound sends, proof write-backs.
- `default`: reactions that may take a few seconds (rules, SLA checks, outbound webhooks, CSAT).
- `bulk`: long jobs nobody watches. Embeddings, catalog and customer syncs, exports, prunes.

Production runs `db_worker --queue-name <queue>` per queue and `manage.py runserver_embedded`
one worker thread per queue (docs/deploy.md), so no worker of `realtime` ever takes a bulk job
and a catalog re-embed never delays a customer's message.
"""

REALTIME = "realtime"
DEFAULT = "default"
BULK = "bulk"
QUEUES = [REALTIME, DEFAULT, BULK]
