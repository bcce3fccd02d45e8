"""Documents: python -m bench.documents [--documents 1000] [--clients 20] [--engines ...].

On a database of its own per engine (a deal of ten line items, its client and company,
our company's details), measures, one JSON line per figure:

- ask: the deal card's "Make the document" (an htmx POST through Django's test client,
  logged in as the deal's manager) — the document numbered and stored, its PDF queued —
  median and p95 of `--asks` requests, target ≤ 100 ms;
- make: one worker making the PDFs of `--documents` queued invoices (the task the queue
  runs, one after another, in one process: templates compiled and fonts read once),
  target ≥ 10 a second;
- numbers: `--clients` threads issuing `--documents` invoices at once, each in its own
  transaction: every number once, none skipped (issue #19, on PostgreSQL);
- invoice issue: the invoice page's "Issue" on a draft from the deal (a POST through the
  test client: numbered, frozen, its PDF queued), median and p95, target ≤ 100 ms;
- invoice numbers: `--clients` threads each drafting invoices from the deal and issuing
  them (billing's services), `--documents` in all: every number once, none skipped.

`--figures` (a comma-separated list of ask, make, numbers, invoices; all by default)
measures only those: `--figures make --documents 200` times the PDFs in about a minute.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from decimal import Decimal

from bench import databases
from bench.imports import emit

TARGET_ASK_MS, TARGET_RATE = 100, 10
FIGURES = ("ask", "make", "numbers", "invoices")


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--asks", type=int, default=100)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--figures", default=",".join(FIGURES), type=figures)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.inside:
        return inside(args)
    options = [
        "--documents",
        str(args.documents),
        "--asks",
        str(args.asks),
        "--clients",
        str(args.clients),
        "--figures",
        ",".join(args.figures),
    ]
    return databases.run_inside("bench.documents", options, args.engines, args.keep)


def figures(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = set(chosen) - set(FIGURES)
    if unknown:
        raise argparse.ArgumentTypeError(f"no such figure: {', '.join(sorted(unknown))}")
    return chosen


def load() -> float:
    return round(os.getloadavg()[0], 2)


def inside(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accord.documents.models import DocumentTemplate

    call_command("migrate", interactive=False, verbosity=0)
    manager, deal = setup()
    invoice = DocumentTemplate.objects.get(shipped="invoice")
    vendor = connection.vendor
    client = Client()
    client.force_login(manager)
    if "ask" in args.figures:
        ask(args, client, deal, invoice, vendor)
    if "make" in args.figures:
        make(args, manager, deal, invoice, vendor)
    if "numbers" in args.figures:
        numbered_at_once(args, manager, deal, invoice, vendor)
    if "invoices" in args.figures:
        invoices(args, client, manager, deal, vendor)
    return 0


def ask(args, client, deal, invoice, vendor) -> None:
    """The deal card's "Make the document", through the test client."""
    url = f"/documents/deal/{deal.pk}/"
    client.post(url, {"template": invoice.pk, "language": "ru"}, headers={"HX-Request": "true"})
    times, before = [], load()
    for _ in range(args.asks):
        started = time.perf_counter()
        answer = client.post(
            url, {"template": invoice.pk, "language": "ru"}, headers={"HX-Request": "true"}
        )
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    emit(
        "document ask",
        db=vendor,
        requests=len(times),
        median_ms=round(statistics.median(times), 1),
        p95_ms=round(p95, 1),
        target_ms=TARGET_ASK_MS,
        ok=p95 <= TARGET_ASK_MS,
        load=[before, load()],
    )


def make(args, manager, deal, invoice, vendor) -> None:
    """`--documents` queued invoices' PDFs, by one worker process and then by two."""
    from django_tasks_db.models import DBTaskResult

    from accord.documents.models import Document
    from accord.documents.services.documents import document_generate, document_make

    Document.objects.all().delete()
    DBTaskResult.objects.all().delete()
    for _ in range(args.documents):
        document_generate(actor=manager, deal=deal, template=invoice, language="ru")
    ids = list(Document.objects.order_by("pk").values_list("pk", flat=True))
    for workers in (1, 2):
        Document.objects.filter(pk__in=ids).update(state=Document.PENDING, pdf="")
        before = load()
        started = time.perf_counter()
        cpu = make_all(ids, workers, document_make)
        seconds = time.perf_counter() - started
        ready = Document.objects.filter(state=Document.READY).count()
        rate = ready / seconds if seconds else 0
        emit(
            "document make",
            db=vendor,
            workers=workers,
            documents=len(ids),
            ready=ready,
            seconds=round(seconds, 1),
            per_s=round(rate, 1),
            cpu_ms_per_document=round(1000 * cpu / max(ready, 1), 1),
            pdf_kb=pdf_kb(ids),
            target_per_s=TARGET_RATE,
            ok=rate >= TARGET_RATE and ready == len(ids),
            load=[before, load()],
        )


def pdf_kb(ids: list[int]) -> float:
    """The median size of the PDFs made: faster must not mean heavier."""
    from accord.documents.models import Document

    sizes = [d.pdf.size for d in Document.objects.filter(pk__in=ids).exclude(pdf="")]
    return round(statistics.median(sizes) / 1024, 1) if sizes else 0.0


