from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from supportdesk.access import permission_required
from tickets.selectors import customer_tickets

from .models import Customer
from .selectors import customer_profile
from .services import profile_view_record


@permission_required("customers.view_customer")
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    profile_view_record(customer=customer, actor=request.user)
    return render(
        request,
        "customers/detail.html",
        {
            "profile": customer_profile(customer=customer),
            "tickets": customer_tickets(customer_id=customer.pk),
        },
    )
