"""Every write about people and companies, by topic; callers import from here.

Every function checks the actor's right to change clients, validates the whole input
before writing anything, records the change on the timeline and indexes the record
for search, all in one transaction; domain events go out after commit.
"""

from accord.contacts.services.batch import (
    DUPLICATE_KEYS,
    ClientBatches,
    clients_batch_check,
    clients_batch_duplicates,
    clients_batch_save,
)
from accord.contacts.services.batch_undo import clients_batch_undo
from accord.contacts.services.bulk import clients_bulk_assign, clients_bulk_delete, clients_bulk_tag
from accord.contacts.services.clients import (
    client_contacted,
    client_delete,
    clients_contacted,
    contacts_gathered,
    note_add,
)
from accord.contacts.services.common import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    RECORD_TYPE,
    announce_deleted,
    can_change,
    kind_of,
    reindex,
    require_write,
    save_changed,
    search_parts,
    snapshot,
)
from accord.contacts.services.companies import company_create, company_update
from accord.contacts.services.merge import clients_merge
from accord.contacts.services.people import (
    LEAD_HANDOVER,
    hand_over_lead,
    person_consent_confirm,
    person_create,
    person_deal_won,
    person_erase,
    person_hand_over,
    person_unsubscribe,
    person_update,
)
from accord.contacts.services.points import refresh_primary
from accord.contacts.services.segments import SEGMENT_CHECKS, segment_delete, segment_save
from accord.contacts.services.tags import set_tags, tag_named

__all__ = [
    "COMPANY_FIELDS",
    "DUPLICATE_KEYS",
    "LEAD_HANDOVER",
    "PERSON_FIELDS",
    "RECORD_TYPE",
    "SEGMENT_CHECKS",
    "ClientBatches",
    "announce_deleted",
    "can_change",
    "client_contacted",
    "client_delete",
    "clients_batch_check",
    "clients_batch_duplicates",
    "clients_batch_save",
    "clients_batch_undo",
    "clients_bulk_assign",
    "clients_bulk_delete",
    "clients_bulk_tag",
    "clients_contacted",
    "clients_merge",
    "company_create",
    "company_update",
    "contacts_gathered",
    "hand_over_lead",
    "kind_of",
    "note_add",
    "person_consent_confirm",
    "person_create",
    "person_deal_won",
    "person_erase",
    "person_hand_over",
    "person_unsubscribe",
    "person_update",
    "refresh_primary",
    "reindex",
    "require_write",
    "save_changed",
    "search_parts",
    "segment_delete",
    "segment_save",
    "set_tags",
    "snapshot",
    "tag_named",
]
