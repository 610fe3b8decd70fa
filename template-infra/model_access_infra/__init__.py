"""model-access as Pulumi components: `ModelAccess` (the whole stack, typed by
`ModelAccessArgs` and `StackConfig`) and the building blocks it is made of, one
ComponentResource per concern. `template-infra/__main__.py` is the ready-made program.
"""

from model_access_infra.functions import Functions, FunctionsArgs
from model_access_infra.hub import HubBus, HubBusArgs
from model_access_infra.observability import Observability, ObservabilityArgs
from model_access_infra.org import OrganizationSpokes, OrganizationSpokesArgs
from model_access_infra.queue import EventQueue, EventQueueArgs
from model_access_infra.routing import EventRouting, EventRoutingArgs
from model_access_infra.schedule import BackfillSchedule, BackfillScheduleArgs
from model_access_infra.stack import ModelAccess, ModelAccessArgs
from model_access_infra.stack_config import StackConfig
from model_access_infra.table import GrantTable, GrantTableArgs
from model_access_infra.trail import CloudTrailFeed, CloudTrailFeedArgs

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
    "HubBus",
    "HubBusArgs",
    "ModelAccess",
    "ModelAccessArgs",
    "Observability",
    "ObservabilityArgs",
    "OrganizationSpokes",
    "OrganizationSpokesArgs",
    "StackConfig",
]