def numbered_at_once(args, manager, deal, invoice, vendor) -> None:
    """`--clients` threads issuing `--documents` invoices at once: every number once."""
    from django.db import connection

    from accord.documents.models import Document
    from accord.documents.services.documents import document_generate

    Document.objects.all().delete()
    numbers, problems = [], []
    share = args.documents // args.clients

    def issue():
        try:
            for _ in range(share):
                numbers.append(
                    document_generate(
                        actor=manager, deal=deal, template=invoice, language="en"
                    ).number
                )
        except Exception as error:
            problems.append(repr(error))
        finally:
            connection.close()

    before = load()
    seconds = at_once(args.clients, issue)
    counted = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    year = Document.objects.values_list("issued_on__year", flat=True).first()
    emit(
        "document numbers",
        db=vendor,
        clients=args.clients,
        issued=len(numbers),
        distinct=len(set(numbers)),
        gapless=counted == list(range(counted[0], counted[0] + len(counted))) if counted else False,
        first=f"{counted[0] if counted else None}",
        year=year,
        problems=problems[:3],
        seconds=round(seconds, 1),
        ok=not problems and len(set(numbers)) == len(numbers) == share * args.clients,
        load=[before, load()],
    )


def invoices(args, client, manager, deal, vendor) -> None:
    """The invoice page's "Issue", and billing's invoices issued by many at once."""
    from django.db import connection

    from accord.billing.models import Invoice
    from accord.billing.services import invoice_from_deal, invoice_issue

    drafts = [invoice_from_deal(actor=manager, deal=deal).pk for _ in range(args.asks + 1)]
    client.post(f"/money/invoices/{drafts.pop()}/issue/")  # the first request warms up
    times, before = [], load()
    for draft in drafts:
        started = time.perf_counter()
        answer = client.post(f"/money/invoices/{draft}/issue/")
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 302, answer.status_code
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    emit("invoice issue", db=vendor, requests=len(times),
         median_ms=round(statistics.median(times), 1), p95_ms=round(p95, 1),
         target_ms=TARGET_ASK_MS, ok=p95 <= TARGET_ASK_MS, load=[before, load()])  # fmt: skip

    Invoice.objects.all().delete()
    numbers, problems = [], []
    share = args.documents // args.clients

    def issue():
        try:
            for _ in range(share):
                draft = invoice_from_deal(actor=manager, deal=deal)
                numbers.append(invoice_issue(actor=manager, invoice=draft).number)
        except Exception as error:
            problems.append(repr(error))
        finally:
            connection.close()

    before = load()
    seconds = at_once(args.clients, issue)
    counted = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    emit(
        "invoice numbers",
        db=vendor,
        clients=args.clients,
        issued=len(numbers),
        distinct=len(set(numbers)),
        gapless=counted == list(range(counted[0], counted[0] + len(counted))) if counted else False,
        problems=problems[:3],
        seconds=round(seconds, 1),
        per_s=round(len(numbers) / seconds, 1) if seconds else 0,
        ok=not problems and len(set(numbers)) == len(numbers) == share * args.clients,
        load=[before, load()],
    )


def at_once(clients: int, work) -> float:
    """`work` run by `clients` threads at the same moment; answers the seconds it took."""
    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def make_all(ids: list[int], workers: int, make) -> float:
    """The PDFs of `ids` made by `workers` processes (as `accord worker` processes would
    share the queue), each its own share; answers the CPU seconds they took."""
    from django.db import connections

    if workers == 1:
        cpu = time.process_time()
        for document_id in ids:
            make(document_id)
        return time.process_time() - cpu
    connections.close_all()  # each child opens its own
    children = []
    for n in range(workers):
        pid = os.fork()
        if pid == 0:  # the child: its share, then out without the parent's clean-up
            try:
                for document_id in ids[n::workers]:
                    make(document_id)
            finally:
                os._exit(0)
        children.append(pid)
    cpu = 0.0
    for pid in children:
        _pid, _status, usage = os.wait4(pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def setup():
    from accord.accounts.services import user_create
    from accord.contacts.services import company_create, person_create
    from accord.core.models import CompanyProfile
    from accord.sales.services import deal_create, line_item_save

    profile = CompanyProfile.objects.filter(pk=1).first() or CompanyProfile(pk=1)
    profile.name, profile.address, profile.tax_id = "Okna Plus LLC", "Moscow", "7701234567"
    profile.bank_details = "Account 40702810000000000001\nBIC 044525225"
    profile.save()
    CompanyProfile.forget()
    manager = user_create(
        email="documents.bench@example.com",
        password="bench-Docs-2026!",  # noqa: S106
        role="manager",
        full_name="Olivia Owner",
    )
    company = company_create(actor=manager, data={"name": "Пекарня «Роза»"})
    person = person_create(
        actor=manager,
        data={
            "first_name": "Анна",
            "last_name": "Петрова",
            "company": company,
            "address": "ул. Ленина, 5",
        },
    )
    deal = deal_create(
        actor=manager,
        data={"title": "Окна для пекарни", "person": person, "company": company, "currency": "RUB"},
    )
    for n in range(10):
        line_item_save(
            actor=manager,
            deal=deal,
            data={
                "name": f"Окно {100 + n * 10}×140",
                "quantity": n + 1,
                "unit_price": Decimal("15000") + n,
                "tax_percent": Decimal("20"),
            },
        )
    deal.refresh_from_db()
    return manager, deal


if __name__ == "__main__":
    sys.exit(main())
