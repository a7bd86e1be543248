from django.urls import path

from rooms import api, direct_views, member_views, moderation_views, views

app_name = "rooms"

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/", views.room_list, name="list"),
    path("r/<slug:slug>/", views.room_detail, name="detail"),
    path("r/<slug:slug>/join/", views.room_join, name="join"),
    path("r/<slug:slug>/leave/", views.room_leave, name="leave"),
    path("r/<slug:slug>/members/", member_views.members, name="members"),
    path("r/<slug:slug>/members/add/", member_views.member_add, name="member_add"),
    path(
        "r/<slug:slug>/members/<int:user_id>/remove/",
        member_views.member_remove,
        name="member_remove",
    ),
    path(
        "r/<slug:slug>/members/<int:user_id>/role/",
        member_views.member_role,
        name="member_role",
    ),
    path(
        "r/<slug:slug>/members/<int:user_id>/mute/",
        moderation_views.member_mute,
        name="member_mute",
    ),
    path(
        "r/<slug:slug>/members/<int:user_id>/unmute/",
        moderation_views.member_unmute,
        name="member_unmute",
    ),
    path(
        "r/<slug:slug>/members/<int:user_id>/ban/",
        moderation_views.member_ban,
        name="member_ban",
    ),
    path(
        "r/<slug:slug>/bans/<int:user_id>/lift/",
        moderation_views.member_unban,
        name="member_unban",
    ),
    path(
        "r/<slug:slug>/messages/<int:message_id>/delete/",
        moderation_views.message_delete,
        name="message_delete",
    ),
    path(
        "r/<slug:slug>/messages/<int:message_id>/report/",
        moderation_views.message_report,
        name="message_report",
    ),
    path("r/<slug:slug>/invites/", member_views.invite_create, name="invite_create"),
    path(
        "r/<slug:slug>/invites/<int:invite_id>/revoke/",
        member_views.invite_revoke,
        name="invite_revoke",
    ),
    path("invite/<str:token>/", member_views.invite_accept, name="invite_accept"),
    path("dm/", direct_views.dm_new, name="dm_new"),
    path("api/users", direct_views.users, name="api_users"),
    path("api/rooms/<slug:slug>/messages", api.history, name="api_history"),
    path("api/rooms/<slug:slug>/members", api.members, name="api_members"),
    path("api/frames", api.frames, name="api_frames"),
    path("api/stream", api.stream, name="api_stream"),
    path("api/poll", api.poll, name="api_poll"),
    path("api/presence", api.presence, name="api_presence"),
]
