from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Plug the tickets app into the customers app's extension points; customers never
        # imports tickets (see DESIGN.md, "Shape of the code").
        from customers.merge import fk_mover, merge_mover_register, merge_order_mentions_register
        from customers.selectors import profile_figures_register
        from customers.timeline import timeline_sources

        from . import selectors
        from .csat_timeline import CSAT_SOURCE
        from .models import ChatSession, Ticket

        for source in [*selectors.TIMELINE_SOURCES, CSAT_SOURCE]:
            timeline_sources.register(source)
        profile_figures_register("tickets", selectors.customer_ticket_figures)
        merge_order_mentions_register("tickets", selectors.order_mentions)
        merge_mover_register(fk_mover(name="tickets", label="conversations", model=Ticket))
        merge_mover_register(fk_mover(name="chat_sessions", label="chat sessions", model=ChatSession))

        from . import privacy

        privacy.register()

        from . import suggestion_rules

        suggestion_rules.register()
