"""Custom actions of the support assistant. They reach the CRM over its HTTP API (actions.crm)
and keep what the CRM could not take yet in a durable outbox (actions.outbox)."""

import logging
import os

from actions import outbox

logging.getLogger(__name__).setLevel(logging.INFO)

# The action server imports this package once; tests that import single modules opt out.
if os.environ.get("OUTBOX_WORKER", "1") != "0":
    outbox.start_worker()
