"""The stack's building blocks, one ComponentResource per concern (see ../__main__.py)."""

from components.functions import Functions, FunctionsArgs
from components.observability import Observability, ObservabilityArgs
from components.queue import EventQueue, EventQueueArgs
from components.routing import EventRouting, EventRoutingArgs
from components.schedule import BackfillSchedule, BackfillScheduleArgs
from components.table import GrantTable, GrantTableArgs
from components.trail import CloudTrailFeed, CloudTrailFeedArgs

__all__ = [
    "BackfillSchedule",
    "BackfillScheduleArgs",
    "CloudTrailFeed",
    "CloudTrailFeedArgs",
    "EventQueue",
    "EventQueueArgs",
    "EventRouting",
    "EventRoutingArgs",
    "Functions",
    "FunctionsArgs",
    "GrantTable",
    "GrantTableArgs",
    "Observability",
    "ObservabilityArgs",
]
