"""Imports every domain's models so metadata (and Alembic) sees all tables."""

from crm_backend.audit.models import AuditEntry  # noqa: F401
from crm_backend.auth.models import ApiKey, User  # noqa: F401
from crm_backend.campaigns.models import Campaign, CampaignContact  # noqa: F401
from crm_backend.conversations.models import Conversation  # noqa: F401
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag  # noqa: F401
from crm_backend.idempotency.models import IdempotencyRecord  # noqa: F401
from crm_backend.orders.models import Order, OrderItem  # noqa: F401
from crm_backend.products.models import Product  # noqa: F401
from crm_backend.scoring.models import ModelVersion, TrainingJob  # noqa: F401
from crm_backend.tickets.models import Ticket, TicketMessage  # noqa: F401
