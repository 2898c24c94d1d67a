"""The ops console: one web page for the people who run Trip Desk, put together from each service's own HTTP API
(``/v1/ops/*`` and the services' lists), never from their databases.

- **What is stuck**: events a service could not publish (parked, held), messages a consumer gave up on (dead
  letters), messages that failed for good, urgent news nobody read in time, bookings still unconfirmed close to the
  service, incidents nobody acknowledged in time — with the actions that settle them: replay a dead letter after a
  fix, publish a parked event again, retry a failed delivery.
- **One trip's chain**: every event the services announced about the trip, in order, who handled each (and who
  has not yet), what went to a dead-letter queue, and every delivery it led to, each with its trace id, linked to
  the trace store (``TRACE_UI_URL``: Jaeger in compose) or, under ``make up``, to the console's own span view: it
  then receives the services' spans itself (OTLP/HTTP on ``/v1/traces``).

The operator signs in with their agency's API key (``ops:read``; the actions need ``ops:write`` and
``notifications:write``); the console keeps it only in the browser's cookie and calls the services with it, so a
key sees exactly what it sees on the services' APIs.
"""
