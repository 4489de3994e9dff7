"""The single-customer view, duplicate candidates, merging and undoing a merge.

This module never imports ``tickets``: conversations reach the page through the timeline
sources and profile figures that ``tickets`` registers.
"""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from supportdesk.access import permission_required

from .forms import MergeForm, TimelineFilterForm
from .merge import (
    SURVIVOR,
    customer_merge,
    customer_merge_undo,
    merge_candidates,
    merge_field_defaults,
    merge_preview,
    merge_survivor_suggested,
    merge_undo_blocker,
)
from .models import Customer, CustomerMerge
from .selectors import customer_get, customer_merges, customer_profile
from .services import profile_view_record
from .timeline import timeline_for_customer, timeline_sources


def _customer_or_404(customer_id: int) -> Customer:
    try:
        return customer_get(customer_id=customer_id)
    except Customer.DoesNotExist:
        raise Http404("No such customer.") from None


@require_GET
@permission_required("customers.view_customer")
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(customer_id)
    filters = TimelineFilterForm(request.GET, kinds=timeline_sources.kinds())
    kinds, channel, cursor = filters.values()
    if request.htmx and request.htmx.target == "timeline":
        # Filtering or paging the timeline in place: part of a page view already audited.
        page = timeline_for_customer(customer=customer, kinds=kinds, channel=channel, cursor=cursor)
        return render(
            request, "customers/partials/timeline.html", {"customer": customer, "timeline": page, "filters": filters}
        )
    profile_view_record(customer=customer, actor=request.user)
    profile = customer_profile(customer=customer)
    page = timeline_for_customer(
        customer=customer, kinds=kinds, channel=channel, cursor=cursor, allowed_purposes=profile.allowed_purposes
    )
    merges = customer_merges(customer=customer)
    context = {
        "profile": profile,
        "customer": customer,
        "timeline": page,
        "filters": filters,
        "merges": [(merge, merge_undo_blocker(merge)) for merge in merges],
    }
    return render(request, "customers/detail.html", context)


@require_GET
@permission_required("customers.view_customer")
def customer_duplicates(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Merge candidates with their evidence, loaded after the page (a few bounded queries).

    ``?beside=ticket`` is the ticket page's version: a warning section when there are
    candidates, nothing at all when there are none.
    """
    customer = get_object_or_404(Customer, pk=customer_id)
    candidates = merge_candidates(customer=customer)
    beside_ticket = request.GET.get("beside") == "ticket"
    if beside_ticket and not candidates:
        return HttpResponse("")
    context = {
        "customer": customer,
        "candidates": candidates,
        "can_merge": request.user.has_perm("customers.merge_customer"),
        "beside_ticket": beside_ticket,
    }
    return render(request, "customers/partials/duplicates.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("customers.view_customer", "customers.merge_customer")
def customer_merge_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Merge another customer (``?with=<id>``) with this one: the agent chooses the survivor
    and, field by field, whose value it keeps."""
    this = get_object_or_404(Customer, pk=customer_id)
    other_id = request.GET.get("with") or request.POST.get("with") or ""
    if not other_id.isdigit() or int(other_id) == this.pk:
        return render(request, "customers/merge.html", {"customer": this, "missing": True}, status=400)
    other = Customer.objects.filter(pk=int(other_id)).first()
    if other is None:
        context = {"customer": this, "missing": True, "not_found": other_id}
        return render(request, "customers/merge.html", context, status=404)
    keep_this = merge_survivor_suggested(first=this, second=other) == this
    survivor, merged = (this, other) if keep_this else (other, this)
    defaults = {
        name: ("this" if keep_this else "other") if side == SURVIVOR else ("other" if keep_this else "this")
        for name, side in merge_field_defaults(survivor=survivor, merged=merged).items()
    }
    form = MergeForm(
        request.POST or None, this=this, other=other, defaults=defaults, survivor="this" if keep_this else "other"
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                merge = customer_merge(actor=request.user, **form.merge_arguments())
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                flash.success(
                    request,
                    f"Merged {merge.merged.display_name} (#{merge.merged_id}) into this customer. "
                    "You can undo it below.",
                )
                return redirect("customers:detail", customer_id=merge.survivor_id)
        status = 400
    candidate = next((c for c in merge_candidates(customer=this, limit=50) if c.customer.pk == other.pk), None)
    context = {
        "customer": this,
        "other": other,
        "form": form,
        "evidence": candidate.evidence if candidate else [],
        "moves": {"this": merge_preview(merged=this), "other": merge_preview(merged=other)},
        "blocked": this.merged_into_id or other.merged_into_id or this.erased or other.erased,
    }
    return render(request, "customers/merge.html", context, status=status)


@require_POST
@permission_required("customers.view_customer", "customers.merge_customer")
def customer_merge_undo_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    merge_id = request.POST.get("merge", "")
    merge = (
        CustomerMerge.objects.select_related("survivor", "merged")
        .filter(Q(survivor_id=customer_id) | Q(merged_id=customer_id), pk=int(merge_id) if merge_id.isdigit() else 0)
        .first()
    )
    if merge is None:
        flash.error(request, "Choose a merge of this customer to undo.")
        return redirect("customers:detail", customer_id=customer_id)
    try:
        customer_merge_undo(merge=merge, actor=request.user)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    else:
        flash.success(
            request, f"Merge undone: {merge.merged.display_name} (#{merge.merged_id}) is a separate customer again."
        )
    return redirect("customers:detail", customer_id=customer_id)
