"""The inbox with odd query values: a team id that is not a plain number, or beyond any id."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import TeamFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    agent = UserFactory()
    agent.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(agent)
    return client


@pytest.mark.parametrize("team", ["\u00b2", "\u0661", "99999999999999999999"])
def test_a_team_that_is_no_plain_id_is_the_open_view_not_an_error(agent_client, team):
    # "²".isdigit() is true and int() refuses it; an id beyond 64 bits overflows SQLite.
    TicketFactory(team=TeamFactory(), subject="Parcel never came")
    for extra in ("", "&channel=email"):
        response = agent_client.get(f"/?view=team&team={team}{extra}")
        assert response.status_code == 200
        assert "Parcel never came" in response.content.decode()  # the open view instead
