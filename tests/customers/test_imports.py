"""CSV imports: good rows land, every bad row is reported with line, field and reason, and a
re-run changes nothing."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.imports import CsvFileError, customers_import, orders_import
from customers.models import ConsentRecord, ContactPoint, Customer, Order, OrderLine
from tests.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = """email,phone,first_name,last_name,locale,timezone,country,consent_marketing
maria@example.com,+34 600 111 222,Maria,Lopez,es,Europe/Madrid,ES,yes
bad-email,,Bad,Row,en,UTC,GB,
jurgen@example.de,,Jürgen,Müller,de,Europe/Berlin,DE,no
lee@example.com,,Lee,,xx,UTC,US,
nora@example.com,,Nora,"Jones, Jr.",en,Mars/Olympus,US,
,,Nobody,,en,UTC,,
ana@example.com,,Ana,,en,UTC,ES,maybe
"""

ORDERS = """\
order_id,source,number,email,first_name,placed_at,status,currency,total,promised_delivery,item,sku,product_id,\
quantity,unit_price
A1,shop,1001,maria@example.com,Maria,2026-10-01T10:00:00Z,paid,EUR,89.90,2026-10-05,Walking boots,WB-39,P1,1,79.90
A1,shop,1001,maria@example.com,Maria,2026-10-01T10:00:00Z,paid,EUR,89.90,2026-10-05,Socks,SK-1,P2,2,5.00
A2,shop,1002,lee@example.com,Lee,2026-10-02,shipped,EUR,abc,,Hat,HT-1,,1,10
A3,shop,1003,lee@example.com,Lee,2026-10-03,lost,EUR,10.00,,Scarf,,,0,10
A4,shop,1004,new@example.com,New,2026-10-04,pending,USD,25.00,,Gloves,GL-1,,1,25
,shop,1005,x@example.com,X,2026-10-04,paid,EUR,1,,Thing,,,1,1
A5,shop,1006,five@example.com,Five,2026-10-05,paid,EUR,20.00,,Mug,,,1,20
A5,shop,1006,five@example.com,Five,2026-10-05,paid,EUR,25.00,,Cup,,,1,5
"""


class TestCustomerImport:
    def test_good_rows_land_and_bad_rows_are_reported_with_line_field_reason(self):
        report = customers_import(data=CUSTOMERS.encode())

        assert report.created == 2
        assert {(e.line, e.field) for e in report.errors} == {
            (3, "email"),
            (5, "locale"),
            (6, "timezone"),
            (7, "email"),
            (8, "consent_marketing"),
        }
        assert all(e.reason for e in report.errors)
        maria = ContactPoint.objects.get(value="maria@example.com").customer
        assert (maria.first_name, maria.locale, maria.timezone, maria.country) == ("Maria", "es", "Europe/Madrid", "ES")
        assert maria.contact_points.filter(channel="phone", value="+34600111222").exists()
        assert ConsentRecord.objects.get(customer=maria).source == "import"

    def test_a_bad_consent_column_does_not_hide_the_row_s_other_bad_fields(self):
        data = b"email,timezone,consent_marketing\nnot-an-address,UTC,maybe\nok@example.com,UTC,maybe\n"

        report = customers_import(data=data)

        assert [(e.line, e.field) for e in report.errors] == [
            (2, "consent_marketing"),
            (2, "email"),
            (3, "consent_marketing"),
        ]
        assert not Customer.objects.exists()  # a row with any bad field stores nothing

    def test_rerunning_the_same_file_changes_nothing(self):
        customers_import(data=CUSTOMERS.encode())
        counts = (Customer.objects.count(), ContactPoint.objects.count(), ConsentRecord.objects.count())

        again = customers_import(data=CUSTOMERS.encode())

        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        assert (Customer.objects.count(), ContactPoint.objects.count(), ConsentRecord.objects.count()) == counts

    def test_an_existing_customer_is_updated_not_duplicated(self):
        known = CustomerFactory(first_name="M", last_name="L", country="ES")
        ContactPointFactory(customer=known, value="maria@example.com")

        report = customers_import(data=b"email,first_name\nMARIA@example.com,Maria\n")

        assert (report.created, report.updated) == (0, 1)
        known.refresh_from_db()
        assert known.first_name == "Maria"

    def test_semicolons_and_a_windows_1252_file_are_read(self):
        data = "email;first_name\njose@example.com;José\n".encode("cp1252")

        report = customers_import(data=data)

        assert report.created == 1
        assert Customer.objects.get().first_name == "José"

    def test_a_file_without_contact_columns_is_refused(self):
        with pytest.raises(CsvFileError):
            customers_import(data=b"name\nx\n")


class TestOrderImport:
    def test_orders_with_lines_land_and_bad_rows_are_reported(self):
        report = orders_import(data=ORDERS.encode())

        assert report.created == 2
        assert {(e.line, e.field) for e in report.errors} == {
            (4, "total"),
            (5, "status"),
            (5, "quantity"),
            (7, "order_id"),
            (9, "total"),
        }
        order = Order.objects.get(source="shop", external_id="A1")
        assert (order.number, order.total, str(order.promised_delivery)) == ("1001", Decimal("89.90"), "2026-10-05")
        assert list(order.lines.values_list("name", "quantity")) == [("Walking boots", 1), ("Socks", 2)]
        assert Order.objects.get(external_id="A4").currency == "USD"
        assert not Order.objects.filter(external_id__in=["A2", "A3", "A5"]).exists()

    def test_rerunning_the_same_file_changes_nothing(self):
        orders_import(data=ORDERS.encode())
        before = list(Order.objects.values_list("id", "updated_at"))
        lines = OrderLine.objects.count()

        again = orders_import(data=ORDERS.encode())

        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        assert list(Order.objects.values_list("id", "updated_at")) == before
        assert OrderLine.objects.count() == lines

    def test_a_file_without_required_columns_is_refused(self):
        with pytest.raises(CsvFileError, match="placed_at"):
            orders_import(data=b"order_id,email\n1,a@example.com\n")


class TestCommands:
    def test_import_customers_prints_a_summary_and_each_error(self, tmp_path, capsys):
        path = tmp_path / "customers.csv"
        path.write_text(CUSTOMERS, encoding="utf-8")

        with pytest.raises(SystemExit) as exit_info:
            call_command("import_customers", str(path))

        captured = capsys.readouterr()
        assert exit_info.value.code == 1
        assert "2 created, 0 updated, 0 unchanged, 5 error(s)" in captured.out
        assert "line 5: locale:" in captured.err
        assert "customers: 100%" in captured.err  # the progress bar

    def test_import_orders_clean_file_exits_zero(self, tmp_path, capsys):
        path = tmp_path / "orders.csv"
        path.write_text("\n".join(ORDERS.splitlines()[:3]) + "\n", encoding="utf-8")

        call_command("import_orders", str(path), "--no-progress")

        assert "1 created" in capsys.readouterr().out
