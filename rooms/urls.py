from django.urls import path

from rooms import api, views

app_name = "rooms"

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/", views.room_list, name="list"),
    path("r/<slug:slug>/", views.room_detail, name="detail"),
    path("r/<slug:slug>/join/", views.room_join, name="join"),
    path("r/<slug:slug>/leave/", views.room_leave, name="leave"),
    path("api/rooms/<slug:slug>/messages", api.history, name="api_history"),
    path("api/frames", api.frames, name="api_frames"),
    path("api/stream", api.stream, name="api_stream"),
    path("api/poll", api.poll, name="api_poll"),
]
