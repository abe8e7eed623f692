"""Execution: the same decision pipeline inline, in a local worker pool, from Redis Streams
consumer groups, and as a Ray job for archive backfills.

    sources   JSONL files/folders, HTTP ingest handler, Redis Streams producer
    core      Envelope -> Processor.process -> Outcome (parse, intake, decide, commit)
    ledger    processed-event ledger (idempotency key) and dead-letter store
    runners   inline and local process pool with a bounded queue (backpressure)
    streams   Redis Streams consumer-group worker (ack after commit, XAUTOCLAIM)
    backfill  rescans of stored archives, plain loop or Ray actors
    metrics   Prometheus text exposition
    demo      the bundled reply-thread stream behind `gardefou demo`
"""

from gardefou.events import parse_event  # the one event parser, re-exported for callers
from gardefou.pipeline.core import Envelope, Outcome, Processor
from gardefou.pipeline.deciders import Decider, PipelineEvent, load_decider
from gardefou.pipeline.ledger import PipelineLedger
from gardefou.pipeline.metrics import Metrics

__all__ = [
    "Decider",
    "Envelope",
    "Metrics",
    "Outcome",
    "PipelineEvent",
    "PipelineLedger",
    "Processor",
    "load_decider",
    "parse_event",
]
