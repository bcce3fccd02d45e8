"""The demo on a database of its own: a rule that acts on committed events, and the chat
demo on a new instance."""

from accord.cli import main
from accord.comms.models import Mailbox


def test_the_demo_rule_makes_a_client_of_a_new_address_that_writes(transactional_db, capsys):
    from accord.comms.services import message_receive
    from accord.contacts.models import Person
    from accord.work.models import Task
    from tests.comms.conftest import mail

    assert main(["demo", "--if-empty"]) == 0
    message_receive(mailbox=Mailbox.objects.get(),
                    raw=mail(sender="Lena Kraus <lena@new.example>", to="sales@example.com",
                             subject="Balcony door"))  # fmt: skip
    lena = Person.objects.get(primary_email="lena@new.example")
    assert Task.objects.filter(person=lena, title__contains="Answer the e-mail").exists()


def test_the_chat_demo_on_a_new_instance_makes_only_the_telegram_leads(db):
    from accord.accounts.services import user_create
    from accord.comms import demo_chats
    from accord.comms.models import Conversation, Messenger

    demo_chats.populate()  # nobody to act as: nothing
    assert not Messenger.objects.exists()
    user_create(email="first@example.com", password="x" * 12, role="administrator",
                full_name="First Admin", check_password=False)  # fmt: skip
    demo_chats.populate()
    assert Messenger.objects.count() == 3
    assert set(Conversation.objects.values_list("channel", flat=True)) == {"telegram"}
