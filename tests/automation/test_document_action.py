"""The "make a document" step: a deal won makes its contract through the documents'
own service — numbered, on the deal's history by the rule — and a rule naming a template
no longer in use is refused with a reason."""

import pytest
from django.core.exceptions import ValidationError

from accord.automation.models import Run
from accord.documents.models import Document, DocumentTemplate
from accord.documents.services.templates import template_retire
from accord.sales.services import deal_create, deal_win
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def contract():
    return DocumentTemplate.objects.get(shipped="contract")


def test_a_won_deal_gets_its_contract_made(owner, stages, rule_for):
    rule_for(
        name="Contract on winning",
        trigger="won",
        actions=[
            {"type": "generate_document", "params": {"template": contract().pk, "language": "ru"}}
        ],
    )
    deal = deal_create(actor=owner, data={"title": "12 windows", "amount": "4800"})
    deal_win(actor=owner, deal=deal)
    document = Document.objects.get(deal=deal)
    assert (document.kind.code, document.language) == ("contract", "ru")
    assert Run.objects.get().steps.get().status == "done"
    run_worker()
    document.refresh_from_db()
    assert document.state == Document.READY


def test_a_rule_naming_a_template_no_longer_offered_is_refused(admin, stages, rule_for):
    template_retire(actor=admin, template=contract())
    with pytest.raises(ValidationError) as refused:
        rule_for(
            name="Contract",
            trigger="won",
            actions=[{"type": "generate_document", "params": {"template": contract().pk}}],
        )
    assert "Choose a document template in use." in str(refused.value)
