from django.urls import path

from oneforone.accounts import views

urlpatterns = [
    path("team/", views.team, name="team"),
    path("team/invite", views.invite, name="team-invite"),
    path("team/members/<int:pk>/role", views.change_role, name="team-member-role"),
    path("team/members/<int:pk>/remove", views.remove_member, name="team-member-remove"),
    path(
        "team/invitations/<int:pk>/revoke",
        views.revoke_invitation,
        name="team-invitation-revoke",
    ),
    path("invitations/<str:token>/", views.accept_invitation, name="accept-invitation"),
]
